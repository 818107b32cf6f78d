"""Graduation and degree rule sets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from gradops_audit.schemas.common import (
    CourseCategory,
    Line,
    Paragraph,
    RequiredLine,
    _In,
)


class RuleSetIn(_In):
    level: Literal["junior_college", "bachelor_from_junior_college", "bachelor"]
    category: Line | None = Field(None, max_length=64)
    major: Line | None = Field(None, max_length=100)
    from_term: Line | None = Field(None, max_length=16, description="Cohorts enrolled in this term or later")
    min_total_credits: float = Field(0, ge=0, le=400)
    min_credits: dict[CourseCategory, Annotated[float, Field(ge=0, le=400)]] = Field(default_factory=dict)
    required_courses: list[Annotated[RequiredLine, Field(max_length=64)]] = Field(
        default_factory=list, max_length=200
    )
    practice_grades_published: bool = True
    thesis_required: bool = False
    thesis_min_score: float = Field(60, ge=0, le=100)
    pass_score: float = Field(60, ge=0, le=100)
    description: Paragraph = Field("", max_length=500)


class RuleSetOut(BaseModel):
    code: str
    version: int
    kind: Literal["graduation", "degree"]
    source: Literal["shipped", "stored"]
    in_use: bool = Field(
        description="Degree: the university's choice. Graduation: the latest version of its code."
    )
    data: dict[str, Any]


class RuleSetPage(BaseModel):
    items: list[RuleSetOut]
    next_cursor: str | None
    count: int
