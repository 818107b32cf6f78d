"""Cursor pages, once for every list (api.md: `?limit=&cursor=`, answer `next_cursor`).

A cursor names the last item of a page by its sort key, so a page boundary never skips or repeats an
item when rows arrive meanwhile. Opaque to clients; anything this server did not issue is a 422 with
the service's own `*.cursor_invalid` code, never a 500.
"""

from __future__ import annotations

import re
from datetime import datetime

from gradops_shared.problems import GradOpsError, ProblemType
from gradops_shared.text import InvalidCursor, decode_cursor, encode_cursor

CURSOR_DESCRIPTION = "next_cursor of the previous page (opaque); absent for the first page"
_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")
_KEY = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_INT = re.compile(r"^[0-9]{1,18}$")  # fits a bigint


def _invalid(invalid: ProblemType) -> GradOpsError:
    return invalid(
        "cursor is not one this API returned.",
        message_zh="分页游标无效",
        extra={
            "errors": [
                {
                    "field": "cursor",
                    "in": "query",
                    "type": "cursor_invalid",
                    "message": "分页游标无效 / not a cursor issued by this server",
                }
            ]
        },
    )


def key_cursor(key: str | int) -> str:
    """The cursor after an item sorted by one key (a student number, a row id)."""
    return encode_cursor(str(key))


def read_key(cursor: str, invalid: ProblemType, *, pattern: re.Pattern[str] = _KEY) -> str:
    """The key a `key_cursor` names (matching `pattern`), or `invalid` (422)."""
    try:
        position = decode_cursor(cursor)
    except InvalidCursor:
        raise _invalid(invalid) from None
    if not pattern.fullmatch(position):
        raise _invalid(invalid)
    return position


def read_int(cursor: str, invalid: ProblemType) -> int:
    """The integer (row id) a `key_cursor` names, or `invalid` (422)."""
    return int(read_key(cursor, invalid, pattern=_INT))


def position_cursor(at: datetime, item_id: str) -> str:
    """The cursor after an item sorted by (time, id)."""
    return encode_cursor(f"{at.isoformat()}|{item_id}")


def read_position(cursor: str, invalid: ProblemType) -> tuple[datetime, str]:
    """The (time, id) a `position_cursor` names, or `invalid` (422)."""
    try:
        at_text, _, item_id = decode_cursor(cursor).partition("|")
        at = datetime.fromisoformat(at_text)
    except (InvalidCursor, ValueError):
        raise _invalid(invalid) from None
    if at.tzinfo is None or not _ID.fullmatch(item_id):
        raise _invalid(invalid)
    return at, item_id
