from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PhotoKind = Literal["admission", "graduation"]


class QcCheckOut(BaseModel):
    code: str
    passed: bool
    measured: Any
    expected: Any
    severity: Literal["error", "warning"]
    fixable: bool
    message_zh: str
    message_en: str
    hint: str | None


class QcReportOut(BaseModel):
    passed: bool
    profile: str
    checks: list[QcCheckOut]


class TransitionOut(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class SubmissionOut(BaseModel):
    id: str
    student_no: str
    kind: PhotoKind
    source: str
    state: str
    sha256: str
    qc: QcReportOut
    created_at: datetime
    updated_at: datetime
    history: list[TransitionOut] = Field(default_factory=list)


class DecisionOut(BaseModel):
    id: str
    state: str
    student_no: str
    kind: PhotoKind


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasons: list[str] = Field(
        min_length=1, description="Reason codes from the QC catalogue, e.g. photo.background_not_blue"
    )
    comment: str | None = Field(None, max_length=1000)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(None, max_length=1000)
