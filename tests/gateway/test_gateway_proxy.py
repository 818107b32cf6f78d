"""The gateway's proxy against small upstreams: headers, request ids, bodies, 502 and 504."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from gradops_gateway.app import create_app
from gradops_gateway.settings import GatewaySettings
from gradops_shared.migrations import upgrade
from tests.e2e.slice import assert_problem

SPEC: dict[str, dict[str, Any]] = {
    "echo": {"paths": {"/api/v1/echo/{thing}": {"post": {}, "get": {}}}},
}


def echo_upstream() -> FastAPI:
    app = FastAPI()

    @app.api_route("/api/v1/echo/{thing}", methods=["GET", "POST"])
    async def echo(thing: str, request: Request, response: Response) -> dict[str, Any]:
        body = await request.body()
        response.set_cookie("upstream_session", "partner-a")
        return {
            "thing": thing,
            "query": str(request.url.query),
            "headers": dict(request.headers),
            "size": len(body),
        }

    return app


async def gateway_database(directory: Path) -> str:
    """The gateway keeps keys and idempotency records in its own schema; SQLite file here."""
    url = f"sqlite+aiosqlite:///{directory / 'gateway.db'}"
    await asyncio.to_thread(upgrade, "gateway", url)
    return url


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        GatewaySettings(services={"echo": "http://echo"}, database_url=await gateway_database(tmp_path)),
        specs=SPEC,
        transports={"echo": httpx.ASGITransport(app=echo_upstream())},
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        yield client


async def test_hop_by_hop_headers_stay_behind_and_the_request_id_goes_along(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get(
        "/api/v1/echo/x?a=1&b=%E5%BC%A0",
        headers={
            "keep-alive": "timeout=5",
            "te": "trailers",
            "proxy-authorization": "secret",
            "x-partner": "lms",
        },
    )
    assert response.status_code == 200
    seen = response.json()
    assert seen["query"] == "a=1&b=%E5%BC%A0"
    assert seen["headers"]["x-partner"] == "lms"
    for hop in ("keep-alive", "te", "proxy-authorization"):
        assert hop not in seen["headers"]
    assert seen["headers"]["x-request-id"] == response.headers["x-request-id"]


async def test_large_bodies_pass_through_whole(gateway: httpx.AsyncClient) -> None:
    payload = b"x" * 3_000_000
    response = await gateway.post("/api/v1/echo/upload", content=payload)
    assert response.json()["size"] == len(payload)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _gateway_to(
    url: str, directory: Path, read_timeout: float = 0.5
) -> tuple[FastAPI, httpx.AsyncClient]:
    settings = GatewaySettings(
        services={"echo": url},
        read_timeout_seconds=read_timeout,
        database_url=await gateway_database(directory),
    )
    app = create_app(settings, specs=SPEC)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


async def test_a_service_that_is_down_gives_502(tmp_path: Path) -> None:
    app, client = await _gateway_to(f"http://127.0.0.1:{_free_port()}", tmp_path)
    async with app.router.lifespan_context(app), client:
        assert_problem(await client.get("/api/v1/echo/x"), 502, "gateway.service_unavailable")


async def test_a_service_that_does_not_answer_gives_504(tmp_path: Path) -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app, client = await _gateway_to(f"http://127.0.0.1:{port}", tmp_path, read_timeout=0.3)
    try:
        async with app.router.lifespan_context(app), client:
            assert_problem(await client.get("/api/v1/echo/x"), 504, "gateway.service_timeout")
    finally:
        server.close()


async def test_a_cookie_set_by_a_service_never_reaches_another_caller(gateway: httpx.AsyncClient) -> None:
    first = await gateway.get("/api/v1/echo/a")
    assert "upstream_session" in first.headers["set-cookie"]  # passed through to its caller
    gateway.cookies.clear()  # the caller does not send it back; the gateway must not either
    second = await gateway.get("/api/v1/echo/b")
    assert "cookie" not in second.json()["headers"]


async def test_public_operations_are_rate_limited_per_client_ip(tmp_path: Path) -> None:
    settings = GatewaySettings(
        services={"echo": "http://echo"},
        database_url=await gateway_database(tmp_path),
        public_rate_limit_burst=2,
        public_rate_limit_per_second=0.5,
    )
    app = create_app(settings, specs=SPEC, transports={"echo": httpx.ASGITransport(app=echo_upstream())})
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        assert [(await client.get("/api/v1/echo/x")).status_code for _ in range(2)] == [200, 200]
        limited = await client.get("/api/v1/echo/x")
        assert_problem(limited, 429, "rate_limited")
        assert limited.headers["retry-after"] == "2"
