"""The vertical slice and its bad inputs, written once and driven against both modes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.factories import (
    ensure_learning_centre,
    graduation_photo,
    jpeg,
    open_batch_code,
    open_batch_payload,
    student_no,
    student_payload,
    transcript_payload,
)

PROBLEM_JSON = "application/problem+json"


async def wait_for(client: httpx.AsyncClient, path: str, *, timeout_s: float = 30) -> httpx.Response:
    """Polls until the event chain has produced the resource (or times out with the last answer)."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = await client.get(path)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


async def apply_to_graduate(client: httpx.AsyncClient, number: str) -> str:
    """The graduation audit's part before the photo: a batch open for applications (the next
    quarterly one), the LMS's transcript that meets the rule set, a `graduate` application (audited
    at once: it fails only for want of the photo). Returns the batch code."""
    batch = open_batch_code()
    opened = await client.put(f"/api/v1/graduation-batches/{batch}", json=open_batch_payload())
    assert opened.status_code in (200, 201), opened.text
    transcript = await client.put(f"/api/v1/students/{number}/transcript", json=transcript_payload())
    assert transcript.status_code == 200, transcript.text
    applied = await client.post(
        f"/api/v1/graduation-batches/{batch}/applications", json={"type": "graduate", "student_nos": [number]}
    )
    assert applied.status_code == 201, applied.text
    assert applied.json()["items"][0]["failed_checks"] == ["audit.graduation_photo_approved"]
    return batch


async def sign_off(client: httpx.AsyncClient, batch: str, number: str) -> None:
    """HQ signs off the passing audit: AuditPassed, then the certificate."""
    signed = await client.post(
        f"/api/v1/graduation-batches/{batch}/sign-offs", json={"student_nos": [number]}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["signed_off"] == [number], signed.text


async def run_vertical_slice(client: httpx.AsyncClient) -> dict[str, Any]:
    number = student_no()
    await ensure_learning_centre(client)
    created = await client.put(f"/api/v1/students/{number}", json=student_payload(level="junior_college"))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "enrolled"
    assert created.json()["id_number_masked"].startswith("*****")

    batch = await apply_to_graduate(client, number)

    submitted = await client.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation"},
        files={"file": ("any-name.jpg", graduation_photo(), "image/jpeg")},
    )
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()
    assert submission["state"] == "pending_review"
    assert submission["qc"]["passed"] is True

    approved = await client.post(f"/api/v1/photo-submissions/{submission['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json() == {
        "id": submission["id"],
        "state": "approved",
        "student_no": number,
        "kind": "graduation",
    }

    # PhotoApproved re-audits the application without anyone asking; HQ then signs it off.
    deadline = time.monotonic() + 30
    while (audit := (await client.get(f"/api/v1/students/{number}/audit")).json())["result"] != "passed":
        assert time.monotonic() < deadline, audit
        await asyncio.sleep(0.1)
    await sign_off(client, batch, number)

    certificate = await wait_for(client, f"/api/v1/students/{number}/certificate")
    assert certificate.status_code == 200, certificate.text
    body = certificate.json()
    assert len(body["number"]) == 18 and body["number"].isdigit()
    assert body["number"].startswith("51357")
    assert body["number"][10:12] == "06"  # 专科
    assert body["status"] == "valid"

    assert all(check["passed"] for check in audit["checks"])

    by_number = await client.get(f"/api/v1/certificates/{body['number']}")
    assert by_number.json()["student_no"] == number

    # CertificateIssued flows back to the registry: the student is now 毕业.
    deadline = time.monotonic() + 30
    while (student := (await client.get(f"/api/v1/students/{number}")).json())["status"] != "graduated":
        assert time.monotonic() < deadline, student
        await asyncio.sleep(0.1)
    assert student["status_label_zh"] == "毕业"
    return {"student_no": number, "certificate": body}


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["message_zh"] and body["detail"] and body["title"]
    if code:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


async def check_bad_inputs_change_nothing(client: httpx.AsyncClient) -> None:
    number = student_no()
    await ensure_learning_centre(client)

    malformed = await client.put(
        f"/api/v1/students/{number}", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 400, "request.malformed_json")

    wrong_types = await client.put(
        f"/api/v1/students/{number}", json=student_payload(gender=7, birth_date="yesterday", level="phd")
    )
    body = assert_problem(wrong_types, 422, "request.validation_failed")
    assert {"gender", "birth_date", "level"} <= {e["field"] for e in body["errors"]}

    bad_checksum = student_payload()
    bad_checksum["id_number"] = bad_checksum["id_number"][:17] + (
        "0" if bad_checksum["id_number"][17] != "0" else "1"
    )
    assert_problem(
        await client.put(f"/api/v1/students/{number}", json=bad_checksum), 422, "registry.id_number_checksum"
    )

    assert_problem(await client.get(f"/api/v1/students/{number}"), 404, "registry.student_not_found")

    unknown_photo = await client.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", jpeg(), "image/jpeg")}
    )
    assert_problem(unknown_photo, 404, "photo.student_not_found")
    assert (await client.get(f"/api/v1/students/{number}/photos")).json()["items"] == []

    created = await client.put(f"/api/v1/students/{number}", json=student_payload())
    assert created.status_code == 201
    not_an_image = await client.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation"},
        files={"file": ("photo.jpg", b"%PDF-1.4 definitely not a picture", "image/jpeg")},
    )
    assert_problem(not_an_image, 422, "photo.format")
    bad_kind = await client.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "selfie"},
        files={"file": ("p.jpg", jpeg(), "image/jpeg")},
    )
    assert_problem(bad_kind, 422, "request.validation_failed")
    no_file = await client.post(f"/api/v1/students/{number}/photos", data={"kind": "graduation"})
    assert_problem(no_file, 422, "request.validation_failed")
    assert (await client.get(f"/api/v1/students/{number}/photos")).json()["items"] == []

    wrong_size = await client.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", jpeg(100, 100), "image/jpeg")}
    )
    assert wrong_size.status_code == 201
    assert wrong_size.json()["state"] == "auto_rejected"
    assert_problem(
        await client.post(f"/api/v1/photo-submissions/{wrong_size.json()['id']}/approve"),
        409,
        "photo.illegal_transition",
    )
    assert_problem(await client.post("/api/v1/photo-submissions/not-a-uuid/approve"), 422)
    assert_problem(
        await client.post("/api/v1/photo-submissions/00000000-0000-0000-0000-000000000000/approve"),
        404,
        "photo.submission_not_found",
    )
    assert_problem(await client.get(f"/api/v1/students/{number}/certificate"), 404, "certificates.not_found")
    assert_problem(await client.get("/api/v1/no-such-thing"), 404, "route.not_found")
    assert_problem(await client.delete(f"/api/v1/students/{number}"), 405)

    graduated_by_hand = await client.put(
        f"/api/v1/students/{number}", json=student_payload(status="graduated")
    )
    assert_problem(graduated_by_hand, 409, "registry.status_graduated_reserved")
    student = (await client.get(f"/api/v1/students/{number}")).json()
    assert student["status"] == "enrolled" and student["version"] == 1
