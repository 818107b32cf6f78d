"""Audit runs: every check explained, history, diffs, what-if."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from gradops_audit.schemas.common import (
    Line,
    _In,
)
from gradops_audit.schemas.transcripts import CourseIn, DegreeEnglishIn, ThesisIn


class AuditCheckOut(BaseModel):
    code: str
    group: Literal["eligibility", "graduation", "degree"]
    outcome: Literal["passed", "failed", "waived", "not_applicable"]
    passed: bool
    measured: Any
    expected: Any
    missing: list[str] | None = Field(None, description="What is missing: course codes, photo kinds, fields.")
    exception_id: str | None = None
    message_zh: str
    message_en: str
    hint_zh: str | None
    hint_en: str | None


class ExceptionUseOut(BaseModel):
    id: str
    status: Literal["applied", "not_needed", "lapsed"]
    note_zh: str
    note_en: str


class RuleSetRef(BaseModel):
    code: str
    version: int


class AuditOut(BaseModel):
    id: str
    student_no: str
    batch_code: str
    application_id: str | None
    application_type: str | None
    what_if: bool
    scenario: dict[str, Any] | None
    result: Literal["passed", "failed"]
    passed: bool
    degree_eligible: bool | None
    failed_checks: list[str]
    checks: list[AuditCheckOut]
    exceptions: list[ExceptionUseOut]
    rule_set: RuleSetRef | None
    degree_rule_set: str | None
    inputs_digest: str
    trigger: str
    actor: str | None
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None
    count: int


class CheckChangeOut(BaseModel):
    code: str
    change: Literal["added", "removed", "changed"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditDiffOut(BaseModel):
    from_audit: str
    to_audit: str
    result_before: str
    result_after: str
    digest_changed: bool
    rule_set_before: RuleSetRef | None
    rule_set_after: RuleSetRef | None
    changes: list[CheckChangeOut]


class WhatIfIn(_In):
    major: Line | None = Field(None, max_length=100, description="Another major (转专业)")
    level: Literal["junior_college", "bachelor_from_junior_college", "bachelor"] | None = None
    category: Line | None = Field(None, max_length=64)
    enrolment_term: Line | None = Field(None, max_length=16)
    courses: list[CourseIn] = Field(
        default_factory=list, max_length=200, description="Future grades: add or replace by code"
    )
    thesis: ThesisIn | None = None
    degree_english: DegreeEnglishIn | None = None
    application_type: Literal["graduate", "graduate_with_degree"] = "graduate"
