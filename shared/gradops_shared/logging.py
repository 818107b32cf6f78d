"""Structured JSON logs with the request id bound through contextvars.

What a log line never holds: an `Authorization` header or API key, the signed principal header, a
resident ID number or a query string. Tracebacks are rendered without frame locals (the locals of
an ASGI frame are the whole request scope: headers, query string), and a last processor masks
anything that still looks like a key, a bearer token, a principal token, a resident ID number or a
URL's query (exception messages may quote a URL or a value).
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

_request_id: ContextVar[str | None] = ContextVar("gradops_request_id", default=None)

# Masked wherever they appear in a log line (values, keys of nested dicts, traceback messages).
_SECRETS = re.compile(
    r"(?P<key>gok_[A-Za-z0-9_\-]{6,})"
    r"|(?P<bearer>(?i:bearer)\s+[^\s\"',;)\]}]+)"
    # The signed principal: base64url(JSON) "." base64url(HMAC); JSON objects start `{"` = `eyJ`.
    r"|(?P<principal>eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})"
    # A resident ID number (GB 11643): 6-digit area, birth date 18xx-20xx, sequence, check digit.
    r"|(?P<id_number>(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9]))"
    r"|(?P<query>(?<=[A-Za-z0-9/\]])\?[^\s\"'<>]+)"
)
_MASKS = {
    "key": "gok_[redacted]",
    "bearer": "Bearer [redacted]",
    "principal": "[principal redacted]",
    "id_number": "[id number redacted]",
    "query": "?[query redacted]",
}


def _mask(match: re.Match[str]) -> str:
    return _MASKS[match.lastgroup or "key"]


def redact_text(text: str) -> str:
    """The text with every secret, resident ID number and URL query masked."""
    return _SECRETS.sub(_mask, text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {_redact(k): _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: structlog.types.EventDict) -> Any:
    """Last structlog processor before rendering: see the module docstring."""
    return {key: _redact(value) for key, value in event_dict.items()}


# Frame, file and line are what a developer needs; locals would hold the request scope.
exception_without_locals = structlog.processors.ExceptionRenderer(
    ExceptionDictTransformer(show_locals=False, max_frames=30)
)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> None:
    _request_id.set(request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)


def configure_logging(process: str, level: str = "INFO") -> None:
    """JSON lines on stdout: the stack launcher sends each process's stdout to its own file."""
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # JSON lines for files and collectors; readable lines when a person watches a terminal.
    tty = sys.stdout.isatty()
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
        if tty
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    # format_exc_info renders the standard library's traceback, which never shows locals.
    exceptions = structlog.processors.format_exc_info if tty else exception_without_locals
    structlog.configure(
        processors=[*shared_processors, exceptions, redact_secrets, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(process=process)
    # Route the standard library's logs (uvicorn, aiokafka, alembic) through the same processors.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                exceptions,
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
