"""Helpers for the gateway tests: keys made through the admin API, and a webhook receiver that
listens on a real loopback port (the dispatcher speaks HTTP, as it would to a partner)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response


async def create_key(
    admin: httpx.AsyncClient,
    scopes: list[str],
    *,
    centres: list[str] | None = None,
    name: str = "test key",
    expires_in: timedelta | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "scopes": scopes, "centres": centres}
    if expires_in is not None:
        body["expires_at"] = (datetime.now(UTC) + expires_in).isoformat()
    response = await admin.post("/api/v1/admin/api-keys", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def bearer(key: dict[str, Any] | str) -> dict[str, str]:
    return {"authorization": f"Bearer {key if isinstance(key, str) else key['api_key']}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers POST /<name> with the status (default 200) and body set for that name, optionally
    slowly, or only once the test opens that name's gate (`arrived` counts requests as they come in)."""

    base_url: str
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    arrived: Counter[str] = field(default_factory=Counter)

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def at(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == f"/{name}"]

    async def wait_for(self, name: str, count: int = 1, timeout_s: float = 20) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(self.at(name)) < count:
            assert asyncio.get_running_loop().time() < deadline, (name, len(self.at(name)), self.received)
            await asyncio.sleep(0.05)
        return self.at(name)


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    receiver = Receiver(base_url=f"http://127.0.0.1:{port}")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        name = request.url.path.strip("/")
        receiver.arrived[name] += 1
        await asyncio.sleep(receiver.delays.get(name, 0))
        if name in receiver.gates:
            await receiver.gates[name].wait()
        receiver.received.append(Received(request.url.path, dict(request.headers), body))
        answer = Response(receiver.bodies.get(name, b""), status_code=receiver.statuses.get(name, 200))
        await answer(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
        await asyncio.sleep(0.02)
    try:
        yield receiver
    finally:
        for gate in receiver.gates.values():
            gate.set()
        server.should_exit = True
        await task
