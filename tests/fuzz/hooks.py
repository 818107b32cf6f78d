"""Schemathesis hooks for the fuzz run (loaded by `hooks = "tests.fuzz.hooks"` in schemathesis.toml).

1. Work-around for "AST constructor recursion depth mismatch" (the baseline run's "Runtime Error" in
   the coverage phase). Hypothesis describes every `.filter(lambda …)` it builds (only for the
   strategy's repr) by parsing the lambda's source file with `ast.parse`; schemathesis builds such
   filters per operation, so its 5,000-line coverage module is parsed again and again. CPython 3.11's
   AST converter keeps its recursion counter in interpreter-wide state and does not restore it on
   every early exit (CPython gh-106905, reworked for 3.12/3.13), so with two workers a parse now and
   then raises SystemError although the source is fine. `ast.parse` in the fuzzer's own process is
   therefore serialised and, on that one SystemError, retried (a fresh call starts from a clean
   counter); the retries are counted and printed at exit. The server under test is another process.
2. `validation_matches_schema`, a check of our own (see its docstring and schemathesis.toml).
"""

from __future__ import annotations

import ast
import atexit
import json
import sys
import threading
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.generation.meta import TestPhase

_parse = ast.parse
_parse_lock = threading.Lock()
_DEPTH_MISMATCH = "AST constructor recursion depth mismatch"
_retries = 0


def _serialised_parse(*args: Any, **kwargs: Any) -> Any:
    global _retries
    with _parse_lock:
        for attempt in range(5):
            try:
                return _parse(*args, **kwargs)
            except SystemError as exc:
                if _DEPTH_MISMATCH not in str(exc) or attempt == 4:
                    raise
                _retries += 1
        raise AssertionError("unreachable")


def _report_retries() -> None:
    if _retries:
        print(f"tests/fuzz/hooks.py: ast.parse retried {_retries} times (CPython gh-106905)", file=sys.stderr)


ast.parse = _serialised_parse
atexit.register(_report_retries)

VALIDATION_FAILED = "request.validation_failed"
FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _sent_value(case: Case[Any], location: str, field: str) -> Any:
    """What the case put at `location`/`field` (a dotted path into the body), or None."""
    container: Any = {"path": case.path_parameters, "query": case.query, "header": case.headers}.get(
        location, case.body
    )
    for part in field.split(".") if location == "body" else [field]:
        if isinstance(container, dict):
            container = container.get(part)
        elif isinstance(container, list) and part.isdigit() and int(part) < len(container):
            container = container[int(part)]
        else:
            return None
    return container


def _artefact(case: Case[Any], location: str, field: str, message: str) -> bool:
    """Refusals caused by how the request travels, not by what the schema promises."""
    # A file part is a part with a filename; OpenAPI has no way to say so, and the fuzzer sometimes
    # sends a `format: binary` property as a plain text part, which no client uploading a file does.
    if "Expected UploadFile" in message:
        return True
    meta = case.meta
    # A stateful step fills path parameters from an earlier answer, which may not have had the value.
    if meta is not None and meta.phase.name == TestPhase.STATEFUL and location == "path":
        return True
    # A form has no null: an optional `anyOf [T, null]` part drawn as null goes out as the text
    # "null" (or a text part where a file belongs), which no server can read back as null.
    media_type = (case.media_type or "").split(";")[0].strip().lower()
    return (
        location == "body" and media_type in FORM_MEDIA_TYPES and _sent_value(case, location, field) is None
    )


@schemathesis.check
def validation_matches_schema(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A request the schema calls valid must not be refused by request validation.

    `positive_data_acceptance` allows 422 because business rules answer 422 with codes of their own
    (schemathesis.toml says why). `request.validation_failed` is different: it is the framework's
    validation of the very request the spec describes, so refusing schema-valid data means the spec
    leaves out a constraint the code enforces (a pattern, a bound, an enum, a length): declare it.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(problem, dict) or problem.get("code") != VALIDATION_FAILED:
        return None
    errors = [e for e in problem.get("errors", []) if isinstance(e, dict)]
    real = [
        e
        for e in errors
        if not _artefact(case, str(e.get("in", "")), str(e.get("field", "")), str(e.get("message", "")))
    ]
    if errors and not real:
        return None
    fields = "; ".join(f"{e.get('in', '?')}.{e.get('field', '?')}: {e.get('message', '')}" for e in real)
    raise AssertionError(
        "Schema-valid request refused by request validation: the spec does not declare a constraint "
        f"the code enforces ({fields or problem.get('detail', '')})"
    )
