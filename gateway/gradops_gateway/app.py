"""The gateway app: authenticates, limits and routes `/api/v1/...` to the owning service (webhooks
and the student timeline included: the notifications service's), serves its own endpoints (API
keys) and the merged docs offline."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.routing import Route

from gradops_gateway.api import gateway_openapi, keys_router
from gradops_gateway.auth import DatabaseKeyStore, KeyStore, ensure_bootstrap_key
from gradops_gateway.edges import NoStoreMiddleware, TrustedProxyMiddleware, parse_networks
from gradops_gateway.errors import INVALID_PATH
from gradops_gateway.gate import Gate, Refused
from gradops_gateway.idempotency import IDEMPOTENT_METHODS, IdempotencyStore
from gradops_gateway.models import SCHEMA
from gradops_gateway.openapi import GATEWAY, load_specs, merge_specs
from gradops_gateway.proxy import Upstream, forward
from gradops_gateway.routing import RouteTable
from gradops_gateway.settings import GatewaySettings
from gradops_gateway.upstream import LeanHTTPTransport
from gradops_shared.db import Database
from gradops_shared.errors import METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, answer
from gradops_shared.http import health_router, new_app
from gradops_shared.principal import Principal, sign_principal

log = structlog.get_logger(__name__)
PROXIED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
PURGE_EVERY_SECONDS = 600
# C0 controls, DEL and C1 controls: never part of a resource name.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
    own_spec = gateway_openapi()
    # The gateway's own paths are in the table too: a wrong method on them reaches the catch-all
    # below (FastAPI's routes only take their own methods) and must get 405 with their Allow.
    table = RouteTable({**service_specs, GATEWAY: own_spec})
    db = Database(settings.database_url, SCHEMA)
    keys = key_store or DatabaseKeyStore(db, cache_seconds=settings.key_cache_seconds)
    gate = Gate(keys, settings)
    idempotency = IdempotencyStore(
        db,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        max_body_bytes=settings.idempotency_max_body_bytes,
        lease=timedelta(seconds=settings.read_timeout_seconds + 30),
    )
    principal_secret = settings.principal_secret.get_secret_value()
    merged = merge_specs({**service_specs, GATEWAY: own_spec})
    # One connection pool for every service. The embedded default hands over an in-process
    # transport per service instead of the network.
    network = LeanHTTPTransport()
    timeout = httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds)
    upstreams = {
        name: Upstream(
            name,
            httpx.URL(url),
            (transports or {}).get(name, network),
            timeout.as_dict(),
            settings.upstream_concurrency,
        )
        for name, url in settings.services.items()
    }
    signed = SignedPrincipals(principal_secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.push_async_callback(db.dispose)
            stack.push_async_callback(network.aclose)
            if settings.bootstrap_api_key:
                await ensure_bootstrap_key(db, settings.bootstrap_api_key)
            if extra_lifespan is not None:
                await stack.enter_async_context(extra_lifespan(app))
            purger = asyncio.create_task(_purge_idempotency_records(idempotency))
            stack.callback(purger.cancel)
            if isinstance(keys, DatabaseKeyStore):
                stack.push_async_callback(keys.drain)
            yield

    app = new_app(title="GradOps API", description=merged["info"]["description"], lifespan=lifespan)
    app.add_middleware(NoStoreMiddleware)
    # Outermost: everything after it, the request log included, sees the real client.
    app.add_middleware(TrustedProxyMiddleware, trusted=parse_networks(settings.trusted_proxies))
    app.openapi = lambda: merged  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.db = db
    app.state.gate = gate
    app.state.idempotency = idempotency

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> Response:
        return exc.response

    async def services_ready() -> None:
        async def probe(upstream: Upstream) -> None:
            probe_request = httpx.Request(
                "GET", upstream.base_url.join("/readyz"), extensions={"timeout": httpx.Timeout(3).as_dict()}
            )
            response = await upstream.transport.handle_async_request(probe_request)
            await response.aclose()
            if response.status_code != 200:
                raise RuntimeError(f"{upstream.name} not ready")

        await asyncio.gather(*(probe(upstream) for upstream in upstreams.values()))

    app.include_router(health_router({"database": db.ping, "services": services_ready}))
    # The gateway's own endpoints first: the catch-all below proxies everything else.
    app.include_router(keys_router())

    async def proxy(request: Request) -> Response:
        # The scope's path, not request.url.path: rebuilding a URL drops tabs and line breaks.
        path: str = request.scope["path"]
        if _CONTROL_CHARACTERS.search(path):
            # No resource is named with a control character: refused before any key is looked up.
            return answer(
                INVALID_PATH,
                "The path contains a control character; percent-encode only printable text.",
                instance=path.encode("unicode_escape").decode("ascii"),
            )
        match = table.match(request.method, path)
        if match.service is None or match.service == GATEWAY:
            if match.allowed:
                allow = ", ".join(sorted(match.allowed))
                return answer(
                    METHOD_NOT_ALLOWED,
                    f"{request.method} is not allowed here; use {allow}.",
                    message_zh="不支持该请求方法",
                    instance=path,
                    headers={"allow": allow},
                )
            return answer(ROUTE_NOT_FOUND, "No operation at this path.", instance=path)
        admitted = await gate.admit(request, match.scopes)
        if isinstance(admitted, Response):
            return admitted
        upstream = upstreams[match.service]
        if admitted is None:  # a public operation
            return await forward(request, upstream)
        principal_header = signed.header(admitted)
        idem_key = request.headers.get("idempotency-key")
        if idem_key and request.method in IDEMPOTENT_METHODS:
            return await idempotency.forward(
                request, upstream, principal_header, admitted.key_id or admitted.subject, idem_key
            )
        return await forward(request, upstream, principal_header)

    # A plain Starlette route: the proxy needs no FastAPI parameter solving on its hot path.
    app.router.routes.append(Route("/api/v1/{path:path}", proxy, methods=PROXIED_METHODS))
    return app


class SignedPrincipals:
    """A principal's signed header is valid for PRINCIPAL_TTL_SECONDS; reusing it for a minute saves
    a JSON encoding and an HMAC on every request of a busy key."""

    REUSE_SECONDS = 60
    MAX_ENTRIES = 10_000

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._cache: dict[Principal, tuple[str, float]] = {}

    def header(self, principal: Principal) -> str:
        now = time.monotonic()
        cached = self._cache.get(principal)
        if cached is not None and now - cached[1] < self.REUSE_SECONDS:
            return cached[0]
        if len(self._cache) >= self.MAX_ENTRIES:
            self._cache.clear()
        token = sign_principal(principal, self.secret)
        self._cache[principal] = (token, now)
        return token


async def _purge_idempotency_records(store: IdempotencyStore) -> None:
    while True:
        await asyncio.sleep(PURGE_EVERY_SECONDS)
        with contextlib.suppress(Exception):
            purged = await store.purge_expired()
            if purged:
                log.info("idempotency_records_purged", count=purged)
