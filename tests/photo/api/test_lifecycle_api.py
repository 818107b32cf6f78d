"""The photo life-cycle through the gateway of the embedded suite: the mini-program flow from the
registry's collection code to PhotoApproved, the lock-out, tenancy, review, proofreading with its
feedback sheet, CHSI states, bulk import and the completion figures."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.e2e.slice import assert_problem
from tests.factories import create_student, graduation_photo, student_payload
from tests.photo.zips import build_zip
from tests.support.gateway_tools import bearer, create_key
from tests.support.suite import Suite

CENTRE = "5135701"
OTHER_CENTRE = "5135702"


@pytest.fixture
def gateway(suite: Suite) -> httpx.AsyncClient:
    return suite.gateway


def _outbox(data_dir: Path, event_type: str) -> list[dict[str, Any]]:
    with sqlite3.connect(data_dir / "photo.db") as db:
        rows = db.execute("select payload from outbox where event_type = ? order by seq", (event_type,))
        return [json.loads(bytes(row[0]))["data"] for row in rows]


async def _student_with_code(gateway: httpx.AsyncClient, **overrides: Any) -> tuple[str, str, str]:
    id_number = student_payload()["id_number"]
    number = await create_student(gateway, id_number=id_number, **overrides)
    issued = await gateway.post(f"/api/v1/students/{number}/collection-code")
    assert issued.status_code == 200, issued.text
    return number, issued.json()["code"], id_number[-4:]


async def _approved_photo(gateway: httpx.AsyncClient, number: str) -> str:
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation"},
        files={"file": ("p.jpg", graduation_photo(), "image/jpeg")},
    )
    assert submitted.status_code == 201, submitted.text
    submission_id: str = submitted.json()["id"]
    approved = await gateway.post(f"/api/v1/photo-submissions/{submission_id}/approve")
    assert approved.status_code == 200, approved.text
    return submission_id


async def test_mini_program_flow_from_collection_code_to_photo_approved(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    number, code, last4 = await _student_with_code(gateway)
    mini = bearer(await create_key(gateway, ["photos:capture"], name="mini-program backend"))
    wrong = "0000" if last4 != "0000" else "1111"

    mismatch = await gateway.post(
        "/api/v1/capture-sessions", json={"collection_code": code, "id_last4": wrong}, headers=mini
    )
    assert assert_problem(mismatch, 422, "photo.id_digits_mismatch")["tries_left"] == 4
    opened = await gateway.post(
        "/api/v1/capture-sessions",
        json={
            "collection_code": code,
            "id_last4": last4,
            "fee": {"paid": True, "amount": "20.00", "provider_reference": "wx-123"},
        },
        headers=mini,
    )
    assert opened.status_code == 201, opened.text
    session = opened.json()
    assert session["student_no"] == number and session["fee"]["paid"] is True
    assert session["fee"]["amount"] in ("20", "20.00", 20, 20.0)
    upload_path = session["upload_href"]

    no_token = await gateway.post(upload_path, json={"image_base64": "AAAA"}, headers=mini)
    assert_problem(no_token, 403, "photo.capture_token_invalid")
    with_token = {**mini, "x-capture-token": session["token"]}
    uploaded = await gateway.post(
        upload_path,
        json={"image_base64": base64.b64encode(graduation_photo()).decode()},
        headers=with_token,
    )
    assert uploaded.status_code == 201, uploaded.text
    submission = uploaded.json()
    assert submission["state"] == "pending_review" and submission["source"] == "capture_session"
    assert submission["qc"]["checks"] and all(c["message_zh"] for c in submission["qc"]["checks"])
    assert submission["review_due_at"] is not None and submission["overdue"] is False

    # The mini-program key does only that: no reading, no reviewing.
    assert (
        await gateway.get(f"/api/v1/photo-submissions/{submission['id']}", headers=mini)
    ).status_code == 403
    assert (
        await gateway.post(f"/api/v1/photo-submissions/{submission['id']}/approve", headers=mini)
    ).status_code == 403

    queue = await gateway.get("/api/v1/photo-reviews", params={"status": "pending", "centre": CENTRE})
    assert queue.status_code == 200, queue.text
    item = next(i for i in queue.json()["items"] if i["id"] == submission["id"])
    assert item["qc"]["checks"] and item["photo_href"].endswith("/file")
    assert queue.json()["sla_workdays"] == 2

    approved = await gateway.post(f"/api/v1/photo-submissions/{submission['id']}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    events = [e for e in _outbox(tmp_path, "PhotoApproved") if e["student_no"] == number]
    assert events and events[-1]["submission_id"] == submission["id"]
    assert events[-1]["sha256"] == submission["sha256"] and events[-1]["kind"] == "graduation"

    # Approved is locked: the session cannot replace it.
    again = await gateway.post(
        upload_path, files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}, headers=with_token
    )
    assert_problem(again, 409, "photo.locked")


async def test_five_wrong_digits_lock_the_code_in_the_database(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    _number, code, last4 = await _student_with_code(gateway)
    wrong = "0000" if last4 != "0000" else "1111"
    for attempt in range(4):
        answer = await gateway.post(
            "/api/v1/capture-sessions", json={"collection_code": code, "id_last4": wrong}
        )
        assert assert_problem(answer, 422, "photo.id_digits_mismatch")["tries_left"] == 4 - attempt
    assert_problem(
        await gateway.post("/api/v1/capture-sessions", json={"collection_code": code, "id_last4": wrong}),
        423,
        "photo.collection_code_locked",
    )
    # Even the right digits are refused while locked; the lock is a row, not process memory.
    assert_problem(
        await gateway.post("/api/v1/capture-sessions", json={"collection_code": code, "id_last4": last4}),
        423,
        "photo.collection_code_locked",
    )
    with sqlite3.connect(tmp_path / "photo.db") as db:
        assert (
            db.execute(
                "select count(*) from collection_code_attempts where locked_until is not null"
            ).fetchone()[0]
            == 1
        )
    tampered = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    assert_problem(
        await gateway.post("/api/v1/capture-sessions", json={"collection_code": tampered, "id_last4": last4}),
        422,
        "photo.collection_code_invalid",
    )


async def test_centre_keys_see_only_their_students_photos(gateway: httpx.AsyncClient) -> None:
    number = await create_student(gateway)
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
    )
    submission_id = submitted.json()["id"]
    other = bearer(
        await create_key(gateway, ["photos:read", "photos:review", "photos:write"], centres=[OTHER_CENTRE])
    )
    own = bearer(await create_key(gateway, ["photos:read", "photos:review"], centres=[CENTRE]))
    for method, path, body in (
        ("GET", f"/api/v1/photo-submissions/{submission_id}", None),
        ("GET", f"/api/v1/photo-submissions/{submission_id}/file", None),
        ("GET", f"/api/v1/students/{number}/photos", None),
        ("POST", f"/api/v1/photo-submissions/{submission_id}/approve", None),
        ("POST", f"/api/v1/photo-submissions/{submission_id}/reject", {"reasons": ["photo.other"]}),
        ("POST", f"/api/v1/photo-submissions/{submission_id}/reopen", {"reason": "补拍"}),
        ("POST", f"/api/v1/photo-submissions/{submission_id}/chsi-status", {"chsi_state": "on_chsi"}),
    ):
        answer = await gateway.request(method, path, json=body, headers=other)
        assert answer.status_code == 404, (path, answer.text)
    queue = await gateway.get("/api/v1/photo-reviews", headers=other)
    assert submission_id not in {i["id"] for i in queue.json()["items"]}
    mine = await gateway.get("/api/v1/photo-reviews", headers=own)
    assert submission_id in {i["id"] for i in mine.json()["items"]}
    assert (await gateway.get(f"/api/v1/photo-submissions/{submission_id}", headers=own)).status_code == 200
    # A missing student answers like another centre's; the centre's own student without photos: [].
    assert (await gateway.get("/api/v1/students/2099999999/photos", headers=other)).status_code == 404
    own_without = await create_student(gateway)
    listed = await gateway.get(f"/api/v1/students/{own_without}/photos", headers=own)
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_reject_with_catalogue_reasons_bulk_approve_and_overdue(gateway: httpx.AsyncClient) -> None:
    numbers = [await create_student(gateway) for _ in range(3)]
    ids = []
    for number in numbers:
        answer = await gateway.post(
            f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
        )
        ids.append(answer.json()["id"])
    assert_problem(
        await gateway.post(f"/api/v1/photo-submissions/{ids[0]}/reject", json={"reasons": ["photo.ugly"]}),
        422,
        "photo.unknown_reason",
    )
    rejected = await gateway.post(
        f"/api/v1/photo-submissions/{ids[0]}/reject",
        json={"reasons": ["photo.glasses", "photo.other"], "comment": "眼镜反光"},
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    detail = (await gateway.get(f"/api/v1/photo-submissions/{ids[0]}")).json()
    assert detail["reviewer"] and detail["review_reasons"] == ["photo.glasses", "photo.other"]
    assert detail["resubmit_by"] is not None
    assert [h["to_state"] for h in detail["history"]] == ["submitted", "pending_review", "rejected"]

    bulk = await gateway.post("/api/v1/photo-reviews/approvals", json={"submission_ids": ids})
    assert bulk.status_code == 200, bulk.text
    assert sorted(bulk.json()["approved"]) == sorted(ids[1:])
    assert [r["code"] for r in bulk.json()["refused"]] == ["photo.illegal_transition"]
    overdue = await gateway.get("/api/v1/photo-reviews", params={"status": "overdue"})
    assert overdue.status_code == 200 and overdue.json()["items"] == []  # nothing is 2 working days old


async def test_proofreading_needs_two_confirmations_and_the_feedback_sheet(
    gateway: httpx.AsyncClient,
) -> None:
    class_code = "21机电1班"
    first = await create_student(gateway, class_code=class_code)
    second = await create_student(gateway, class_code=class_code)
    third = await create_student(gateway, class_code=class_code)
    for number in (first, second):
        await _approved_photo(gateway, number)
    path = f"/api/v1/students/{first}/photo-proofreading"
    once = await gateway.post(path, json={"action": "confirm"})
    assert once.status_code == 200, once.text
    assert once.json()["final"] is False and "再次确认" in once.json()["message_zh"]
    sheet = await gateway.get(
        "/api/v1/photo-proofreading/feedback-sheet", params={"class": class_code, "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert {r[1]: r[3] for r in rows[2:]}[first] == "未校对"  # the first confirmation changed nothing
    twice = await gateway.post(path, json={"action": "confirm"})
    assert twice.json()["final"] is True and twice.json()["proofread_state"] == "confirmed"
    assert_problem(
        await gateway.post(path, json={"action": "report_error", "detail": "x"}), 409, "photo.proofread_final"
    )
    assert_problem(
        await gateway.post(f"/api/v1/students/{second}/photo-proofreading", json={"action": "report_error"}),
        422,
        "photo.proofread_detail_required",
    )
    error = await gateway.post(
        f"/api/v1/students/{second}/photo-proofreading",
        json={"action": "report_error", "detail": "民族应为汉族"},
    )
    assert error.status_code == 200 and error.json()["final"] is True
    assert_problem(
        await gateway.post(f"/api/v1/students/{third}/photo-proofreading", json={"action": "confirm"}),
        404,
        "photo.nothing_to_proofread",
    )

    xlsx = await gateway.get("/api/v1/photo-proofreading/feedback-sheet", params={"class": class_code})
    assert xlsx.status_code == 200, xlsx.text
    sheet_rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert class_code in str(sheet_rows[0][0]) and "图像信息校对反馈表" in str(sheet_rows[0][0])
    assert list(sheet_rows[1]) == ["序号", "学号", "姓名", "校对结果", "本人签名"]
    body = [list(r) for r in sheet_rows[2:]]
    assert [r[1] for r in body] == sorted([first, second, third], reverse=True)
    result = {r[1]: r[3] for r in body}
    assert result[first] == "无误" and result[second] == "民族应为汉族" and result[third] == "未校对"
    assert all(r[4] in (None, "") for r in body) and [r[0] for r in body] in ([1, 2, 3], ["1", "2", "3"])


async def test_chsi_csv_reopen_and_completion_figures(gateway: httpx.AsyncClient) -> None:
    class_code = "21会计2班"
    numbers = [await create_student(gateway, class_code=class_code) for _ in range(3)]
    for number in numbers[:2]:
        await _approved_photo(gateway, number)
    bad = f"student_no,chsi_state\n{numbers[0]},on_chsi\n{numbers[2]},on_chsi\n".encode()
    refused = await gateway.post("/api/v1/photo-chsi-statuses", files={"file": ("c.csv", bad, "text/csv")})
    assert assert_problem(refused, 422, "photo.chsi_rows_invalid")["rows"][0]["row"] == 3
    good = f"student_no,chsi_state,reason\n{numbers[0]},on_chsi,\n{numbers[1]},chsi_rejected,人像比对不通过\n"
    applied = await gateway.post(
        "/api/v1/photo-chsi-statuses", files={"file": ("c.csv", good.encode(), "text/csv")}
    )
    assert applied.status_code == 200, applied.text
    assert [r["state"] for r in applied.json()["rows"]] == ["on_chsi", "chsi_rejected"]

    figures = await gateway.get("/api/v1/photo-completion", params={"class": class_code, "group_by": "class"})
    assert figures.status_code == 200, figures.text
    row = figures.json()["rows"][0]
    assert row["group"] == class_code and row["students"] == 3
    assert row["on_chsi"] == 1 and row["without_graduation_photo"] == 2

    photos = (await gateway.get(f"/api/v1/students/{numbers[0]}/photos")).json()["items"]
    reopened = await gateway.post(
        f"/api/v1/photo-submissions/{photos[-1]['id']}/reopen", json={"reason": "免费重拍"}
    )
    assert reopened.status_code == 200 and reopened.json()["state"] == "reopened"


async def test_bulk_import_through_the_gateway_reports_progress_and_outcomes(
    gateway: httpx.AsyncClient,
) -> None:
    enrolled = await create_student(gateway)
    graduated = await create_student(gateway, status="suspended")  # not 在籍
    data = build_zip(
        [(f"{enrolled}.jpg", graduation_photo()), (f"{graduated}.jpg", graduation_photo()), ("a/b.jpg", b"x")]
    )
    started = await gateway.post(
        "/api/v1/photo-imports",
        data={"kind": "graduation"},
        files={"file": ("p.zip", data, "application/zip")},
    )
    assert started.status_code == 202, started.text
    href = started.json()["href"]
    for _ in range(120):
        job = (await gateway.get(href)).json()
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.25)
    assert job["status"] == "done", job
    outcomes = {f["name"]: (f["outcome"], f["reason"]) for f in job["files"]}
    assert outcomes[f"{enrolled}.jpg"] == ("stored", None)
    assert outcomes[f"{graduated}.jpg"] == ("skipped", "photo_import.student_not_enrolled")
    assert outcomes["a/b.jpg"] == ("skipped", "photo_import.in_folder")
    assert job["counts"]["stored"] == 1 and job["processed"] == 3
    not_zip = await gateway.post(
        "/api/v1/photo-imports", files={"file": ("p.zip", b"nope", "application/zip")}
    )
    assert_problem(not_zip, 422, "photo_import.not_a_zip")
