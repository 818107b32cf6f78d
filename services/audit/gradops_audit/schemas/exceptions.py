"""Exceptions (waived checks, substituted courses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from gradops_audit.schemas.common import (
    BatchCodeText,
    Line,
    RequiredLine,
    RequiredParagraph,
    _In,
)


class ExceptionIn(_In):
    kind: Literal["waive_check", "substitute_course"]
    check_code: Line | None = Field(
        None, max_length=64, description="waive_check: the check, e.g. audit.credits_practice"
    )
    course_code: Line | None = Field(
        None, max_length=64, description="substitute_course: the required course"
    )
    substitute_code: Line | None = Field(
        None, max_length=64, description="substitute_course: the course that counts for it"
    )
    scope: Literal["student", "batch"] = Field(
        "student", description="student: every audit; batch: one batch only"
    )
    batch_code: BatchCodeText | None = None
    approver: RequiredLine = Field(min_length=1, max_length=100, description="Who approved it (审批人)")
    reason: RequiredParagraph = Field(min_length=1, max_length=500)


class ExceptionOut(BaseModel):
    id: str
    student_no: str
    kind: str
    check_code: str | None
    course_code: str | None
    substitute_code: str | None
    scope: str
    batch_code: str | None
    approver: str
    reason: str
    granted_under: dict[str, Any]
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class ExceptionPage(BaseModel):
    items: list[ExceptionOut]
    next_cursor: str | None
    count: int
