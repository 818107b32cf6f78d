"""Problems a client may see, as data: the error hierarchy and the catalogue of codes.

Pure (no web framework): the domain raises these; `gradops_shared.errors` renders them as RFC 9457
problem+json in Chinese and English, the only place that turns an exception into an HTTP answer.
"""

from __future__ import annotations

from typing import Any


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


_HTTP_STATUS_PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: ("request.bad", "Bad request", "请求无效"),
    401: ("auth.unauthenticated", "Unauthenticated", "未认证"),
    403: ("auth.forbidden", "Forbidden", "无权访问"),
    404: ("route.not_found", "Not found", "请求的地址不存在"),
    405: ("route.method_not_allowed", "Method not allowed", "不支持该请求方法"),
    413: ("request.too_large", "Payload too large", "上传内容过大"),
}


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
