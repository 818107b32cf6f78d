"""The student timeline on the embedded suite: the whole vertical slice, then one call shows every
step in order, across services, with who/what/why and no ID number; tenancy and pagination."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gradops_suite.embedded import embedded_client
from tests.e2e.slice import assert_problem, run_vertical_slice
from tests.factories import ensure_learning_centre, student_no, student_payload
from tests.support.gateway_tools import bearer, create_key


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with embedded_client(tmp_path) as client:
        yield client


async def timeline_until(
    client: httpx.AsyncClient, number: str, wanted: str, *, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every entry (all pages), once an entry of type `wanted` has arrived."""
    deadline = time.monotonic() + 30
    while True:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(
                f"/api/v1/students/{number}/timeline", params=params, headers=headers or {}
            )
            if response.status_code == 404:
                break
            assert response.status_code == 200, response.text
            body = response.json()
            items += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        if any(item["type"] == wanted for item in items):
            return items
        assert time.monotonic() < deadline, items
        await asyncio.sleep(0.1)


def subsequence(types: list[str], expected: list[str]) -> bool:
    remaining = iter(types)
    return all(any(t == wanted for t in remaining) for wanted in expected)


async def test_the_timeline_shows_the_whole_slice_in_order(suite: httpx.AsyncClient) -> None:
    outcome = await run_vertical_slice(suite)
    number = outcome["student_no"]
    items = await timeline_until(suite, number, "StudentStatusChanged")
    types = [item["type"] for item in items]
    assert subsequence(
        types,
        [
            "StudentRegistered",
            "AuditFailed",
            "PhotoSubmitted",
            "PhotoApproved",
            "AuditPassed",
            "CertificateIssued",
            "StudentStatusChanged",
        ],
    ), types
    times = [item["occurred_at"] for item in items]
    assert times == sorted(times)
    assert len({item["event_id"] for item in items}) == len(items)  # each event once, over pages
    by_type = {item["type"]: item for item in items}
    assert by_type["StudentRegistered"]["producer"] == "registry"
    assert by_type["StudentRegistered"]["summary_zh"].startswith("学籍注册：张三")
    assert by_type["StudentRegistered"]["data"]["learning_centre"] == "5135701"
    assert by_type["AuditFailed"]["data"]["failed_checks"] == ["audit.graduation_photo_approved"]
    assert "audit.graduation_photo_approved" in by_type["AuditFailed"]["summary_en"]
    issued = by_type["CertificateIssued"]
    assert issued["data"]["number"] == outcome["certificate"]["number"]
    assert outcome["certificate"]["number"] in issued["summary_zh"]
    assert issued["producer"] == "certificates"
    assert by_type["StudentStatusChanged"]["data"]["to_status"] == "graduated"
    assert "毕业" in by_type["StudentStatusChanged"]["summary_zh"]
    assert all(item["request_id"] for item in items if item["producer"] != "certificates")
    # Nothing sensitive, whatever the events carried.
    text = json.dumps(items, ensure_ascii=False)
    payload = student_payload()
    assert payload["id_number"] not in text and "id_number" not in text
    assert "birth_date" not in text and "student_no" not in json.dumps([i["data"] for i in items])
    # A public lookup (no key) shows on the timeline; the name asked never does.
    number_on_paper = outcome["certificate"]["number"]
    looked_up = await suite.get(
        f"/api/v1/verify/{number_on_paper}", params={"name": "李四"}, headers={"authorization": ""}
    )
    assert looked_up.status_code == 200 and looked_up.json()["result"] == "unknown"
    verified = await timeline_until(suite, number, "VerificationPerformed")
    [lookup] = [i for i in verified if i["type"] == "VerificationPerformed"]
    assert lookup["data"] == {
        "number": number_on_paper,
        "via": "number",
        "result": "unknown",
        "name_matched": False,
    }
    assert "姓名不符" in lookup["summary_zh"] and "李四" not in json.dumps(verified, ensure_ascii=False)
    # Filtered by type.
    only = await suite.get(
        f"/api/v1/students/{number}/timeline", params={"type": ["PhotoApproved", "CertificateIssued"]}
    )
    assert [i["type"] for i in only.json()["items"]] == ["PhotoApproved", "CertificateIssued"]


async def test_a_request_id_leads_from_the_call_to_its_entry(suite: httpx.AsyncClient) -> None:
    await ensure_learning_centre(suite)
    number = student_no()
    created = await suite.put(
        f"/api/v1/students/{number}", json=student_payload(), headers={"x-request-id": "call-from-registrar"}
    )
    assert created.status_code == 201, created.text
    items = await timeline_until(suite, number, "StudentRegistered")
    assert items[0]["request_id"] == "call-from-registrar"
    page = await suite.get(f"/api/v1/students/{number}/timeline")
    assert page.json()["learning_centre"] == "5135701"
    assert page.json()["next_cursor"] is None


async def test_tenancy_scope_and_bad_cursor(suite: httpx.AsyncClient) -> None:
    await ensure_learning_centre(suite)
    await ensure_learning_centre(suite, "5135702")
    mine, theirs = student_no(), student_no()
    for number, centre in ((mine, "5135701"), (theirs, "5135702")):
        created = await suite.put(f"/api/v1/students/{number}", json=student_payload(learning_centre=centre))
        assert created.status_code == 201, created.text
    centre_key = await create_key(suite, ["registry:read"], centres=["5135701"])
    own = await timeline_until(suite, mine, "StudentRegistered", headers=bearer(centre_key))
    assert own[0]["type"] == "StudentRegistered"
    await timeline_until(suite, theirs, "StudentRegistered")  # HQ sees it: it has arrived
    other = await suite.get(f"/api/v1/students/{theirs}/timeline", headers=bearer(centre_key))
    unknown = await suite.get(f"/api/v1/students/{student_no()}/timeline", headers=bearer(centre_key))
    assert_problem(other, 404, "timeline.student_not_found")
    assert other.json()["detail"] == unknown.json()["detail"].replace(unknown.url.path.split("/")[4], theirs)
    photo_key = await create_key(suite, ["photos:read"])
    assert_problem(await suite.get(f"/api/v1/students/{mine}/timeline", headers=bearer(photo_key)), 403)
    assert_problem(
        await suite.get(f"/api/v1/students/{mine}/timeline", params={"cursor": "not-a-cursor"}),
        422,
        "timeline.cursor_invalid",
    )
    assert_problem(await suite.get(f"/api/v1/students/{student_no()}/timeline"), 404)
