"""A certificate's life through the gateway on the embedded suite: issued from the audit, verified
publicly (no key), shared by code, distributed to the student, replaced once, revoked; exports and
PDFs; tenancy for a centre-bound key."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from gradops_certificates.models import Replacement, ShareCode
from tests.certificates.api.certificate_suite import (
    PDF_BYTES,
    Suite,
    backdate,
    certificate_suite,
    graduate,
    pdf_text,
)
from tests.e2e.slice import assert_problem
from tests.factories import png


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[Suite]:
    async with certificate_suite(tmp_path) as built:
        yield built


async def test_public_verification_shows_little_and_logs_every_lookup(suite: Suite) -> None:
    number, certificate = await graduate(suite.client, name="欧阳明月", major="机电一体化技术")
    cert_no = certificate["number"]
    assert certificate["learning_centre"] == "5135701"
    assert certificate["distribution"]["state"] == "at_hq"
    await backdate(suite, cert_no)

    valid = await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "欧阳明月"})
    assert valid.status_code == 200, valid.text
    body = valid.json()
    assert body["result"] == "valid"
    assert body["certificate"] == {
        "kind": "diploma",
        "masked_name": "欧**月",
        "school_name": "云南开放大学",
        "level": "junior_college",
        "level_label_zh": "专科",
        "major": "机电一体化技术",
        "graduation_date": certificate["graduation_date"],
        "issue_date": (date.today() - timedelta(days=1)).isoformat(),
    }
    assert number not in valid.text  # no student number, no ID, no centre

    wrong_name = await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "张三"})
    unknown_number = cert_no[:-6] + "999999"
    unknown = await suite.anonymous.get(f"/api/v1/verify/{unknown_number}", params={"name": "欧阳明月"})
    assert wrong_name.status_code == unknown.status_code == 200
    assert wrong_name.json() | {"number": ""} == unknown.json() | {"number": ""}
    assert wrong_name.json()["result"] == "unknown" and wrong_name.json()["certificate"] is None

    malformed = await suite.anonymous.get("/api/v1/verify/5135752023ABCDEFGH", params={"name": "x"})
    assert_problem(malformed, 422, "certificates.number_format")
    too_short = await suite.anonymous.get("/api/v1/verify/123", params={"name": "x"})
    assert_problem(too_short, 422, "certificates.number_format")
    assert_problem(await suite.anonymous.get(f"/api/v1/verify/{cert_no}"), 422, "request.validation_failed")
    # The rest of the API still wants a key.
    assert_problem(await suite.anonymous.get(f"/api/v1/certificates/{cert_no}"), 401, "auth.unauthenticated")

    log = (await suite.client.get("/api/v1/verification-lookups", params={"limit": 5})).json()["items"]
    results = ["valid", "unknown", "unknown", "malformed", "malformed"]
    assert [entry["result"] for entry in reversed(log)] == results
    assert [entry["name_matched"] for entry in reversed(log)] == [True, False, None, None, None]
    assert all(entry["request_id"] for entry in log)
    async with suite.as_centre({"5135701"}, {"certificates:read"}) as centre:
        assert_problem(await centre.get("/api/v1/verification-lookups"), 403, "certificates.hq_only")


async def test_share_code_answers_while_valid_and_its_qr_carries_only_the_url(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    cert_no = certificate["number"]
    await backdate(suite, cert_no)
    created = await suite.client.post(f"/api/v1/certificates/{cert_no}/share-codes", json={"valid_days": 7})
    assert created.status_code == 201, created.text
    share = created.json()
    assert share["valid"] is True
    assert share["verification_url"] == f"https://verify.example.edu.cn/api/v1/verify/codes/{share['code']}"

    by_code = await suite.anonymous.get(f"/api/v1/verify/codes/{share['code']}")
    assert by_code.status_code == 200 and by_code.json()["result"] == "valid"
    assert by_code.json()["certificate"]["masked_name"] == "张*"

    qr = await suite.client.get(share["qr_png_url"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    assert qr.content.startswith(b"\x89PNG")

    extended = await suite.client.post(
        f"/api/v1/share-codes/{share['code']}/extension", json={"valid_days": 30}
    )
    assert extended.status_code == 200
    assert extended.json()["expires_at"] > share["expires_at"]
    too_long = await suite.client.post(
        f"/api/v1/certificates/{cert_no}/share-codes", json={"valid_days": 999}
    )
    assert_problem(too_long, 422, "certificates.share_code_validity")

    # Once its time is up, a code answers no more and cannot be extended.
    expiring = (
        await suite.client.post(f"/api/v1/certificates/{cert_no}/share-codes", json={"valid_days": 1})
    ).json()
    async with suite.suite.runtimes["certificates"].db.transaction() as session:
        await session.execute(
            update(ShareCode).where(ShareCode.code == expiring["code"]).values(expires_at=datetime.now(UTC))
        )
    assert_problem(
        await suite.anonymous.get(f"/api/v1/verify/codes/{expiring['code']}"),
        404,
        "certificates.share_code_invalid",
    )
    assert_problem(
        await suite.client.post(f"/api/v1/share-codes/{expiring['code']}/extension", json={"valid_days": 5}),
        409,
        "certificates.share_code_expired",
    )

    revoked = await suite.client.post(f"/api/v1/share-codes/{share['code']}/revocation")
    assert revoked.status_code == 200 and revoked.json()["valid"] is False
    gone = await suite.anonymous.get(f"/api/v1/verify/codes/{share['code']}")
    assert_problem(gone, 404, "certificates.share_code_invalid")
    assert_problem(
        await suite.anonymous.get("/api/v1/verify/codes/NOSUCHCODE23"), 404, "certificates.share_code_invalid"
    )
    assert_problem(
        await suite.client.post(f"/api/v1/share-codes/{share['code']}/extension", json={"valid_days": 1}),
        409,
        "certificates.share_code_revoked",
    )


async def test_distribution_deadlines_receipt_and_overdue_lists(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    cert_no = certificate["number"]
    events = f"/api/v1/certificates/{cert_no}/distribution-events"
    notice = date(2026, 1, 5)

    handed_too_early = await suite.client.post(events, data={"event": "handed_to_student"})
    assert_problem(handed_too_early, 409, "certificates.distribution_illegal_transition")

    notified = await suite.client.post(events, data={"event": "notified", "occurred_on": notice.isoformat()})
    assert notified.status_code == 201, notified.text
    assert notified.json()["distribution"]["collection_due"] == (notice + timedelta(days=15)).isoformat()

    overdue = await suite.client.get(
        "/api/v1/certificate-distribution/overdue",
        params={"as_of": (notice + timedelta(days=20)).isoformat()},
    )
    mine = [c for group in overdue.json()["items"] for c in group["certificates"] if c["number"] == cert_no]
    assert mine == [
        {
            "number": cert_no,
            "student_no": certificate["student_no"],
            "learning_centre": "5135701",
            "stage": "collection",
            "due": (notice + timedelta(days=15)).isoformat(),
            "days_overdue": 5,
        }
    ]

    late = (notice + timedelta(days=20)).isoformat()
    no_explanation = await suite.client.post(
        events, data={"event": "collected_by_centre", "occurred_on": late}
    )
    assert_problem(no_explanation, 422, "certificates.late_collection_needs_explanation")
    collected = await suite.client.post(
        events,
        data={
            "event": "collected_by_centre",
            "occurred_on": late,
            "explanation": "疫情封控，延期领取（已签字）",
        },
    )
    assert collected.status_code == 201, collected.text
    assert collected.json()["distribution"]["state"] == "collected_by_centre"

    no_receipt = await suite.client.post(events, data={"event": "handed_to_student", "occurred_on": late})
    assert_problem(no_receipt, 422, "certificates.receipt_required")
    not_a_scan = await suite.client.post(
        events,
        data={"event": "handed_to_student", "occurred_on": late},
        files={"receipt": ("receipt.pdf", b"GIF89a pretending", "application/pdf")},
    )
    assert_problem(not_a_scan, 415, "certificates.scan_format")
    handed = await suite.client.post(
        events,
        data={"event": "handed_to_student", "occurred_on": late},
        files={"receipt": ("receipt.pdf", PDF_BYTES, "application/pdf")},
    )
    assert handed.status_code == 201, handed.text
    assert handed.json()["distribution"]["state"] == "handed_to_student"
    receipt = await suite.client.get(f"/api/v1/certificates/{cert_no}/receipt")
    assert receipt.content == PDF_BYTES and receipt.headers["content-type"] == "application/pdf"

    checked = await suite.client.post(events, data={"event": "chsi_checked", "matches_chsi": "true"})
    assert checked.status_code == 201
    assert checked.json()["distribution"]["chsi_matches"] is True
    history = (await suite.client.get(events)).json()["items"]
    assert [(e["event"], e["late"]) for e in history] == [
        ("notified", False),
        ("collected_by_centre", True),
        ("handed_to_student", False),
        ("chsi_checked", False),
    ]
    assert history[1]["explanation"].startswith("疫情")


async def test_replacement_once_only_supersedes_and_prints_the_proof(suite: Suite) -> None:
    number, certificate = await graduate(suite.client, name="王小二", birth_date="1990-05-17")
    cert_no = certificate["number"]
    applied = await suite.client.post(
        f"/api/v1/certificates/{cert_no}/replacements",
        data={"reason": "lost"},
        files={"form": ("form.png", png(), "image/png")},
    )
    assert applied.status_code == 201, applied.text
    application = applied.json()
    assert application["state"] == "applied" and application["decision_due"] is None

    again = await suite.client.post(
        f"/api/v1/certificates/{cert_no}/replacements",
        data={"reason": "damaged"},
        files={"form": ("form.pdf", PDF_BYTES, "application/pdf")},
    )
    assert_problem(again, 409, "certificates.replacement_once_only")

    path = f"/api/v1/certificate-replacements/{application['id']}"
    premature = await suite.client.post(f"{path}/decision", json={"approve": True})
    assert_problem(premature, 409, "certificates.replacement_illegal_transition")
    verified = await suite.client.post(f"{path}/centre-verification")
    assert verified.status_code == 200
    assert verified.json()["state"] == "centre_verified"
    assert verified.json()["working_days_left"] == 15 and verified.json()["overdue"] is False

    # HQ's clock: once the due day has passed the application shows as overdue.
    async with suite.suite.runtimes["certificates"].db.transaction() as session:
        await session.execute(
            update(Replacement)
            .where(Replacement.id == application["id"])
            .values(decision_due=date(2026, 1, 2))
        )
    late = (
        await suite.client.get("/api/v1/certificate-replacements", params={"state": "centre_verified"})
    ).json()["items"]
    mine = next(r for r in late if r["id"] == application["id"])
    assert mine["overdue"] is True and mine["working_days_left"] < 0

    approved = await suite.client.post(f"{path}/decision", json={"approve": True, "note": "核实无误"})
    assert approved.status_code == 200, approved.text
    proof_no = approved.json()["replacement_number"]
    assert proof_no.startswith("51357B") and len(proof_no) == 18

    original = (await suite.client.get(f"/api/v1/certificates/{cert_no}")).json()
    assert original["status"] == "superseded" and original["superseded_by"] == proof_no
    current = (await suite.client.get(f"/api/v1/students/{number}/certificate")).json()
    assert current["number"] == proof_no and current["kind"] == "replacement"
    assert current["original_number"] == cert_no

    superseded = await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "王小二"})
    assert superseded.json()["result"] == "superseded"
    proof_valid = await suite.anonymous.get(f"/api/v1/verify/{proof_no}", params={"name": "王小二"})
    assert proof_valid.json()["result"] == "valid"
    assert proof_valid.json()["certificate"]["kind"] == "replacement"

    # The 毕业证明书 itself can never be replaced (CHSI records a replacement once).
    twice = await suite.client.post(
        f"/api/v1/certificates/{proof_no}/replacements",
        data={"reason": "lost"},
        files={"form": ("form.png", png(), "image/png")},
    )
    assert_problem(twice, 409, "certificates.replacement_once_only")

    proof = await suite.client.get(f"/api/v1/certificates/{proof_no}/proof.pdf")
    assert proof.status_code == 200 and proof.headers["content-type"] == "application/pdf"
    text = pdf_text(proof.content)
    # (The birth date is printed once the registry sends it; tests/certificates/domain/test_printouts.py.)
    for expected in (
        "毕业证明书",
        "王小二",
        "性别女",
        "机电一体化技术",
        cert_no,
        proof_no,
        "校长：李校长",
        "云南开放大学",
        "遗失",
    ):
        assert expected in text.replace("\n", ""), (expected, text)
    assert_problem(
        await suite.client.get(f"/api/v1/certificates/{cert_no}/proof.pdf"),
        409,
        "certificates.not_a_replacement",
    )


async def test_revocation_is_final_and_verification_says_so(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    cert_no = certificate["number"]
    revoked = await suite.client.post(
        f"/api/v1/certificates/{cert_no}/revocation", json={"reason": "学籍造假，依据教育厅通知撤销"}
    )
    assert revoked.status_code == 200, revoked.text
    assert [c["status"] for c in revoked.json()["revoked"]] == ["revoked"]
    again = await suite.client.post(f"/api/v1/certificates/{cert_no}/revocation", json={"reason": "再次"})
    assert_problem(again, 409, "certificates.already_revoked")
    verdict = await suite.anonymous.get(f"/api/v1/verify/{cert_no}", params={"name": "张三"})
    assert verdict.json()["result"] == "revoked"
    nothing_to_replace = await suite.client.post(
        f"/api/v1/certificates/{cert_no}/replacements",
        data={"reason": "lost"},
        files={"form": ("f.pdf", PDF_BYTES, "application/pdf")},
    )
    assert_problem(nothing_to_replace, 409, "certificates.revoked")


async def test_chsi_export_and_registration_form(suite: Suite) -> None:
    number, certificate = await graduate(
        suite.client, name="李四", gender="male", enrolment_term="2021-autumn"
    )
    batch = certificate["batch_code"]

    csv_export = await suite.client.get(
        f"/api/v1/certificate-batches/{batch}/chsi-registration", params={"format": "csv"}
    )
    assert csv_export.status_code == 200, csv_export.text
    assert csv_export.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    row = next(r for r in rows if r["学号"] == number)
    assert row["证书编号"] == certificate["number"]
    assert (row["姓名"], row["性别"], row["入学日期"]) == ("李四", "男", "2021-09-01")
    # Fields the registry does not send yet are named in 缺项 rather than left silently empty.
    for field in ("出生日期", "学制"):
        assert row[field] or field in row["缺项"], (field, row)
    assert (row["层次"], row["毕（结）业"], row["学习形式"], row["学校名称"], row["校长姓名"]) == (
        "专科",
        "毕业",
        "业余",
        "云南开放大学",
        "李校长",
    )
    assert row["照片"].endswith(":" + row["照片"].split(":")[1]) and len(row["照片"].split(":")[1]) == 64

    xlsx = await suite.client.get(f"/api/v1/certificate-batches/{batch}/chsi-registration")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["学号", "考生号", "姓名", "性别", "出生日期", "照片"]
    numbers = [r[header.index("证书编号")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert certificate["number"] in numbers

    form = await suite.client.get(f"/api/v1/certificates/{certificate['number']}/registration-form.pdf")
    assert form.status_code == 200, form.text
    text = pdf_text(form.content)
    for expected in ("毕业生登记表", "李四", certificate["number"], "自我鉴定", "学习中心意见", "总部意见"):
        assert expected in text, (expected, text)
    # A centre upload that was never standardised is the approved photo: it is printed (issue 13).
    assert form.headers["x-gradops-photo"] == "included"
    assert "请粘贴同版照片" not in text


async def test_a_centre_key_sees_only_its_centres_certificates(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    cert_no = certificate["number"]
    async with suite.as_centre({"5135799"}, {"certificates:read", "certificates:write"}) as other:
        assert_problem(await other.get(f"/api/v1/certificates/{cert_no}"), 404, "certificates.not_found")
        assert_problem(
            await other.get(f"/api/v1/students/{certificate['student_no']}/certificate"),
            404,
            "certificates.not_found",
        )
        refused = await other.post(
            f"/api/v1/certificates/{cert_no}/distribution-events", data={"event": "notified"}
        )
        assert_problem(refused, 404, "certificates.not_found")
        export = await other.get(
            f"/api/v1/certificate-batches/{certificate['batch_code']}/chsi-registration",
            params={"format": "csv"},
        )
        assert cert_no not in export.content.decode("utf-8-sig")
    async with suite.as_centre({"5135701"}, {"certificates:read", "certificates:write"}) as own:
        assert (await own.get(f"/api/v1/certificates/{cert_no}")).status_code == 200
        # Revocation and the HQ decision are HQ's.
        hq_only = await own.post(f"/api/v1/certificates/{cert_no}/revocation", json={"reason": "试图撤销"})
        assert_problem(hq_only, 403, "certificates.hq_only")


async def test_another_centres_share_code_reads_like_an_unknown_one(suite: Suite) -> None:
    _, certificate = await graduate(suite.client)
    created = await suite.client.post(
        f"/api/v1/certificates/{certificate['number']}/share-codes", json={"valid_days": 7}
    )
    code = created.json()["code"]
    async with suite.as_centre({"5135799"}, {"certificates:read", "certificates:write"}) as other:
        for method, path, body in [
            ("GET", f"/api/v1/share-codes/{code}", None),
            ("GET", f"/api/v1/share-codes/{code}/qr.png", None),
            ("POST", f"/api/v1/share-codes/{code}/extension", {"valid_days": 1}),
            ("POST", f"/api/v1/share-codes/{code}/revocation", None),
        ]:
            theirs = await other.request(method, path, json=body)
            unknown = await other.request(method, path.replace(code, "ZZZZZZZZZZZZ"), json=body)
            assert_problem(theirs, 404, "certificates.share_code_invalid")
            assert_problem(unknown, 404, "certificates.share_code_invalid")
    still = await suite.client.get(f"/api/v1/share-codes/{code}")
    assert still.json()["valid"] is True and still.json()["expires_at"] == created.json()["expires_at"]


async def test_a_batch_notice_starts_the_collection_deadline_of_one_centre(suite: Suite) -> None:
    _, mine = await graduate(suite.client)
    _, other = await graduate(suite.client, learning_centre="5135702")
    assert mine["batch_code"] == other["batch_code"]
    notices = f"/api/v1/certificate-batches/{mine['batch_code']}/notices"
    day = date.today() - timedelta(days=3)
    due = (day + timedelta(days=15)).isoformat()
    sent = await suite.client.post(notices, json={"learning_centre": ["5135701"], "occurred_on": str(day)})
    assert sent.status_code == 200, sent.text
    assert mine["number"] in sent.json()["numbers"] and other["number"] not in sent.json()["numbers"]
    assert sent.json()["collection_due"] == due
    again = await suite.client.post(notices, json={"learning_centre": ["5135701"]})
    assert again.json()["notified"] == 0  # each certificate is notified once
    assert (await suite.client.get(f"/api/v1/certificates/{mine['number']}")).json()["distribution"][
        "collection_due"
    ] == due
    assert (await suite.client.get(f"/api/v1/certificates/{other['number']}")).json()["distribution"][
        "notified_on"
    ] is None
    async with suite.as_centre({"5135701"}, {"certificates:write"}) as centre:
        refused = await centre.post(
            f"/api/v1/certificate-batches/{mine['batch_code']}/notices", json={"learning_centre": None}
        )
        assert_problem(refused, 403, "certificates.hq_only")
