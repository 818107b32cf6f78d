"""Builders for test data: one place that knows what a valid student or photo looks like."""

from __future__ import annotations

import io
import itertools
from datetime import date
from typing import Any

import httpx
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.domain import resident_id_check_char
from gradops_shared.principal import SCOPES, Principal

_sequence = itertools.count(1)


def resident_id(birth: date = date(1990, 5, 17), *, gender: str = "female", region: str = "110105") -> str:
    seq = next(_sequence) % 500
    order = seq * 2 + (1 if gender == "male" else 0)  # odd 17th digit = male
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + resident_id_check_char(first17)


def student_no() -> str:
    return f"2021{next(_sequence):06d}"


def student_payload(**overrides: Any) -> dict[str, Any]:
    birth = overrides.pop("birth", date(1990, 5, 17))
    gender = overrides.get("gender", "female")
    payload: dict[str, Any] = {
        "name": "张三",
        "gender": gender,
        "birth_date": birth.isoformat(),
        "id_type": "resident_id",
        "id_number": resident_id(birth, gender=gender),
        "learning_centre": "5135701",
        "level": "junior_college",
        "category": "open_education",
        "major": "机电一体化技术",
        "enrolment_term": "2021-spring",
        "study_form": "part_time",
        "status": "enrolled",
    }
    payload.update(overrides)
    return payload


def jpeg(
    width: int = 480,
    height: int = 640,
    colour: tuple[int, int, int] = (100, 197, 255),
    *,
    mode: str = "RGB",
    quality: int = 90,
) -> bytes:
    """A light-blue picture of the right size: passes the file-level QC checks."""
    image = Image.new(mode, (width, height), colour if mode == "RGB" else 128)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, dpi=(300, 300))
    return buffer.getvalue()


def png(width: int = 480, height: int = 640) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (100, 197, 255)).save(buffer, "PNG")
    return buffer.getvalue()


async def ensure_learning_centre(client: httpx.AsyncClient, code: str = "5135701") -> None:
    """Creates the learning centre a test student belongs to (the registry keeps the tree; its
    root, the university, is the first five digits of the centre code)."""
    response = await client.put(
        f"/api/v1/learning-centres/{code}",
        json={"name": f"测试学习中心{code}", "parent": code[:5], "kind": "learning_centre"},
    )
    assert response.status_code in (200, 201), response.text


async def create_student(client: httpx.AsyncClient, number: str | None = None, **overrides: Any) -> str:
    """PUTs a valid student (and its learning centre) through the API; returns the student number."""
    number = number or student_no()
    payload = student_payload(**overrides)
    await ensure_learning_centre(client, payload["learning_centre"])
    response = await client.put(f"/api/v1/students/{number}", json=payload)
    assert response.status_code in (200, 201), response.text
    return number


# Audit (graduation batches and transcripts) --------------------------------------------------


def open_batch_payload(
    today: date | None = None, *, batch: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """A batch whose first round's application window holds today (quarterly graduation date), with
    the issue date the 2014 rule requires: the graduation date of `batch` (default: open_batch_code)."""
    from datetime import UTC, datetime, timedelta

    from gradops_audit.domain.batches import graduation_date

    today = today or datetime.now(UTC).date()
    payload: dict[str, Any] = {
        "cohort_cutoff_term": "2025-autumn",
        "rounds": [
            {
                "number": 1,
                "opens_on": (today - timedelta(days=30)).isoformat(),
                "closes_on": (today + timedelta(days=30)).isoformat(),
            }
        ],
        "issue_date": graduation_date(batch or open_batch_code(today)).isoformat(),
        "graduation_date_rule": "quarterly",
    }
    payload.update(overrides)
    return payload


def open_batch_code(today: date | None = None) -> str:
    """The next quarterly batch (Mar/Jun/Sep/Dec) on or after today: 2026-11-23 gives 202612."""
    from datetime import UTC, datetime

    today = today or datetime.now(UTC).date()
    month = next(m for m in (3, 6, 9, 12) if m >= today.month)
    return f"{today.year}{month:02d}"


def transcript_payload(level: str = "junior_college", **overrides: Any) -> dict[str, Any]:
    """A transcript that meets the shipped rule set of the level (credits, required courses,
    published practice grades and, for bachelors, a thesis and degree English)."""
    courses: list[dict[str, Any]] = [
        {"code": f"R{i:03d}", "name": f"必修课{i}", "credits": 6, "category": "required", "score": 80}
        for i in range(1, 11)
    ]
    courses += [
        {"code": f"E{i:03d}", "name": f"选修课{i}", "credits": 4, "category": "elective", "score": 75}
        for i in range(1, 26)
    ]
    courses.append(
        {"code": "P001", "name": "专业综合实践", "credits": 8, "category": "practice", "passed": True}
    )
    payload: dict[str, Any] = {"courses": courses}
    if level != "junior_college":
        payload["thesis"] = {"score": 82, "similarity": 12}
        payload["degree_english"] = {"exam": "ouc_degree_english", "score": 70, "passed": True}
    payload.update(overrides)
    return payload


_graduation_photos: dict[str, bytes] = {}


def graduation_photo(person: str = "astronaut") -> bytes:
    """A graduation photo that passes every check of every shipped profile: a public-domain portrait
    (tests/photo/fixtures.py) on the light-blue background, framed as the national spec says, 480×640,
    300 dpi, 20–40 KB. Use `jpeg()` where only the file matters."""
    if person not in _graduation_photos:
        from tests.photo.fixtures import graduation_rgb, jpeg_bytes

        _graduation_photos[person] = jpeg_bytes(graduation_rgb(person), max_kb=38)
    return _graduation_photos[person]


# ---- registry use cases called directly (integration tests and benchmarks) --------------------

HQ_PRINCIPAL = Principal(subject="test-hq", scopes=frozenset(SCOPES))


async def ensure_centre_in_db(session: AsyncSession, code: str = "5135701") -> None:
    """The registry's own use case, for tests that write students without the HTTP API."""
    from gradops_registry.schemas import OrgUnitIn
    from gradops_registry.service.org import put_org_unit
    from gradops_registry.settings import RegistrySettings

    await put_org_unit(
        session,
        RegistrySettings(),
        HQ_PRINCIPAL,
        code,
        OrgUnitIn(name=f"测试学习中心{code}", parent=code[:5], kind="learning_centre"),
    )


async def upsert_student_in_db(
    session: AsyncSession, number: str, principal: Principal = HQ_PRINCIPAL, **overrides: Any
) -> None:
    from gradops_registry.schemas import StudentIn
    from gradops_registry.service.students import upsert_student
    from gradops_registry.settings import RegistrySettings

    payload = StudentIn(**student_payload(**overrides))
    await ensure_centre_in_db(session, payload.learning_centre)
    await upsert_student(session, RegistrySettings(), principal, number, payload)
