"""Hostile text at the edges: control characters refused on the way in, formulas defused on the way out.

Every free-text field a person or a partner types (names, majors, reasons, notes) is declared with
`PlainText` (one line) or `MultilineText` (tabs and newlines allowed), so a NUL, ESC or C1 character
is answered with a 422 that names the field instead of being stored and breaking an export later.
Every cell a CSV or XLSX export writes goes through `export_cell`, which neutralises a leading
formula trigger as OWASP's "CSV injection" page recommends: a spreadsheet must show what a student
typed, never run it.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# C0 (except tab/LF/CR, which only multi-line fields accept), DEL, C1, and the Unicode line and
# paragraph separators, which break CSV rows and log lines just as a bare CR does.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS = re.compile("[\t\n\r]")
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control character in `value` as `U+XXXX`, or None when the text is clean."""
    match = _CONTROL.search(value) or (None if multiline else _LINE_BREAKS.search(value))
    return None if match is None else f"U+{ord(match.group()):04X}"


def _one_line(value: str) -> str:
    found = control_character(value)
    if found:
        raise ValueError(f"must not contain control characters (found {found})")
    return value


def _multi_line(value: str) -> str:
    found = control_character(value, multiline=True)
    if found:
        raise ValueError(f"must not contain control characters (found {found})")
    return value


@dataclass(frozen=True)
class _DeclaredPattern:
    """Says in the JSON schema what the validator enforces, so a partner (and the fuzzer) reading
    the spec knows a control character is refused. A field with a pattern of its own keeps it."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if schema.get("type") == "string" and "pattern" not in schema:
            schema["pattern"] = self.pattern
        return schema


# The same character classes as _CONTROL (+ line breaks for one line), as JSON Schema regexes.
_CONTROL_CLASS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029"
# `(?!\n)`: Python's `$` (the fuzzer's generator) also matches before a final newline; ECMA's does not.
ONE_LINE_PATTERN = f"^[^{_CONTROL_CLASS}\\t\\n\\r]*(?!\\n)$"
MULTI_LINE_PATTERN = f"^[^{_CONTROL_CLASS}]*$"

PlainText = Annotated[str, AfterValidator(_one_line), _DeclaredPattern(ONE_LINE_PATTERN)]
"""One line of text typed by a person: no control characters at all."""

MultilineText = Annotated[str, AfterValidator(_multi_line), _DeclaredPattern(MULTI_LINE_PATTERN)]
"""Free text that may span lines (tabs, LF, CR allowed), but no other control character."""


def is_clean_identifier(value: str) -> bool:
    """A path or query identifier (student number, code, id): printable, no control characters,
    nothing that changes meaning in a URL. Used before a value reaches a database or an upstream URL."""
    return (
        bool(value)
        and control_character(value) is None
        and all(unicodedata.category(c)[0] != "Z" or c == " " for c in value)
    )


def export_cell(value: Any) -> Any:
    """A value safe to write into a CSV or XLSX cell: text that a spreadsheet would read as a formula
    (leading `= + - @`, tab, CR, LF, or their full-width forms) is prefixed with a single quote, and
    control characters (which openpyxl refuses and Excel mangles) are dropped. Numbers, dates and None
    pass unchanged: they are data, not formulas."""
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub("", value)
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


class InvalidCursor(ValueError):
    """A pagination cursor that this server did not issue."""


def encode_cursor(position: str) -> str:
    """An opaque, URL-safe cursor for a list position (the last key of the page)."""
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, max_length: int = 512) -> str:
    """The position a cursor from `encode_cursor` names; anything else (non-ASCII, bad base64, not
    UTF-8, control characters, too long) raises `InvalidCursor`, which callers answer with a 422."""
    if not cursor or len(cursor) > max_length or not cursor.isascii():
        raise InvalidCursor("not a cursor issued by this server")
    try:
        position = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("not a cursor issued by this server") from exc
    if not position or control_character(position) is not None:
        raise InvalidCursor("not a cursor issued by this server")
    return position


def _iso_date_only(value: Any) -> Any:
    # pydantic would read "0" or "1700000000" as a Unix time; a date on the wire is YYYY-MM-DD.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A date as the spec says (`format: date`, YYYY-MM-DD), nothing else pydantic would coerce."""
