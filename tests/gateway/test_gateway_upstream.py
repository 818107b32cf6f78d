"""The gateway's lean HTTP/1.1 transport against a real uvicorn server on loopback: keep-alive
reuse, a stale connection retried, streamed bodies both ways, HEAD, cookies never shared."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gradops_gateway.upstream import LeanHTTPTransport
from tests.support.gateway_tools import free_port


@dataclass
class Server:
    url: str
    peers: list[int] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    port = free_port()
    running = Server(f"http://127.0.0.1:{port}")

    async def echo(request: Request) -> Response:
        running.peers.append(request.client.port if request.client else 0)
        body = await request.body()
        return JSONResponse(
            {"size": len(body), "te": request.headers.get("transfer-encoding")},
            headers={"set-cookie": "session=secret"},
        )

    async def stream(_request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for _ in range(50):
                yield b"z" * 10_000

        return StreamingResponse(parts())

    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST", "HEAD"]), Route("/stream", stream)])
    # Closes idle keep-alive connections after 1 s: the transport must cope with that.
    config = uvicorn.Config(app, port=port, log_config=None, timeout_keep_alive=1, lifespan="off")
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
        await asyncio.sleep(0.02)
    yield running
    instance.should_exit = True
    await task


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = LeanHTTPTransport()
    async with httpx.AsyncClient(transport=transport, timeout=5) as lean:
        yield lean


async def test_keep_alive_connections_are_reused(server: Server, client: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await client.get(f"{server.url}/echo")).json() == {"size": 0, "te": None}
    assert len(set(server.peers)) == 1


async def test_a_connection_the_service_closed_is_replaced_transparently(
    server: Server, client: httpx.AsyncClient
) -> None:
    assert (await client.post(f"{server.url}/echo", content=b"abc")).status_code == 200
    await asyncio.sleep(1.5)  # the server has closed the idle connection by now
    again = await client.post(f"{server.url}/echo", content=b"abc")
    assert again.status_code == 200 and again.json()["size"] == 3
    assert len(set(server.peers)) == 2


async def test_bodies_stream_both_ways(server: Server, client: httpx.AsyncClient) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"x" * 100_000

    sent = await client.post(f"{server.url}/echo", content=upload())
    assert sent.json() == {"size": 3_000_000, "te": "chunked"}
    received = await client.get(f"{server.url}/stream")
    assert len(received.content) == 500_000
    assert (await client.get(f"{server.url}/echo")).status_code == 200  # the connection stays usable


async def test_head_and_unreachable_services(server: Server, client: httpx.AsyncClient) -> None:
    head = await client.head(f"{server.url}/echo")
    assert head.status_code == 200 and head.content == b""
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{free_port()}/echo")
