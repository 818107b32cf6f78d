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

from gradops_shared.problems import (
    _HTTP_STATUS_PROBLEMS,
    CATALOGUE,
    METHOD_NOT_ALLOWED,
    ROUTE_NOT_FOUND,
    UNAUTHENTICATED,
    Conflict,
    GradOpsError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ProblemCatalogue,
    ProblemType,
    ServiceUnavailable,
    UnsupportedMediaType,
    catalogue_entries,
    catalogue_markdown,
    shared_problems,
)

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


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


def answer(
    problem: ProblemType,
    detail: str | None = None,
    *,
    instance: str | None = None,
    message_zh: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A catalogued problem's answer itself, for edges that answer without raising (middleware)."""
    return problem_response(
        status=problem.status,
        code=problem.code,
        title=problem.title,
        detail=detail or problem.title,
        message_zh=message_zh or problem.title_zh,
        instance=instance,
        extra=extra,
        headers=headers,
    )


__all__ = [
    "CATALOGUE",
    "METHOD_NOT_ALLOWED",
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "ROUTE_NOT_FOUND",
    "UNAUTHENTICATED",
    "Conflict",
    "GradOpsError",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ProblemCatalogue",
    "ProblemType",
    "ServiceUnavailable",
    "UnsupportedMediaType",
    "answer",
    "catalogue_entries",
    "catalogue_markdown",
    "document_problems",
    "install_error_handlers",
    "problem_for",
    "problem_response",
    "shared_problems",
]
