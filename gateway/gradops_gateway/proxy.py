"""Forwarding a request to the owning service.

The hot path talks to an httpx *transport* directly (one shared connection pool; in the embedded
default an in-process transport per service) rather than through `httpx.AsyncClient.send`: a
client would keep a cookie jar shared by every partner (a service's Set-Cookie must never reach
another caller) and adds auth, redirect and hook handling a proxy does not want.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gradops_gateway.errors import SERVICE_TIMEOUT, SERVICE_UNREACHABLE
from gradops_shared.errors import answer
from gradops_shared.principal import PRINCIPAL_HEADER
from gradops_shared.tracing import http_client_span

# RFC 9110 §7.6.1 connection-specific headers are never forwarded; host is the upstream's own.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)


def forwardable(headers: httpx.Headers | list[tuple[str, str]]) -> list[tuple[str, str]]:
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers
    return [(k, v) for k, v in items if k.lower() not in HOP_BY_HOP]


# Never forwarded from the client: the gateway alone speaks for the caller, and says who the client
# is (after the trusted-proxy rule in gradops_gateway.edges) in a single X-Forwarded-For.
_GATEWAY_OWNED = frozenset(
    {"x-request-id", PRINCIPAL_HEADER.lower(), "authorization", "x-forwarded-for", "x-real-ip", "forwarded"}
)


@dataclass(frozen=True)
class Upstream:
    """Where a service lives and how to reach it."""

    name: str
    base_url: httpx.URL
    transport: httpx.AsyncBaseTransport
    timeout: dict[str, Any]
    # Requests in flight to this service at once; the rest wait here, in O(1), rather than in
    # httpcore's pool, whose bookkeeping grows with connections x waiting requests (it made the
    # gateway several times slower than the service at 200 concurrent clients).
    concurrency: int = 64
    slots: asyncio.Semaphore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", asyncio.Semaphore(self.concurrency))


class _SlotReleasingStream(httpx.AsyncByteStream):
    """The upstream body; closing it (or finishing or abandoning the iteration) frees the slot."""

    def __init__(self, inner: httpx.AsyncByteStream, slots: asyncio.Semaphore) -> None:
        self.inner = inner
        self.slots: asyncio.Semaphore | None = slots

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        slots, self.slots = self.slots, None
        if slots is not None:
            slots.release()
            await self.inner.aclose()


# Bytes a request target may carry as they are; anything else (controls, space, non-ASCII, `#`) is
# percent-encoded, so whatever the client sent yields a valid upstream URL that decodes the same.
_TARGET_SAFE = frozenset(
    b"!$%&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz|~"
)


def _target_bytes(raw: bytes) -> bytes:
    return b"".join(bytes((b,)) if b in _TARGET_SAFE else b"%%%02X" % b for b in raw)


def upstream_url(base: httpx.URL, request: Request) -> httpx.URL:
    """The service's URL for this request: the path and query exactly as the client encoded them
    (a decoded `?`, `#` or `%41` in a path segment must not change what the service sees)."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    target = _target_bytes(raw_path.split(b"?", 1)[0])
    query: bytes = request.scope.get("query_string", b"")
    if query:
        target += b"?" + _target_bytes(query)
    return base.copy_with(raw_path=target)


def _has_body(request: Request) -> bool:
    headers = request.headers
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")


def upstream_request(
    request: Request,
    upstream: Upstream,
    principal_header: str | None,
    content: bytes | AsyncIterable[bytes] | None = None,
) -> httpx.Request:
    request_id: str = request.scope.get("state", {}).get("request_id", "")
    headers = [
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in _GATEWAY_OWNED
    ]
    headers.append(("x-request-id", request_id))
    if principal_header is not None:
        headers.append((PRINCIPAL_HEADER, principal_header))
    headers.append(("x-forwarded-for", request.client.host if request.client else ""))
    if content is None:
        # A GET has no body: an empty one keeps the upstream request free of chunked framing.
        content = request.stream() if _has_body(request) else b""
    return httpx.Request(
        request.method,
        upstream_url(upstream.base_url, request),
        headers=headers,
        content=content,
        extensions={"timeout": upstream.timeout},
    )


async def send_upstream(
    upstream: Upstream, outgoing: httpx.Request, instance: str
) -> httpx.Response | Response:
    """The upstream's streaming response, or the gateway's own 502/504 problem."""
    service = upstream.name
    try:
        try:
            await asyncio.wait_for(upstream.slots.acquire(), timeout=upstream.timeout.get("pool") or None)
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no free slot to the service") from exc
        try:
            with http_client_span(outgoing.method, str(outgoing.url), outgoing.headers):
                response = await upstream.transport.handle_async_request(outgoing)
        except BaseException:
            upstream.slots.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _SlotReleasingStream(response.stream, upstream.slots)
        response.request = outgoing
        return response
    except httpx.TimeoutException:
        return answer(
            SERVICE_TIMEOUT,
            f"The {service} service did not answer in time.",
            message_zh="后端服务响应超时，请稍后重试",
            instance=instance,
        )
    except httpx.TransportError:
        return answer(
            SERVICE_UNREACHABLE,
            f"The {service} service is not reachable.",
            message_zh="后端服务暂不可用，请稍后重试",
            instance=instance,
        )


# A small answer of known length is read whole and sent as one message: a streaming response
# costs a task group per request (to watch for disconnects) that a 1 KB JSON body does not need.
SMALL_BODY_BYTES = 65536


async def stream_back(response: httpx.Response) -> Response:
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) <= SMALL_BODY_BYTES:
        try:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        return Response(body, status_code=response.status_code, headers=dict(forwardable(response.headers)))
    return StreamingResponse(
        response.aiter_raw(),
        status_code=response.status_code,
        headers=dict(forwardable(response.headers)),
        background=BackgroundTask(response.aclose),
    )


async def forward(request: Request, upstream: Upstream, principal_header: str | None = None) -> Response:
    outgoing = upstream_request(request, upstream, principal_header)
    response = await send_upstream(upstream, outgoing, request.url.path)
    if isinstance(response, Response):
        return response
    return await stream_back(response)
