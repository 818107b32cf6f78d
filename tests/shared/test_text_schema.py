"""What the shared text and date types refuse is also what their schema says, so a partner's validator
(and the fuzzer) reads the same rule the server applies."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from gradops_shared.text import IsoDate, MultilineText, PlainText


class Form(BaseModel):
    name: PlainText
    note: MultilineText | None = None
    on: IsoDate | None = None


def schema_pattern(field: str) -> re.Pattern[str]:
    prop = Form.model_json_schema()["properties"][field]
    found = prop.get("pattern") or next(p["pattern"] for p in prop["anyOf"] if "pattern" in p)
    return re.compile(found)


@pytest.mark.parametrize("text", ["张三", "O'Brien-Smith 3", "a\x01", "a\x95", "a\n", "a\u2028b", "\x1b[31m"])
def test_one_line_text_and_its_schema_agree(text: str) -> None:
    accepted = True
    try:
        Form(name=text)
    except ValidationError:
        accepted = False
    assert accepted == bool(schema_pattern("name").search(text)), text


@pytest.mark.parametrize("text", ["first line\nsecond\tcolumn\r\n", "bell\x07", "c1\x85"])
def test_multi_line_text_and_its_schema_agree(text: str) -> None:
    accepted = True
    try:
        Form(name="x", note=text)
    except ValidationError:
        accepted = False
    assert accepted == bool(schema_pattern("note").search(text)), text


def test_a_date_is_written_as_a_date_not_a_unix_time() -> None:
    assert Form(name="x", on="2027-06-30").on == date(2027, 6, 30)
    for wrong in ("0", "1700000000", "2027/06/30", "20270630"):
        with pytest.raises(ValidationError):
            Form(name="x", on=wrong)
