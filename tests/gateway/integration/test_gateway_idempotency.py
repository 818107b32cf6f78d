"""Idempotency-Key at the gateway, on real PostgreSQL: replays, reuse with another body,
concurrent duplicates, per-key scope, 5xx not kept, large bodies spooled, expiry."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from gradops_gateway.app import create_app
from gradops_gateway.idempotency import BODY_OMITTED_HEADER, REPLAY_HEADER
from gradops_gateway.settings import GatewaySettings
from tests.e2e.slice import assert_problem
from tests.support.gateway_tools import bearer, create_key

WRITE = [{"GradOpsPrincipal": ["registry:write"]}]
SPEC: dict[str, dict[str, Any]] = {
    "echo": {
        "paths": {
            "/api/v1/things/{thing}": {"put": {"security": WRITE}, "post": {"security": WRITE}},
        }
    }
}
BOOTSTRAP = "gok_idempotency-test-bootstrap"


class Upstream:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.delay = 0.0
        self.fail_next: dict[str, int] = {}
        self.app = FastAPI()

        @self.app.api_route("/api/v1/things/{thing}", methods=["PUT", "POST"])
        async def thing(thing: str, request: Request) -> Response:
            body = await request.body()
            self.calls[thing] += 1
            await asyncio.sleep(self.delay)
            if self.fail_next.get(thing):
                self.fail_next[thing] -= 1
                return JSONResponse({"error": "busy"}, status_code=503)
            if thing == "huge":
                return Response(b"y" * 200_000, media_type="application/octet-stream", status_code=201)
            return JSONResponse(
                {"thing": thing, "call": self.calls[thing], "size": len(body)},
                status_code=201,
                headers={"location": f"/api/v1/things/{thing}"},
            )


@pytest.fixture
async def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
async def gateway(postgres_url: str, upstream: Upstream) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(
        services={"echo": "http://echo"},
        database_url=postgres_url,
        bootstrap_api_key=BOOTSTRAP,
        idempotency_max_body_bytes=64 * 1024,
    )
    app = create_app(settings, specs=SPEC, transports={"echo": httpx.ASGITransport(app=upstream.app)})
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw", headers=bearer(BOOTSTRAP)
        ) as client,
    ):
        yield client


def _key(name: str) -> dict[str, str]:
    import uuid

    return {"idempotency-key": f"{name}-{uuid.uuid4()}"}


async def test_a_retry_gets_the_first_answer_and_runs_nothing(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    key = _key("retry")
    first = await gateway.put("/api/v1/things/a", json={"n": 1}, headers=key)
    again = await gateway.put("/api/v1/things/a", json={"n": 1}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"thing": "a", "call": 1, "size": 7}
    assert again.headers[REPLAY_HEADER] == "true" and REPLAY_HEADER.lower() not in first.headers
    assert again.headers["location"] == "/api/v1/things/a"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # the replay is its own request
    assert upstream.calls["a"] == 1
    # Without the header, each call runs.
    assert (await gateway.put("/api/v1/things/a", json={"n": 1})).json()["call"] == 2


async def test_the_same_key_with_another_body_or_path_is_422(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    key = _key("reuse")
    assert (await gateway.put("/api/v1/things/b", json={"n": 1}, headers=key)).status_code == 201
    assert_problem(
        await gateway.put("/api/v1/things/b", json={"n": 2}, headers=key), 422, "idempotency.key_reused"
    )
    assert_problem(
        await gateway.put("/api/v1/things/other", json={"n": 1}, headers=key), 422, "idempotency.key_reused"
    )
    assert upstream.calls["b"] == 1 and upstream.calls["other"] == 0


async def test_a_concurrent_duplicate_gets_409_and_runs_once(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    upstream.delay = 0.5
    key = _key("race")
    first, second = await asyncio.gather(
        gateway.post("/api/v1/things/c", json={"n": 1}, headers=key),
        gateway.post("/api/v1/things/c", json={"n": 1}, headers=key),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    loser = first if first.status_code == 409 else second
    assert_problem(loser, 409, "idempotency.in_flight")
    assert upstream.calls["c"] == 1
    replay = await gateway.post("/api/v1/things/c", json={"n": 1}, headers=key)
    assert replay.status_code == 201 and replay.headers[REPLAY_HEADER] == "true"


async def test_keys_are_scoped_per_api_key(gateway: httpx.AsyncClient, upstream: Upstream) -> None:
    other = await create_key(gateway, ["registry:write"])
    key = _key("scoped")
    await gateway.put("/api/v1/things/d", json={"n": 1}, headers=key)
    theirs = await gateway.put("/api/v1/things/d", json={"n": 1}, headers={**key, **bearer(other)})
    assert theirs.status_code == 201 and REPLAY_HEADER.lower() not in theirs.headers
    assert upstream.calls["d"] == 2


async def test_a_5xx_is_not_kept_so_the_retry_runs(gateway: httpx.AsyncClient, upstream: Upstream) -> None:
    upstream.fail_next["e"] = 1
    key = _key("fail")
    assert (await gateway.put("/api/v1/things/e", json={"n": 1}, headers=key)).status_code == 503
    retried = await gateway.put("/api/v1/things/e", json={"n": 1}, headers=key)
    assert retried.status_code == 201 and REPLAY_HEADER.lower() not in retried.headers
    assert upstream.calls["e"] == 2


async def test_large_bodies_are_spooled_and_large_answers_kept_as_status_only(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    big = b"x" * 3_000_000  # beyond the 64 KiB in-memory cap: hashed while spooled to a file
    key = _key("big")
    first = await gateway.post("/api/v1/things/f", content=big, headers=key)
    assert first.json()["size"] == len(big)
    again = await gateway.post("/api/v1/things/f", content=big, headers=key)
    assert again.headers[REPLAY_HEADER] == "true" and again.json() == first.json()
    assert_problem(
        await gateway.post("/api/v1/things/f", content=big[:-1] + b"y", headers=key),
        422,
        "idempotency.key_reused",
    )
    assert upstream.calls["f"] == 1

    key = _key("huge")
    huge = await gateway.post("/api/v1/things/huge", content=b"{}", headers=key)
    assert huge.status_code == 201 and len(huge.content) == 200_000  # streamed whole the first time
    replay = await gateway.post("/api/v1/things/huge", content=b"{}", headers=key)
    assert replay.status_code == 201 and replay.headers[BODY_OMITTED_HEADER] == "true"
    assert upstream.calls["huge"] == 1


async def test_an_expired_record_lets_the_key_run_again(postgres_url: str, upstream: Upstream) -> None:
    settings = GatewaySettings(
        services={"echo": "http://echo"},
        database_url=postgres_url,
        bootstrap_api_key=BOOTSTRAP,
        idempotency_ttl_hours=0.5 / 3600,  # half a second
    )
    app = create_app(settings, specs=SPEC, transports={"echo": httpx.ASGITransport(app=upstream.app)})
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw", headers=bearer(BOOTSTRAP)
        ) as client,
    ):
        key = _key("ttl")
        await client.put("/api/v1/things/g", json={}, headers=key)
        await asyncio.sleep(0.6)
        again = await client.put("/api/v1/things/g", json={}, headers=key)
        assert again.status_code == 201 and REPLAY_HEADER.lower() not in again.headers
        assert upstream.calls["g"] == 2
        assert await app.state.idempotency.purge_expired() == 0  # the rerun replaced the expired record
