"""Graduation batches (毕业批次)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gradops_audit.schemas.common import (
    Line,
    RequiredLine,
    _In,
)

BATCH_EXAMPLE: dict[str, JsonValue] = {
    "name": "2023年7月毕业批次",
    "cohort_cutoff_term": "2021-spring",
    "rounds": [
        {"number": 1, "opens_on": "2023-07-06", "closes_on": "2023-07-16"},
        {"number": 2, "opens_on": "2023-09-04", "closes_on": "2023-10-12"},
    ],
    "issue_date": "2023-07-20",
    "graduation_date_rule": "fixed",
    "graduation_date": "2023-07-20",
}


class RoundIn(_In):
    number: int = Field(ge=1, le=12)
    opens_on: date
    closes_on: date = Field(description="Application deadline of the round (inclusive).")


class BatchIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [BATCH_EXAMPLE]})

    name: Line = Field("", max_length=100)
    cohort_cutoff_term: RequiredLine = Field(
        max_length=16, description="Students enrolled in this term or earlier (2021-spring | 2021春)."
    )
    rounds: list[RoundIn] = Field(min_length=1, max_length=12)
    issue_date: date | None = Field(
        None,
        description="The certificate issue date of the whole batch. It must equal the graduation date "
        "(教学〔2014〕11号 art. 18: the issue date is the day CHSI shows the record); omitted, it is "
        "that date.",
    )
    graduation_date_rule: Literal["quarterly", "fixed"] = Field(
        "quarterly",
        description="quarterly: Dec/Mar batches → 31 Jan, Jun/Sep → 31 Jul; fixed: `graduation_date`.",
    )
    graduation_date: date | None = None


class BatchOut(BaseModel):
    code: str
    name: str
    cohort_cutoff_term: str
    rounds: list[RoundIn]
    issue_date: date
    graduation_date_rule: str
    graduation_date: date
    created_at: datetime
    updated_at: datetime


class BatchPage(BaseModel):
    items: list[BatchOut]
    next_cursor: str | None
    count: int
