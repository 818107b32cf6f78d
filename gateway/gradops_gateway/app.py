"""The gateway app: routes `/api/v1/...` to the owning service, serves merged docs offline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from gradops_gateway.auth import BootstrapKeyStore, KeyStore
from gradops_gateway.openapi import load_specs, merge_specs
from gradops_gateway.proxy import forward
from gradops_gateway.routing import RouteTable
from gradops_gateway.settings import GatewaySettings
from gradops_shared.errors import problem_response
from gradops_shared.http import health_router, new_app
from gradops_shared.principal import sign_principal

PROXIED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    settings: GatewaySettings | None = None,
    *,
    specs: dict[str, dict[str, Any]] | None = None,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    extra_lifespan: Lifespan | None = None,
    key_store: KeyStore | None = None,
) -> FastAPI:
    """`specs` and `transports` let the embedded default hand over live specs and in-process
    transports; the stack gateway reads the committed specs and speaks HTTP."""
    settings = settings or GatewaySettings()
    service_specs = specs if specs is not None else load_specs(settings.openapi_dir)
    table = RouteTable(service_specs)
    keys = key_store or BootstrapKeyStore(
        settings.bootstrap_api_key.get_secret_value() if settings.bootstrap_api_key else None
    )
    principal_secret = settings.principal_secret.get_secret_value()
    merged = merge_specs(service_specs)
    # One client for every service: one connection pool, one set of limits. The embedded default
    # mounts an in-process transport per service host instead of the network.
    shared: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        shared["client"] = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds),
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
            mounts={
                f"all://{httpx.URL(settings.services[name]).netloc.decode()}": transport
                for name, transport in (transports or {}).items()
            },
        )
        try:
            if extra_lifespan is not None:
                async with extra_lifespan(app):
                    yield
            else:
                yield
        finally:
            await shared.pop("client").aclose()

    app = new_app(title="GradOps API", description=merged["info"]["description"], lifespan=lifespan)
    app.openapi = lambda: merged  # type: ignore[method-assign]

    async def services_ready() -> None:
        async def probe(name: str, base_url: str) -> None:
            response = await shared["client"].get(f"{base_url}/readyz", timeout=3)
            if response.status_code != 200:
                raise RuntimeError(f"{name} not ready")

        await asyncio.gather(*(probe(name, url) for name, url in settings.services.items()))

    app.include_router(health_router({"services": services_ready}))

    @app.api_route("/api/v1/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
    async def proxy(request: Request, path: str) -> Response:
        match = table.match(request.method, request.url.path)
        if match.service is None:
            if match.allowed:
                return problem_response(
                    status=405,
                    code="route.method_not_allowed",
                    title="Method not allowed",
                    detail=f"{request.method} is not allowed here; use {', '.join(sorted(match.allowed))}.",
                    message_zh="不支持该请求方法",
                    instance=request.url.path,
                    headers={"allow": ", ".join(sorted(match.allowed))},
                )
            return problem_response(
                status=404,
                code="route.not_found",
                title="Not found",
                detail=f"No operation at {request.url.path}.",
                message_zh="请求的地址不存在",
                instance=request.url.path,
            )
        principal_header: str | None = None
        if match.scopes is not None:
            scheme, _, api_key = request.headers.get("authorization", "").partition(" ")
            principal = await keys.authenticate(api_key.strip()) if scheme.lower() == "bearer" else None
            if principal is None:
                return problem_response(
                    status=401,
                    code="auth.unauthenticated",
                    title="Unauthenticated",
                    detail="Send a valid API key as `Authorization: Bearer <key>`.",
                    message_zh="未认证：请在 Authorization 头中提供有效的 API 密钥",
                    instance=request.url.path,
                    headers={"www-authenticate": "Bearer"},
                )
            principal_header = sign_principal(principal, principal_secret)
        return await forward(
            request, shared["client"], match.service, settings.services[match.service], principal_header
        )

    return app
