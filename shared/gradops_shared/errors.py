"""One error hierarchy, rendered once as RFC 9457 problem+json in Chinese and English.

Domain code raises these with a stable machine code; the handlers below are the only place that
turns an exception into an HTTP answer, so no stack trace ever reaches a client.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


class GradOpsError(Exception):
    """Base of every error a client may see: a stable `code`, an HTTP status and two languages."""

    status: int = 400
    code: str = "request.invalid"
    title: str = "Bad request"
    message_zh: str = "请求无效"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        message_zh: str | None = None,
        title: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        if code:
            self.code = code
        if message_zh:
            self.message_zh = message_zh
        if title:
            self.title = title
        self.extra = extra or {}
        super().__init__(f"{self.code}: {self.detail}")


class InvalidInput(GradOpsError):
    status = 422
    code = "request.invalid"
    title = "Invalid input"
    message_zh = "输入数据无效"


class NotFound(GradOpsError):
    status = 404
    code = "resource.not_found"
    title = "Not found"
    message_zh = "资源不存在"


class Conflict(GradOpsError):
    status = 409
    code = "resource.conflict"
    title = "Conflict"
    message_zh = "与当前状态冲突"


class PayloadTooLarge(GradOpsError):
    status = 413
    code = "request.too_large"
    title = "Payload too large"
    message_zh = "上传内容过大"


class UnsupportedMediaType(GradOpsError):
    status = 415
    code = "request.unsupported_media_type"
    title = "Unsupported media type"
    message_zh = "不支持的文件类型"


class ServiceUnavailable(GradOpsError):
    status = 503
    code = "service.unavailable"
    title = "Service unavailable"
    message_zh = "服务暂不可用"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    message_zh: str,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://gradops.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "message_zh": message_zh,
        "message_en": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(exc: GradOpsError, instance: str) -> JSONResponse:
    """The problem answer of a domain error (what the exception handler below sends)."""
    return problem_response(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        message_zh=exc.message_zh,
        instance=instance,
        extra=exc.extra,
    )


def internal_error(instance: str, request_id: str | None) -> JSONResponse:
    """The 500 of an unhandled error: no internals, and the request id to quote to support."""
    return problem_response(
        status=500,
        code="internal.error",
        title="Internal error",
        detail="An unexpected error occurred; it has been logged with the request id.",
        message_zh="服务器内部错误，已记录请求编号",
        instance=instance,
        extra={"request_id": request_id} if request_id else None,
        headers={"x-request-id": request_id} if request_id else None,
    )


_HTTP_STATUS_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("request.bad", "Bad request", "请求无效"),
    401: ("auth.unauthenticated", "Unauthenticated", "未认证"),
    403: ("auth.forbidden", "Forbidden", "无权访问"),
    404: ("route.not_found", "Not found", "请求的地址不存在"),
    405: ("route.method_not_allowed", "Method not allowed", "不支持该请求方法"),
    413: ("request.too_large", "Payload too large", "上传内容过大"),
}


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "student", "name") -> "student.name"; the location kind stays in "in".
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GradOpsError)
    async def _domain_error(request: Request, exc: GradOpsError) -> JSONResponse:
        return problem_for(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            return problem_response(
                status=400,
                code="request.malformed_json",
                title="Malformed JSON",
                detail="The request body is not valid JSON.",
                message_zh="请求体不是有效的 JSON",
                instance=request.url.path,
            )
        errors = [
            {
                "field": _field_path(e.get("loc", ())),
                "in": str(e.get("loc", ("body",))[0]),
                "type": e.get("type"),
                "message": e.get("msg"),
            }
            for e in raw
        ]
        return problem_response(
            status=422,
            code="request.validation_failed",
            title="Validation failed",
            detail="; ".join(f"{e['field'] or e['in']}: {e['message']}" for e in errors),
            message_zh="请求数据校验未通过，请按 errors 逐项修改",
            instance=request.url.path,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title, zh = _HTTP_STATUS_PROBLEMS.get(exc.status_code, ("http.error", "HTTP error", "请求错误"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            status=exc.status_code,
            code=code,
            title=title,
            detail=detail,
            message_zh=zh,
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Under new_app the request-id middleware answers first; this serves apps built without it.
        log.exception("unhandled_error", path=request.url.path)
        return internal_error(request.url.path, request.scope.get("state", {}).get("request_id"))


class ProblemFieldError(BaseModel):
    field: str
    in_: str = Field(alias="in")
    type: str
    message: str


class Problem(BaseModel):
    """The error body of every 4xx/5xx answer (`application/problem+json`, RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine code, e.g. registry.id_number_checksum")
    message_zh: str
    message_en: str
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (400, "Malformed request (problem+json)"),
        (404, "Not found (problem+json)"),
        (409, "Conflict with the current state (problem+json)"),
        (422, "Validation failed, one entry per field (problem+json)"),
    )
}


# ---- The OpenAPI side: every error answer documented as what it is -------------------------------

PROBLEM_REF = "#/components/schemas/Problem"
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
# Request bodies that are uploads (a size limit and a media-type check apply to them).
_UPLOAD_MEDIA_TYPES = ("multipart/form-data", "application/octet-stream")
# FastAPI's own validation-error schemas: never sent (the handler above renders a Problem instead).
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, **defs}


def generic_problem_responses(operation: dict[str, Any]) -> dict[str, str]:
    """The error statuses any operation of a service can answer, whatever its handler does."""
    statuses = {
        "400": "Malformed request: bad JSON, a bad path or header (problem+json)",
        "500": "Unexpected error; quote the X-Request-ID (problem+json)",
        "503": "A dependency is unavailable; retry later (problem+json)",
    }
    parameters = operation.get("parameters") or []
    if any(p.get("in") == "path" for p in parameters):
        statuses["404"] = "Not found (problem+json)"
    if parameters or "requestBody" in operation:
        statuses["422"] = "Validation failed, one entry per field (problem+json)"
    if operation.get("security"):
        statuses["401"] = "No valid credentials (problem+json)"
        statuses["403"] = "The caller lacks a required scope (problem+json)"
    body_types = operation.get("requestBody", {}).get("content", {})
    if any(media in body_types for media in _UPLOAD_MEDIA_TYPES):
        statuses["413"] = "Upload too large (problem+json)"
        statuses["415"] = "Unsupported file type (problem+json)"
    return statuses


def document_problems(
    spec: dict[str, Any],
    extra: Callable[[dict[str, Any]], dict[str, str]] = generic_problem_responses,
) -> dict[str, Any]:
    """Rewrites an OpenAPI document in place so it says what is answered: every 4xx/5xx response is
    `application/problem+json` with the Problem schema, and each operation lists the generic error
    statuses `extra(operation)` names (kept where the handler already describes them). Idempotent."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_problem_schemas())
    for operations in spec.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in extra(operation).items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    response["content"] = copy.deepcopy(_PROBLEM_CONTENT)
            operation["responses"] = dict(sorted(responses.items()))
    for name in _FASTAPI_VALIDATION_SCHEMAS:  # HTTPValidationError first: it refers to the other
        if f'"#/components/schemas/{name}"' not in json.dumps(spec):
            schemas.pop(name, None)
    spec["components"]["schemas"] = dict(sorted(schemas.items()))
    return spec


# ---- The catalogue: every problem code declared once, with its status and both titles -------------


class ProblemType:
    """One problem code of the catalogue. Calling it builds the error to raise:

        CURSOR_INVALID = problems.declare("registry.cursor_invalid", 422, "Invalid cursor", "分页游标无效")
        raise CURSOR_INVALID("cursor is not one this API returned.", extra={...})

    `title`/`title_zh` are the code's fixed titles (the catalogue a partner reads); the `detail`
    (English) and `message_zh` of one answer may say more about this case."""

    def __init__(self, code: str, status: int, title: str, title_zh: str, service: str) -> None:
        self.code = code
        self.status = status
        self.title = title
        self.title_zh = title_zh
        self.service = service

    def __call__(
        self, detail: str | None = None, *, message_zh: str | None = None, extra: dict[str, Any] | None = None
    ) -> GradOpsError:
        error_cls = _ERROR_CLASS_BY_STATUS.get(self.status, GradOpsError)
        error = error_cls(
            detail or self.title, code=self.code, message_zh=message_zh or self.title_zh, extra=extra
        )
        error.status = self.status
        error.title = self.title
        return error

    def response(
        self,
        detail: str | None = None,
        *,
        instance: str | None = None,
        message_zh: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        """The problem answer itself, for edges that answer without raising (middleware)."""
        return problem_response(
            status=self.status,
            code=self.code,
            title=self.title,
            detail=detail or self.title,
            message_zh=message_zh or self.title_zh,
            instance=instance,
            extra=extra,
            headers=headers,
        )

    def __repr__(self) -> str:
        return f"ProblemType({self.code!r}, {self.status})"


# `except NotFound` keeps working for catalogued codes: the error is an instance of its status's class.
_ERROR_CLASS_BY_STATUS: dict[int, type[GradOpsError]] = {
    cls.status: cls
    for cls in (InvalidInput, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, ServiceUnavailable)
}

# Every declared code, whichever service declared it (the generated table and `x-problem-codes`).
CATALOGUE: dict[str, ProblemType] = {}


class ProblemCatalogue:
    """A service's problem codes (its `errors.py` declares them all, at import time)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.codes: dict[str, ProblemType] = {}

    def declare(self, code: str, status: int, title: str, title_zh: str) -> ProblemType:
        known = CATALOGUE.get(code)
        if known is not None and (known.status, known.service) != (status, self.service):
            raise ValueError(f"problem code {code} declared twice with different meanings")
        problem = ProblemType(code, status, title, title_zh, self.service)
        self.codes[code] = problem
        CATALOGUE[code] = problem
        return problem


# The codes the shared plumbing itself answers with (edges, validation, auth).
shared_problems = ProblemCatalogue("shared")
for _status, (_code, _title, _zh) in _HTTP_STATUS_PROBLEMS.items():
    shared_problems.declare(_code, _status, _title, _zh)
for _error_cls in (
    InvalidInput,
    NotFound,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    ServiceUnavailable,
):
    shared_problems.declare(_error_cls.code, _error_cls.status, _error_cls.title, _error_cls.message_zh)
shared_problems.declare("request.malformed_json", 400, "Malformed JSON", "请求体不是有效的 JSON")
shared_problems.declare("request.validation_failed", 422, "Validation failed", "请求数据校验未通过")
shared_problems.declare("internal.error", 500, "Internal error", "服务器内部错误")
# Answered by the edges (the gateway's and every service's), named so they are raised, not retyped.
UNAUTHENTICATED = CATALOGUE["auth.unauthenticated"]
ROUTE_NOT_FOUND = CATALOGUE["route.not_found"]
METHOD_NOT_ALLOWED = CATALOGUE["route.method_not_allowed"]


def catalogue_entries(catalogue: dict[str, ProblemType] | None = None) -> list[dict[str, Any]]:
    """The catalogue as data, sorted by code (for `x-problem-codes` and the docs table)."""
    entries = catalogue if catalogue is not None else CATALOGUE
    return [
        {"code": p.code, "status": p.status, "title": p.title, "title_zh": p.title_zh, "service": p.service}
        for p in sorted(entries.values(), key=lambda p: p.code)
    ]


def catalogue_markdown(catalogue: dict[str, ProblemType] | None = None) -> str:
    """The generated table of every problem code (docs/problem-codes.md)."""
    lines = [
        "# Problem codes",
        "",
        "Generated from each service's `errors.py` by `make openapi`; do not edit by hand.",
        "Every error answer is `application/problem+json` with one of these `code`s.",
        "",
        "| code | HTTP status | title | 中文 | service |",
        "|---|---|---|---|---|",
    ]
    for e in catalogue_entries(catalogue):
        lines.append(f"| `{e['code']}` | {e['status']} | {e['title']} | {e['title_zh']} | {e['service']} |")
    return "\n".join(lines) + "\n"
