"""The embedded suite under the edge checks of issue 13: nothing secret or personal in any log line
(a forced unhandled error included), one log line per request, a 500 that carries X-Request-ID, and
one create for many parallel requests with one Idempotency-Key."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from gradops_registry.repository import StudentRepository
from gradops_shared.logging import configure_logging
from gradops_shared.principal import PRINCIPAL_HEADER
from gradops_suite.embedded import embedded_client
from tests.e2e.slice import assert_problem
from tests.factories import ensure_learning_centre, resident_id, student_no, student_payload
from tests.support.gateway_tools import bearer, create_key

SECRET_KEY = "gok_edge-secret-bootstrap-key-do-not-log-0001"


class _Stdout(io.StringIO):
    def isatty(self) -> bool:
        return False  # JSON lines, as in production


@pytest.fixture
def captured_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Every log line of the suite (structlog and the standard library) while the test runs."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    sink = _Stdout()
    monkeypatch.setattr(sys, "stdout", sink)
    configure_logging("edge-test")
    try:
        yield sink
    finally:
        structlog.configure(**saved)
        structlog.contextvars.clear_contextvars()
        root.handlers, root.level = handlers, level


@pytest.fixture
async def gateway(tmp_path: Path, captured_logs: io.StringIO) -> AsyncIterator[httpx.AsyncClient]:
    async with embedded_client(tmp_path, bootstrap_api_key=SECRET_KEY) as client:
        yield client


def _lines(sink: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.getvalue().splitlines() if line.startswith("{")]


async def test_no_log_line_holds_a_key_an_id_number_a_query_or_the_principal(
    gateway: httpx.AsyncClient, captured_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ensure_learning_centre(gateway, "5135701")
    partner = await create_key(gateway, ["registry:read", "registry:write", "pii:read"])
    partner_key = partner["api_key"]
    id_numbers = [resident_id() for _ in range(3)]
    number = student_no()
    created = await gateway.put(
        f"/api/v1/students/{number}",
        json=student_payload(id_number=id_numbers[0]),
        headers=bearer(partner_key),
    )
    assert created.status_code == 201, created.text
    found = await gateway.get(
        "/api/v1/students", params={"id_number": id_numbers[0]}, headers=bearer(partner_key)
    )
    assert found.status_code == 200 and found.json()["count"] == 1
    # A bad body that quotes an ID number, and a wrong key: refused, and refusals log nothing secret.
    bad = await gateway.put(
        f"/api/v1/students/{student_no()}",
        json=student_payload(id_number=id_numbers[1], gender="robot"),
        headers=bearer(partner_key),
    )
    assert bad.status_code == 422
    assert (await gateway.get("/api/v1/students", headers=bearer(partner_key + "x"))).status_code == 401

    # A forced unhandled error deep in a handler whose frame holds the request (headers, query).
    async def broken_count(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError(f"count failed for id_number={id_numbers[2]} (Bearer {partner_key})")

    monkeypatch.setattr(StudentRepository, "count", broken_count)
    failed = await gateway.get(
        "/api/v1/students",
        params={"id_number": id_numbers[2], "name_prefix": "张"},
        headers={**bearer(partner_key), "x-request-id": "edge-boom-1"},
    )
    assert_problem(failed, 500, "internal.error")
    assert failed.headers["x-request-id"] == "edge-boom-1"
    assert failed.json()["request_id"] == "edge-boom-1"
    assert id_numbers[2] not in failed.text and "RuntimeError" not in failed.text

    text = captured_logs.getvalue()
    lines = _lines(captured_logs)
    errors = [line for line in lines if line.get("event") == "unhandled_error"]
    assert len(errors) == 1, "the error is logged once, by the service that raised it"
    assert errors[0]["request_id"] == "edge-boom-1" and errors[0]["exception"]
    assert "RuntimeError" in json.dumps(errors[0]) and "locals" not in json.dumps(errors[0])
    # What the exception message quoted is masked, the rest of it kept.
    assert "count failed for id_number=[id number redacted] (Bearer [redacted])" in json.dumps(errors[0])
    for secret in [SECRET_KEY, partner_key, *id_numbers, "name_prefix", PRINCIPAL_HEADER]:
        assert secret not in text, f"{secret!r} reached the logs"
    assert "eyJ" not in text  # the signed principal's body (base64url of a JSON object)
    assert len(text) < 60_000, "a failing request logs a few hundred bytes, not the whole scope"


async def test_each_request_is_logged_once_with_its_path_and_no_query(
    gateway: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    for n in range(3):
        response = await gateway.get(
            "/api/v1/learning-centres", params={"q": "secret-query"}, headers={"x-request-id": f"once-{n}"}
        )
        assert response.status_code in (200, 404), response.text
    access = [line for line in _lines(captured_logs) if line.get("event") == "http_request"]
    for n in range(3):
        mine = [line for line in access if line.get("request_id") == f"once-{n}"]
        assert len(mine) == 1, mine
        assert mine[0]["path"] == "/api/v1/learning-centres" and mine[0]["process"] == "edge-test"
    assert "secret-query" not in captured_logs.getvalue()


async def test_twenty_parallel_creates_with_one_key_make_one_api_key(gateway: httpx.AsyncClient) -> None:
    before = (await gateway.get("/api/v1/admin/api-keys", params={"limit": 500})).json()["items"]
    idem = {"idempotency-key": str(uuid.uuid4())}
    body = {"name": "parallel", "scopes": ["registry:read"], "centres": None}
    answers = await asyncio.gather(
        *(gateway.post("/api/v1/admin/api-keys", json=body, headers=idem) for _ in range(20))
    )
    after = (await gateway.get("/api/v1/admin/api-keys", params={"limit": 500})).json()["items"]
    assert len(after) == len(before) + 1
    created = [a for a in answers if a.status_code == 201]
    assert created and all(a.status_code in (201, 409) for a in answers), [a.status_code for a in answers]
    assert len({a.json()["api_key"] for a in created}) == 1
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["code"] == "idempotency.in_flight"
    replay = await gateway.post("/api/v1/admin/api-keys", json=body, headers=idem)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["api_key"] == created[0].json()["api_key"]
    other = await gateway.post("/api/v1/admin/api-keys", json={**body, "name": "other"}, headers=idem)
    assert_problem(other, 422, "idempotency.key_reused")


async def test_twenty_parallel_webhook_subscriptions_with_one_key_make_one(
    gateway: httpx.AsyncClient,
) -> None:
    idem = {"idempotency-key": str(uuid.uuid4())}
    body = {"url": "https://partner.example.com/hook", "event_types": ["StudentRegistered"]}
    answers = await asyncio.gather(
        *(gateway.post("/api/v1/webhooks", json=body, headers=idem) for _ in range(20))
    )
    # example.com is public (or does not resolve here): either way the target is accepted.
    statuses = {a.status_code for a in answers}
    assert statuses <= {201, 409}, statuses
    subscriptions = (await gateway.get("/api/v1/webhooks", params={"limit": 500})).json()["items"]
    assert len([s for s in subscriptions if s["url"] == body["url"]]) == 1
