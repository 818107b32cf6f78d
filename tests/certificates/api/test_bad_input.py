"""Issue 13 through the gateway on the embedded suite: the registrar's defects (the approved photo
however it came, once only after a rejection, not valid before the issue date, no future or
out-of-order distribution dates, the QC-passed photo in the CHSI export), cursor pages on every
certificates list, and text with control characters refused with a 422 that changes nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from gradops_certificates.models import Certificate
from gradops_certificates.service.clock import china_today
from tests.certificates.api.certificate_suite import PDF_BYTES, Suite, backdate, certificate_suite, graduate
from tests.e2e.slice import assert_problem
from tests.factories import png


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[Suite]:
    async with certificate_suite(tmp_path) as built:
        yield built


async def every_page(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[list[Any]]:
    """The items of each page, following `next_cursor` to the end; checks the page shape is the suite's
    `{items, next_cursor}` and the X-Next-Cursor and Link headers offer the same next page."""
    pages: list[list[Any]] = []
    query = dict(params)
    while True:
        answer = await client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"items", "next_cursor"}, body
        pages.append(body["items"])
        token = body["next_cursor"]
        assert answer.headers.get("x-next-cursor") == token
        if token is None:
            assert "link" not in answer.headers
            return pages
        assert answer.headers["link"].startswith(f"<{path}?") and f"cursor={token}" in answer.headers["link"]
        assert answer.headers["link"].endswith('>; rel="next"')
        query = dict(params, cursor=token)
        assert len(pages) < 50


def photo_cell(export: httpx.Response, student_no: str) -> str:
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    return next(r["照片"] for r in rows if r["学号"] == student_no)


async def test_the_form_and_the_chsi_export_use_the_photo_that_passed_qc(suite: Suite) -> None:
    plain_no, plain = await graduate(suite.client, name="李白")
    fixed_no, fixed = await graduate(suite.client, name="杜甫", standardise=True)
    for number, certificate in ((plain_no, plain), (fixed_no, fixed)):
        form = await suite.client.get(f"/api/v1/certificates/{certificate['number']}/registration-form.pdf")
        assert form.status_code == 200, form.text
        assert form.headers["x-gradops-photo"] == "included", number
        assert sum(len(page.images) for page in PdfReader(io.BytesIO(form.content)).pages) == 1

    export = await suite.client.get(
        f"/api/v1/certificate-batches/{plain['batch_code']}/chsi-registration", params={"format": "csv"}
    )
    assert export.status_code == 200, export.text
    photos = (await suite.client.get(f"/api/v1/students/{fixed_no}/photos")).json()["items"]
    [submission] = [p for p in photos if p["kind"] == "graduation"]
    files = f"/api/v1/photo-submissions/{submission['id']}/file"
    standardised = await suite.client.get(files, params={"variant": "standardised"})
    original = await suite.client.get(files, params={"variant": "original"})
    assert standardised.status_code == original.status_code == 200
    assert standardised.content != original.content
    # The standardised photo is what QC judged and HQ approved: the export names it, not the upload.
    assert (
        photo_cell(export, fixed_no)
        == f"{submission['id']}:{hashlib.sha256(standardised.content).hexdigest()}"
    )
    # Never standardised: the upload itself is the deliverable.
    plain_photos = (await suite.client.get(f"/api/v1/students/{plain_no}/photos")).json()["items"]
    [plain_submission] = [p for p in plain_photos if p["kind"] == "graduation"]
    upload = await suite.client.get(f"/api/v1/photo-submissions/{plain_submission['id']}/file")
    assert photo_cell(export, plain_no) == (
        f"{plain_submission['id']}:{hashlib.sha256(upload.content).hexdigest()}"
    )


async def test_registrar_rules_on_replacements_verification_and_distribution(suite: Suite) -> None:
    _, certificate = await graduate(suite.client, name="王小二")
    cert_no = certificate["number"]

    # Before its issue date (the test batches issue 60 days ahead) a certificate is not valid yet.
    assert date.fromisoformat(certificate["issue_date"]) > china_today()
    early = await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "王小二"})
    assert early.status_code == 200, early.text
    assert early.json()["result"] == "not_yet_valid"
    assert early.json()["result_label_zh"] == "尚未生效（未到发证日期）"
    assert early.json()["certificate"]["issue_date"] == certificate["issue_date"]
    share = (
        await suite.client.post(f"/api/v1/certificates/{cert_no}/share-codes", json={"valid_days": 3})
    ).json()
    assert (await suite.anonymous.get(f"/api/v1/verify/codes/{share['code']}")).json()[
        "result"
    ] == "not_yet_valid"
    log = (await suite.client.get("/api/v1/verification-lookups", params={"limit": 2})).json()["items"]
    assert [entry["result"] for entry in log] == ["not_yet_valid", "not_yet_valid"]
    await backdate(suite, cert_no, days=0)
    on_the_day = await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "王小二"})
    assert on_the_day.json()["result"] == "valid"

    # A rejected application does not use up the once: the student applies again.
    def apply() -> Any:
        return suite.client.post(
            f"/api/v1/certificates/{cert_no}/replacements",
            data={"reason": "lost"},
            files={"form": ("form.png", png(), "image/png")},
        )

    first = (await apply()).json()
    rejected = await suite.client.post(
        f"/api/v1/certificate-replacements/{first['id']}/decision",
        json={"approve": False, "note": "材料不全"},
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    second = await apply()
    assert second.status_code == 201, second.text
    assert_problem(await apply(), 409, "certificates.replacement_once_only")  # one standing at a time
    path = f"/api/v1/certificate-replacements/{second.json()['id']}"
    assert (await suite.client.post(f"{path}/centre-verification")).status_code == 200
    approved = await suite.client.post(f"{path}/decision", json={"approve": True})
    assert approved.status_code == 200, approved.text
    assert_problem(await apply(), 409, "certificates.replacement_once_only")  # replaced: never again
    history = await suite.client.get("/api/v1/certificate-replacements", params={"limit": 1})
    assert history.json()["next_cursor"]  # two applications, one a page
    pages = await every_page(suite.client, "/api/v1/certificate-replacements", {"limit": 1})
    assert [r["state"] for page in pages for r in page] == ["rejected", "approved"]

    # Distribution of the 毕业证明书: no future dates, no CHSI check before the handover.
    proof_no = approved.json()["replacement_number"]
    events = f"/api/v1/certificates/{proof_no}/distribution-events"
    tomorrow = (china_today() + timedelta(days=1)).isoformat()
    future = await suite.client.post(events, data={"event": "notified", "occurred_on": tomorrow})
    body = assert_problem(future, 422, "certificates.distribution_date_in_future")
    assert tomorrow in body["detail"]
    notice_in_future = await suite.client.post(
        f"/api/v1/certificate-batches/{certificate['batch_code']}/notices", json={"occurred_on": tomorrow}
    )
    assert_problem(notice_in_future, 422, "certificates.distribution_date_in_future")
    assert (await suite.client.get(events)).json() == {"items": [], "next_cursor": None}  # nothing recorded
    day = china_today() - timedelta(days=6)
    for event, on, files in (
        ("notified", day, None),
        ("collected_by_centre", day + timedelta(days=1), None),
        ("handed_to_student", day + timedelta(days=3), {"receipt": ("r.pdf", PDF_BYTES, "application/pdf")}),
    ):
        recorded = await suite.client.post(events, data={"event": event, "occurred_on": str(on)}, files=files)
        assert recorded.status_code == 201, recorded.text
    before_handover = await suite.client.post(
        events,
        data={"event": "chsi_checked", "occurred_on": str(day + timedelta(days=2)), "matches_chsi": "true"},
    )
    assert_problem(before_handover, 422, "certificates.distribution_date_order")
    checked = await suite.client.post(
        events,
        data={"event": "chsi_checked", "occurred_on": str(day + timedelta(days=3)), "matches_chsi": "true"},
    )
    assert checked.status_code == 201, checked.text
    pages = await every_page(suite.client, events, {"limit": 3})
    assert [len(p) for p in pages] == [3, 1]
    assert [e["event"] for page in pages for e in page] == [
        "notified",
        "collected_by_centre",
        "handed_to_student",
        "chsi_checked",
    ]


async def test_lists_page_by_cursor_and_refuse_a_cursor_they_did_not_issue(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    student_no, cert_no = certificate["student_no"], certificate["number"]
    # More of the student's certificates, overdue for collection, to page through.
    notice = china_today() - timedelta(days=40)
    async with suite.suite.runtimes["certificates"].db.transaction() as session:
        for serial in range(900001, 900005):
            session.add(
                Certificate(
                    number=cert_no[:-6] + str(serial),
                    student_no=student_no,
                    batch_code=f"20{serial - 899990}01"[-6:],
                    level="junior_college",
                    serial=serial,
                    issue_date=date(2020, 1, 31),
                    graduation_date=date(2020, 1, 31),
                    status="valid",
                    audit_id=str(uuid.uuid4()),
                    created_at=datetime.now(UTC) + timedelta(seconds=serial - 900000),
                    kind="diploma",
                    learning_centre="5135701" if serial % 2 else "5135702",
                    distribution_state="at_hq",
                    notified_on=notice,
                    collection_due=notice + timedelta(days=15),
                )
            )
    whole = await suite.client.get(f"/api/v1/students/{student_no}/certificates")
    everything = whole.json()["items"]
    assert len(everything) == 5 and whole.json()["next_cursor"] is None
    assert "x-next-cursor" not in whole.headers
    pages = await every_page(suite.client, f"/api/v1/students/{student_no}/certificates", {"limit": 2})
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c["number"] for page in pages for c in page] == [c["number"] for c in everything]

    overdue = await every_page(suite.client, "/api/v1/certificate-distribution/overdue", {"limit": 3})
    numbers = [c["number"] for page in overdue for group in page for c in group["certificates"]]
    assert len(numbers) == len(set(numbers)) == 4
    first_page_centres = [group["learning_centre"] for group in overdue[0]]
    assert first_page_centres == sorted(first_page_centres)

    for _ in range(3):
        await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "张三"})
    lookups = await every_page(suite.client, "/api/v1/verification-lookups", {"limit": 2})
    ids = [entry["id"] for page in lookups for entry in page]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3

    for path in (
        f"/api/v1/students/{student_no}/certificates",
        f"/api/v1/certificates/{cert_no}/distribution-events",
        "/api/v1/certificate-replacements",
        "/api/v1/certificate-distribution/overdue",
        "/api/v1/verification-lookups",
    ):
        for cursor in ("é", "!!", "AAAA", "x" * 600):
            refused = await suite.client.get(path, params={"cursor": cursor})
            assert refused.status_code == 422, (path, cursor, refused.text)
            assert refused.json()["code"] in ("certificates.cursor_invalid", "request.validation_failed")


async def test_text_with_control_characters_is_refused_and_changes_nothing(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    cert_no = certificate["number"]
    events = f"/api/v1/certificates/{cert_no}/distribution-events"

    def field_of(response: httpx.Response) -> list[str]:
        return [
            error["field"] for error in assert_problem(response, 422, "request.validation_failed")["errors"]
        ]

    assert field_of(
        await suite.client.post(events, data={"event": "notified", "explanation": "迟到\x1b[2J"})
    ) == ["explanation"]
    assert field_of(await suite.client.post(events, data={"event": "notified", "detail": "a\x00b"})) == [
        "detail"
    ]
    assert (await suite.client.get(events)).json() == {"items": [], "next_cursor": None}
    assert field_of(
        await suite.client.post(
            f"/api/v1/certificates/{cert_no}/replacements",
            data={"reason": "lost", "note": "\x85"},
            files={"form": ("form.png", png(), "image/png")},
        )
    ) == ["note"]
    assert (await suite.client.get("/api/v1/certificate-replacements")).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert field_of(
        await suite.client.post(f"/api/v1/certificates/{cert_no}/revocation", json={"reason": "撤销\x00"})
    ) == ["reason"]
    assert (await suite.client.get(f"/api/v1/certificates/{cert_no}")).json()["status"] == "valid"
    assert field_of(await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "张\x00三"})) == [
        "name"
    ]
    assert field_of(
        await suite.client.get(
            f"/api/v1/certificate-batches/{certificate['batch_code']}/chsi-registration",
            params={"learning_centre": "57\x01"},
        )
    ) == ["learning_centre.0"]
    # Multi-line notes stay allowed.
    fine = await suite.client.post(
        events, data={"event": "notified", "occurred_on": str(china_today()), "detail": "第一行\n第二行"}
    )
    assert fine.status_code == 201, fine.text
