"""Cursor pages of the photo lists (api.md: `?limit=&cursor=`, answer `next_cursor`).

A cursor names the last item of a page by its sort key (a time and the id), so a page boundary never
skips or repeats an item when submissions arrive meanwhile. Opaque to clients (the shared codec);
anything this server did not issue is a 422 `photo.cursor_invalid`, never a 500.
"""

from __future__ import annotations

import re
from datetime import datetime

from gradops_shared.errors import InvalidInput
from gradops_shared.text import InvalidCursor, decode_cursor, encode_cursor

_ID = re.compile(r"^[0-9a-fA-F-]{1,36}$")
CURSOR_DESCRIPTION = "next_cursor of the previous page (opaque); absent for the first page"


def position_cursor(at: datetime, item_id: str) -> str:
    return encode_cursor(f"{at.isoformat()}|{item_id}")


def read_position(cursor: str) -> tuple[datetime, str]:
    """The (time, id) a cursor of `position_cursor` names."""
    try:
        at_text, _, item_id = decode_cursor(cursor).partition("|")
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or not _ID.match(item_id):
            raise InvalidCursor("not a photo list cursor")
    except (InvalidCursor, ValueError) as exc:
        raise InvalidInput(
            "cursor is not one this API returned.",
            code="photo.cursor_invalid",
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
        ) from exc
    return at, item_id
