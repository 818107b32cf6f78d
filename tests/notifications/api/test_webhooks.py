"""Webhooks on the embedded suite: the gateway's worker consumes the services' events and POSTs
signed deliveries to partners' URLs (a real loopback HTTP server here), with retries and a log."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gradops_notifications.domain.signing import SIGNATURE_HEADER, backoff_seconds, verify
from gradops_suite.embedded import embedded_client
from tests.e2e.slice import assert_problem
from tests.factories import create_student, student_payload
from tests.support.gateway_tools import Receiver, bearer, create_key, webhook_receiver

FAST_RETRIES: dict[str, object] = {
    "webhook_poll_seconds": 0.1,
    "webhook_first_retry_seconds": 0.2,
    "webhook_timeout_seconds": 2.0,
    "webhook_retry_hours": 4 / 3600,  # give up after 4 s
    # The receiver listens on loopback: allowed by the operator's list, as a partner's intranet
    # host would be (the default refuses it, see test_webhook_targets).
    "webhook_allowed_networks": ["127.0.0.1/32"],
}


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with embedded_client(tmp_path, service_overrides={"notifications": FAST_RETRIES}) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as running:
        yield running


async def subscribe(
    client: httpx.AsyncClient, url: str, event_types: list[str], headers: dict[str, str] | None = None
) -> dict[str, str]:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": event_types}, headers=headers or {}
    )
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    assert created["secret"].startswith("whsec_")
    return created


async def deliveries(client: httpx.AsyncClient, webhook_id: str) -> list[dict[str, object]]:
    response = await client.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_a_delivery_is_signed_filtered_by_type_and_carries_the_request_id(
    suite: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await subscribe(suite, receiver.url("lms"), ["StudentRegistered"])
    number = await create_student(suite)
    await suite.put(f"/api/v1/students/{number}", json=student_payload(major="会计"))  # StudentUpdated
    other = await suite.put(
        f"/api/v1/students/{number}1", json=student_payload(), headers={"x-request-id": "trace-webhook-1"}
    )
    assert other.status_code == 201
    received = await receiver.wait_for("lms", 2)
    await asyncio.sleep(0.5)
    assert len(receiver.at("lms")) == 2  # StudentUpdated was not subscribed to
    envelopes = [json.loads(r.body) for r in received]
    assert [e["type"] for e in envelopes] == ["StudentRegistered", "StudentRegistered"]
    assert {e["student_no"] for e in envelopes} == {number, f"{number}1"}
    last = received[-1]
    assert verify(hook["secret"], last.headers[SIGNATURE_HEADER.lower()], last.body)
    assert not verify("whsec_wrong", last.headers[SIGNATURE_HEADER.lower()], last.body)
    assert not verify(hook["secret"], last.headers[SIGNATURE_HEADER.lower()], last.body + b" ")
    assert last.headers["x-request-id"] == "trace-webhook-1"
    assert last.headers["x-gradops-event"] == "StudentRegistered"
    assert "id_number" not in last.body.decode()

    log = await deliveries(suite, hook["id"])
    assert {d["status"] for d in log} == {"delivered"} and len(log) == 2
    detail = (await suite.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{log[0]['id']}")).json()
    assert detail["attempt_log"][0]["status_code"] == 200


async def test_a_centre_key_hears_only_of_its_own_students(
    suite: httpx.AsyncClient, receiver: Receiver
) -> None:
    centre_b = await create_key(suite, ["webhooks:manage"], centres=["5135702"])
    hook = await subscribe(suite, receiver.url("centre-b"), ["*"], headers=bearer(centre_b))
    assert hook["centres"] == ["5135702"]  # type: ignore[comparison-overlap]
    await create_student(suite, learning_centre="5135701")
    mine = await create_student(suite, learning_centre="5135702")
    received = await receiver.wait_for("centre-b", 1)
    await asyncio.sleep(0.5)
    assert [json.loads(r.body)["student_no"] for r in receiver.at("centre-b")] == [mine]
    assert len(received) == 1
    # Subscriptions belong to the key that made them: another centre's key cannot see them.
    centre_c = await create_key(suite, ["webhooks:manage"], centres=["5135703"])
    assert_problem(
        await suite.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(centre_c)), 404, "webhook.not_found"
    )
    listed = (await suite.get("/api/v1/webhooks", headers=bearer(centre_c))).json()["items"]
    assert listed == []


async def test_a_failing_or_slow_partner_never_slows_the_others(tmp_path: Path, receiver: Receiver) -> None:
    # The slow partner answers only when the test opens its gate, and the attempt timeout is far
    # away: its attempts cannot finish on their own while the others are being delivered.
    receiver.statuses["broken"] = 500
    receiver.gates["slow"] = asyncio.Event()
    overrides = {**FAST_RETRIES, "webhook_timeout_seconds": 60.0}
    async with embedded_client(tmp_path, service_overrides={"notifications": overrides}) as suite:
        broken = await subscribe(suite, receiver.url("broken"), ["StudentRegistered"])
        slow = await subscribe(suite, receiver.url("slow"), ["StudentRegistered"])
        await subscribe(suite, receiver.url("healthy"), ["StudentRegistered"])
        for _ in range(6):
            await create_student(suite)

        await receiver.wait_for("healthy", 6)
        # Every healthy delivery went out while no slow attempt had finished: the slow partner
        # held only its own slots (4 per subscription), never the dispatcher.
        slow_log = await deliveries(suite, slow["id"])
        assert len(slow_log) == 6 and all(d["attempts"] == 0 for d in slow_log), slow_log
        assert receiver.arrived["slow"] <= 4
        # Nor did the failing partner: it kept being retried meanwhile, and the slow partner
        # still has no more than its 4 requests in flight once the failing one has given up.
        await wait_until_all(suite, broken["id"], "failed")
        assert receiver.arrived["slow"] == 4
        # It was retried on the schedule the worker computed (its recorded `next_attempt_at`), however
        # busy the machine: no wall-clock gap is measured here.
        for failed in await deliveries(suite, broken["id"]):
            detail = (await suite.get(f"/api/v1/webhooks/{broken['id']}/deliveries/{failed['id']}")).json()
            assert_backoff_schedule(detail, first_retry=0.2)
        assert all(d["attempts"] == 0 for d in await deliveries(suite, slow["id"]))

        receiver.gates["slow"].set()
        await wait_until_all(suite, slow["id"], "delivered")
        assert len(receiver.at("slow")) == 6


async def test_a_failing_partner_is_retried_on_the_backoff_schedule_then_given_up(
    suite: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses["broken"] = 500
    receiver.bodies["broken"] = b"internal: db password hunter2"
    receiver.delays["slow"] = 3.0  # longer than the 2 s attempt timeout
    broken = await subscribe(suite, receiver.url("broken"), ["StudentRegistered"])
    slow = await subscribe(suite, receiver.url("slow"), ["StudentRegistered"])
    await create_student(suite)

    await wait_until_all(suite, broken["id"], "failed")
    first = (await deliveries(suite, broken["id"]))[0]
    response = await suite.get(f"/api/v1/webhooks/{broken['id']}/deliveries/{first['id']}")
    detail = response.json()
    attempts = detail["attempt_log"]
    assert len(attempts) >= 3
    # The schedule the worker computed and recorded: 0.2 s after the first attempt, then 0.4 s,
    # 0.8 s... each next attempt no earlier than planned, and given up when the next retry would
    # fall outside the retry window.
    assert_backoff_schedule(detail, first_retry=0.2)
    # The log says what happened, never what the target answered.
    assert {a["error"] for a in attempts} == {"HTTP 500"} and detail["last_error"] == "HTTP 500"
    assert "hunter2" not in response.text
    await wait_until_all(suite, slow["id"], "failed")
    slow_log = await deliveries(suite, slow["id"])
    assert all(str(d["last_error"]).startswith("timeout after 2 s") for d in slow_log), slow_log

    # Replay: once the partner is fixed, a failed delivery can be sent again.
    receiver.statuses["broken"] = 200
    replayed = await suite.post(f"/api/v1/webhooks/{broken['id']}/deliveries/{first['id']}/replay")
    assert replayed.status_code == 202
    await wait_until_all(suite, broken["id"], "delivered")


def assert_backoff_schedule(detail: dict[str, Any], *, first_retry: float) -> None:
    """Each attempt scheduled the next one `backoff_seconds` later, the next one came no earlier,
    and the last one scheduled nothing (given up: the next retry fell outside the window)."""
    attempts = detail["attempt_log"]
    assert attempts and all(a["status_code"] == 500 for a in attempts), attempts
    for number, (attempt, following) in enumerate(itertools.pairwise(attempts), start=1):
        planned = _ts(attempt["next_attempt_at"]) - _ts(attempt["attempted_at"])
        assert abs(planned - backoff_seconds(number, first_retry, 3600)) < 0.002, attempts
        assert _ts(following["attempted_at"]) >= _ts(attempt["next_attempt_at"]), attempts
    last = attempts[-1]
    assert last["next_attempt_at"] is None, attempts
    retry = backoff_seconds(len(attempts), first_retry, 3600)
    assert _ts(last["attempted_at"]) + retry >= _ts(detail["give_up_at"]), attempts


async def wait_until_all(
    client: httpx.AsyncClient, webhook_id: str, status: str, timeout_s: float = 30
) -> None:
    deadline = time.monotonic() + timeout_s
    while {d["status"] for d in await deliveries(client, webhook_id)} != {status}:
        assert time.monotonic() < deadline, await deliveries(client, webhook_id)
        await asyncio.sleep(0.1)


async def test_bad_subscriptions_are_refused(suite: httpx.AsyncClient) -> None:
    assert_problem(
        await suite.post("/api/v1/webhooks", json={"url": "http://x.test/h", "event_types": ["Nope"]}),
        422,
        "webhook.event_type_unknown",
    )
    assert_problem(
        await suite.post("/api/v1/webhooks", json={"url": "not a url", "event_types": ["*"]}),
        422,
        "request.validation_failed",
    )
    reader = await create_key(suite, ["registry:read"])
    assert_problem(await suite.get("/api/v1/webhooks", headers=bearer(reader)), 403, "auth.scope_missing")


def _ts(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
