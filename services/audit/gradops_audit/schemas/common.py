"""Shared field types and patterns of the audit's request models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from gradops_shared.text import control_character

ApplicationType = Literal["graduate", "graduate_with_degree", "defer"]
CourseCategory = Literal["required", "elective", "practice", "thesis"]

# Identifiers are matched as sent (no stripping), so the schema's pattern is exactly what is accepted.
STUDENT_NO_PATTERN = r"^[0-9A-Za-z]+$"
StudentNo = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=32, pattern=STUDENT_NO_PATTERN)
]
BATCH_CODE_PATTERN = r"^[0-9]{4}(0[1-9]|1[0-2])$"  # YYYYMM
BatchCodeText = Annotated[str, StringConstraints(strip_whitespace=False, pattern=BATCH_CODE_PATTERN)]
CentreCode = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")
]

# What gradops_shared.text refuses (as PlainText / MultilineText do), spelled as JSON-schema patterns
# so that a client (or a fuzzer) reads from the schema what the server accepts.
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_CONTROL_MULTILINE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_BLANK = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"  # what str.strip() removes, controls aside
ONE_LINE = f"^[^{_CONTROL}]*$"
ONE_LINE_NOT_BLANK = f"^[^{_CONTROL}]*[^{_CONTROL}{_BLANK}][^{_CONTROL}]*$"
MULTI_LINE = f"^[^{_CONTROL_MULTILINE}]*$"
MULTI_LINE_NOT_BLANK = f"^[^{_CONTROL_MULTILINE}]*[^{_CONTROL}{_BLANK}][^{_CONTROL_MULTILINE}]*$"


class _SchemaPattern:
    """Adds a `pattern` to a field's JSON schema only (the validator in front of it does the work)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


def _one_line(value: object) -> object:
    # Checked as sent, before the models trim whitespace: a tab or CR at either end is refused too.
    found = isinstance(value, str) and control_character(value)
    if found:
        raise ValueError(f"must not contain control characters (found {found})")
    return value


def _multi_line(value: object) -> object:
    found = isinstance(value, str) and control_character(value, multiline=True)
    if found:
        raise ValueError(f"must not contain control characters (found {found})")
    return value


Line = Annotated[str, BeforeValidator(_one_line), _SchemaPattern(ONE_LINE)]
"""One line typed by a person or a partner: no control characters (422 naming the field)."""
RequiredLine = Annotated[str, BeforeValidator(_one_line), _SchemaPattern(ONE_LINE_NOT_BLANK)]
"""As Line, and not blank once trimmed."""
Paragraph = Annotated[str, BeforeValidator(_multi_line), _SchemaPattern(MULTI_LINE)]
RequiredParagraph = Annotated[str, BeforeValidator(_multi_line), _SchemaPattern(MULTI_LINE_NOT_BLANK)]


# Seconds. Well under the gateway's 30 s upstream read timeout, so the sign-off after the wait still
# answers through it.
MAX_SIGN_OFF_WAIT = 20.0


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
