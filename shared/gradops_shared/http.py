"""HTTP plumbing every process shares: request ids, health endpoints, the app skeleton."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import fastapi_offline
import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradops_shared.errors import document_problems, install_error_handlers, internal_error
from gradops_shared.logging import bind_request_id
from gradops_shared.metrics import METRICS_PATH, MetricsMiddleware, metrics_endpoint, process_name_from_title
from gradops_shared.tracing import TracingMiddleware
from gradops_shared.tracing import enabled as tracing_enabled

access_log = structlog.get_logger("gradops.access")
error_log = structlog.get_logger("gradops.errors")
DOCS_STATIC_URL = "/docs-static"
_DOCS_STATIC_DIR = Path(fastapi_offline.__file__).parent / "static"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# Sent on every answer unless the handler set its own (the docs pages carry a CSP that lets their
# bundled scripts run). An API answer is data: nothing in it may run, frame or be sniffed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", API_CSP.encode()),
)
# Set by the outermost RequestIdMiddleware of a request: an app called in-process by another
# (the embedded default's services behind the gateway) neither logs the request a second time
# nor sets the id afresh.
_access_logged: ContextVar[bool] = ContextVar("gradops_access_logged", default=False)


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID (if sane) or makes one, binds it to logs, echoes it back;
    logs the request once (method, path without its query, status, duration); adds the security
    headers; turns an unhandled error into a 500 problem that carries the id too (Starlette's
    own catch-all runs outside this middleware, so its answer would not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        bind_request_id(request_id)
        outermost = not _access_logged.get()
        token = _access_logged.set(True) if outermost else None

        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                present = {k.lower() for k, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, once, without frame locals (see gradops_shared.logging); not re-raised,
            # so neither the server nor an in-process caller logs it again with the request scope.
            error_log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if not response_started:
                response = internal_error(scope["path"], request_id)
                await response(scope, receive, send_with_id)
        finally:
            if token is not None:
                _access_logged.reset(token)
            if outermost and not scope["path"].endswith(("/healthz", "/readyz")):
                access_log.info(
                    "http_request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )


ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    """`/healthz` answers while the process lives; `/readyz` only when every dependency answers."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        ready = True
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as exc:  # a readiness probe reports, it never raises
                ready = False
                results[name] = f"unavailable: {type(exc).__name__}"
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router


_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
# Swagger UI and ReDoc run their bundled scripts (and ReDoc compiles schema validators and starts a
# blob worker); nothing is loaded from another origin, and the pages cannot be framed.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def docs_csp(page: HTMLResponse, *, allow_eval: bool = False) -> HTMLResponse:
    """Sets the docs page's CSP: its own inline scripts are allowed by their sha256 only."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(bytes(page.body))
    ]
    if allow_eval:
        hashes.append("'unsafe-eval'")
    page.headers["content-security-policy"] = _DOCS_CSP.format(scripts="".join(" " + h for h in hashes))
    return page


def install_offline_docs(app: FastAPI, *, title: str, openapi_url: str = "/openapi.json") -> None:
    """Swagger UI and ReDoc from files shipped in a package: a university intranet has no CDN."""
    app.mount(DOCS_STATIC_URL, StaticFiles(directory=str(_DOCS_STATIC_DIR)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return docs_csp(
            get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{root}{DOCS_STATIC_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{DOCS_STATIC_URL}/swagger-ui.css",
                swagger_favicon_url=f"{root}{DOCS_STATIC_URL}/favicon.png",
            )
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        # ReDoc's bundled JSON-schema validator (ajv) compiles its checks with `new Function`.
        return docs_csp(
            get_redoc_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{title} - ReDoc",
                redoc_js_url=f"{root}{DOCS_STATIC_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{DOCS_STATIC_URL}/favicon.png",
                with_google_fonts=False,
            ),
            allow_eval=True,
        )


def stable_operation_id(route: APIRoute) -> str:
    """Operation ids are the handler names, which we keep unique across the suite."""
    return route.name


def new_app(
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    lifespan: Any = None,
    docs: bool = True,
    process: str | None = None,
) -> FastAPI:
    """The skeleton shared by every process: error model, request ids, stable operation ids,
    Prometheus metrics at /metrics (labelled `process`, by default the title's slug)."""
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=stable_operation_id,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # Our own spans (gradops_shared.tracing) carry the request id and cross Kafka; FastAPI's
        # built-in telemetry would duplicate the HTTP ones if a global provider were ever set.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if docs:
        install_offline_docs(app, title=title)
    install_error_handlers(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        # Error answers documented centrally (problem+json, generic statuses), not per handler.
        return document_problems(generate())

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_route(METRICS_PATH, metrics_endpoint, include_in_schema=False)
    app.add_middleware(MetricsMiddleware, process=process or process_name_from_title(title))
    if tracing_enabled():  # off by default: then not even a pass-through layer
        app.add_middleware(TracingMiddleware)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so every layer has the id
    return app
