"""Forwarding a request to the owning service through the gateway's one shared httpx client."""

from __future__ import annotations

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


def _forwardable(headers: httpx.Headers | list[tuple[str, str]]) -> list[tuple[str, str]]:
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers
    return [(k, v) for k, v in items if k.lower() not in HOP_BY_HOP]


# Never forwarded from the client: the gateway alone speaks for the caller.
_GATEWAY_OWNED = frozenset({"x-request-id", PRINCIPAL_HEADER.lower(), "authorization"})


async def forward(
    request: Request,
    client: httpx.AsyncClient,
    service: str,
    base_url: str,
    principal_header: str | None = None,
) -> Response:
    request_id: str = request.scope.get("state", {}).get("request_id", "")
    headers = [
        (k, v)
        for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in _GATEWAY_OWNED
    ]
    headers.append(("x-request-id", request_id))
    if principal_header is not None:
        headers.append((PRINCIPAL_HEADER, principal_header))
    client_host = request.client.host if request.client else ""
    headers.append(("x-forwarded-for", client_host))
    upstream = client.build_request(
        request.method,
        httpx.URL(base_url).copy_with(path=request.url.path, query=request.url.query.encode() or None),
        headers=headers,
        content=request.stream(),
    )
    try:
        response = await client.send(upstream, stream=True)
    except httpx.TimeoutException:
        return problem_response(
            status=504,
            code="gateway.service_timeout",
            title="Service timeout",
            detail=f"The {service} service did not answer in time.",
            message_zh="后端服务响应超时，请稍后重试",
            instance=request.url.path,
        )
    except httpx.TransportError:
        return problem_response(
            status=502,
            code="gateway.service_unavailable",
            title="Service unavailable",
            detail=f"The {service} service is not reachable.",
            message_zh="后端服务暂不可用，请稍后重试",
            instance=request.url.path,
        )
    return StreamingResponse(
        response.aiter_raw(),
        status_code=response.status_code,
        headers=dict(_forwardable(response.headers)),
        background=BackgroundTask(response.aclose),
    )
