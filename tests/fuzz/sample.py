"""Sample data the fuzzer finds in place, so that schema-valid requests reach real code (a known
student, batch, certificate, photo) instead of stopping at a 404.

The identifiers are fixed so `tests/fuzz/schemathesis.toml` can name them in its dictionaries; the
graduation batch is this year's December one (its application round holds today, whatever the date),
which makes the first diploma number computable too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import graduation_photo, jpeg, resident_id, transcript_payload

CENTRE = "5135701"
GRADUATE = "2021510001"  # the whole slice: photo approved, audit passed, signed off, certificate issued
APPLICANT = "2021510002"  # applied, photo waiting for review: the open middle of the flow


@dataclass(frozen=True)
class Sample:
    centre: str
    students: tuple[str, ...]
    batch: str
    certificate: str
    photo_submissions: tuple[str, ...]


def batch_code(today: datetime | None = None) -> str:
    return f"{(today or datetime.now(UTC)).year}12"


def diploma_number(batch: str) -> str:
    """The first 专科 diploma of the batch: school 51357, type 5, graduation year, level 06, serial 1."""
    return f"513575{int(batch[:4]) + 1}06000001"


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise AssertionError(
            f"seeding the fuzz sample: {response.request.method} {response.request.url} "
            f"answered {response.status_code}: {response.text[:2000]}"
        )
    return response


def _student(number: str, name: str) -> dict[str, object]:
    return {
        "name": name,
        "gender": "female",
        "birth_date": "1990-05-17",
        "id_type": "resident_id",
        "id_number": resident_id(),
        "learning_centre": CENTRE,
        "level": "junior_college",
        "category": "open_education",
        "major": "机电一体化技术",
        "enrolment_term": "2021-spring",
        "study_form": "part_time",
        "status": "enrolled",
    }


def seed(client: httpx.Client, timeout_s: float = 60) -> Sample:
    """Drives the public API as a registrar would; `client` sends the HQ key."""
    now = datetime.now(UTC)
    batch = batch_code(now)
    _ok(
        client.put(
            f"/api/v1/learning-centres/{CENTRE}",
            json={"name": "昆明开放学院直属学习中心", "parent": "51357", "kind": "learning_centre"},
        )
    )
    for number, name in ((GRADUATE, "张三"), (APPLICANT, "李四")):
        _ok(client.put(f"/api/v1/students/{number}", json=_student(number, name)))
        _ok(client.put(f"/api/v1/students/{number}/transcript", json=transcript_payload()))
    _ok(
        client.put(
            f"/api/v1/graduation-batches/{batch}",
            json={
                "cohort_cutoff_term": "2021-spring",
                "graduation_date_rule": "quarterly",
                "issue_date": f"{int(batch[:4]) + 1}-01-31",
                "rounds": [
                    {
                        "number": 1,
                        "opens_on": (now - timedelta(days=1)).date().isoformat(),
                        "closes_on": (now + timedelta(days=30)).date().isoformat(),
                    }
                ],
            },
        )
    )
    _ok(
        client.post(
            f"/api/v1/graduation-batches/{batch}/applications",
            json={"type": "graduate", "student_nos": [GRADUATE, APPLICANT]},
        )
    )
    approved = _ok(
        client.post(
            f"/api/v1/students/{GRADUATE}/photos",
            data={"kind": "graduation"},
            files={"file": ("photo.jpg", graduation_photo(), "image/jpeg")},
        )
    ).json()["id"]
    _ok(client.post(f"/api/v1/photo-submissions/{approved}/approve"))
    pending = _ok(
        client.post(
            f"/api/v1/students/{APPLICANT}/photos",
            data={"kind": "graduation"},
            files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        )
    ).json()["id"]
    deadline = time.monotonic() + timeout_s
    # The re-audit after PhotoApproved and the certificate after the sign-off arrive as events.
    while not _ok(client.get(f"/api/v1/students/{GRADUATE}/audit")).json()["passed"]:
        assert time.monotonic() < deadline, "the re-audit after PhotoApproved never passed"
        time.sleep(0.2)
    signed = _ok(
        client.post(f"/api/v1/graduation-batches/{batch}/sign-offs", json={"student_nos": [GRADUATE]})
    ).json()
    assert signed["signed_off"] == [GRADUATE], signed
    number = diploma_number(batch)
    while client.get(f"/api/v1/certificates/{number}").status_code != 200:
        assert time.monotonic() < deadline, f"certificate {number} was never issued"
        time.sleep(0.2)
    return Sample(
        centre=CENTRE,
        students=(GRADUATE, APPLICANT),
        batch=batch,
        certificate=number,
        photo_submissions=(approved, pending),
    )
