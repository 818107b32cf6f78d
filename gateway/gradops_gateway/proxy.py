"""Forwarding a request to the owning service through the gateway's one shared httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterable

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gradops_shared.errors import problem_response
from gradops_shared.principal import PRINCIPAL_HEADER

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


# Never forwarded from the client: the gateway alone speaks for the caller.
_GATEWAY_OWNED = frozenset({"x-request-id", PRINCIPAL_HEADER.lower(), "authorization"})


def upstream_request(
    request: Request,
    client: httpx.AsyncClient,
    base_url: str,
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
    return client.build_request(
        request.method,
        httpx.URL(base_url).copy_with(path=request.url.path, query=request.url.query.encode() or None),
        headers=headers,
        content=request.stream() if content is None else content,
    )


async def send_upstream(
    client: httpx.AsyncClient, upstream: httpx.Request, service: str, instance: str
) -> httpx.Response | Response:
    """The upstream's streaming response, or the gateway's own 502/504 problem."""
    try:
        return await client.send(upstream, stream=True)
    except httpx.TimeoutException:
        return problem_response(
            status=504,
            code="gateway.service_timeout",
            title="Service timeout",
            detail=f"The {service} service did not answer in time.",
            message_zh="后端服务响应超时，请稍后重试",
            instance=instance,
        )
    except httpx.TransportError:
        return problem_response(
            status=502,
            code="gateway.service_unavailable",
            title="Service unavailable",
            detail=f"The {service} service is not reachable.",
            message_zh="后端服务暂不可用，请稍后重试",
            instance=instance,
        )


def stream_back(response: httpx.Response) -> StreamingResponse:
    return StreamingResponse(
        response.aiter_raw(),
        status_code=response.status_code,
        headers=dict(forwardable(response.headers)),
        background=BackgroundTask(response.aclose),
    )


async def forward(
    request: Request,
    client: httpx.AsyncClient,
    service: str,
    base_url: str,
    principal_header: str | None = None,
) -> Response:
    upstream = upstream_request(request, client, base_url, principal_header)
    response = await send_upstream(client, upstream, service, request.url.path)
    if isinstance(response, Response):
        return response
    return stream_back(response)
