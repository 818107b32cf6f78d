"""The registry's `Annotated` dependencies: scoped principals, typed settings, path and query shapes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Path, Query

from gradops_registry.errors import CURSOR_INVALID, IF_MATCH_INVALID
from gradops_registry.settings import RegistrySettings
from gradops_shared.edge import settings_of
from gradops_shared.paging import read_int, read_key
from gradops_shared.principal import Principal, requires

Reader = Annotated[Principal, requires("registry:read")]
Writer = Annotated[Principal, requires("registry:write")]
Reviewer = Annotated[Principal, requires("registry:review")]
SettingsDep = Annotated[RegistrySettings, Depends(settings_of)]

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
OrgCode = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$", description="单位代码")
]
MaskNames = Annotated[
    bool, Query(description="Mask names as CHSI does (张**三), e.g. for lists shown on a screen.")
]
IfMatch = Annotated[
    str | None,
    Header(description="The version you read; a stale one gets 409 registry.version_conflict."),
]
Cursor = Annotated[
    str | None,
    Query(max_length=512, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page"),
]

_STUDENT_NO = re.compile(r"^[0-9A-Za-z]{1,32}$")


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header names (`3`, `"3"` or `W/"3"`), or None without one."""
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()):
        raise IF_MATCH_INVALID(
            "If-Match must carry the record's version, e.g. If-Match: 3.",
            message_zh="If-Match 须为记录的版本号",
        )
    return int(raw)


def student_after(cursor: str | None) -> str | None:
    """The last student number of the previous page (anything else, non-ASCII included: 422)."""
    return read_key(cursor, CURSOR_INVALID, pattern=_STUDENT_NO) if cursor is not None else None


def change_after(cursor: str | None) -> int | None:
    """The id of the last status change of the previous page."""
    return read_int(cursor, CURSOR_INVALID) if cursor is not None else None
