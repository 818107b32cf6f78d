"""Applications (毕业申请), batch audit runs and HQ sign-off."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gradops_audit.schemas.common import (
    MAX_SIGN_OFF_WAIT,
    ApplicationType,
    CentreCode,
    Line,
    RequiredLine,
    StudentNo,
    _In,
)


class SelectionIn(_In):
    enrolment_terms: list[Annotated[RequiredLine, Field(max_length=16)]] | None = Field(
        None, max_length=50, description="Only these terms (within the cohort)."
    )
    learning_centres: list[CentreCode] | None = Field(None, max_length=500)
    meets_graduation_conditions: bool | None = Field(
        None, description="满足毕业条件: credits, courses, practice, thesis."
    )
    has_graduation_photo: bool | None = Field(
        None, description="An approved graduation photo on the platform."
    )


APPLICATION_EXAMPLE: dict[str, JsonValue] = {"type": "graduate", "student_nos": ["2021510001"]}


class ApplicationsIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [APPLICATION_EXAMPLE]})

    type: ApplicationType
    student_nos: list[StudentNo] | None = Field(None, min_length=1, max_length=5000)
    selection: SelectionIn | None = Field(
        None, description="Instead of student_nos: every student of the cohort that fits."
    )
    secondary_vocational_proof: Line | None = Field(
        None,
        max_length=200,
        description="中高衔接: the secondary-vocational diploma number (or other proof).",
    )


class ApplicationOut(BaseModel):
    id: str
    batch_code: str
    student_no: str
    learning_centre: str
    type: ApplicationType
    state: Literal["open", "signed_off", "deferred"]
    round: int
    position: int = Field(
        description="Submission order within the batch (HQ works first come, first served)."
    )
    result: Literal["passed", "failed"] | None
    failed_checks: list[str] | None
    audit_id: str | None
    secondary_vocational_proof: str | None
    submitted_by: str
    submitted_at: datetime
    signed_off_by: str | None
    signed_off_at: datetime | None


class SkippedOut(BaseModel):
    student_no: str
    code: str
    reason: str


class ApplicationsOut(BaseModel):
    batch_code: str
    count: int
    items: list[ApplicationOut]
    skipped: list[SkippedOut]


class BatchAuditItem(BaseModel):
    student_no: str
    learning_centre: str
    application_id: str
    application_type: ApplicationType
    state: Literal["open", "signed_off", "deferred"]
    position: int
    result: Literal["passed", "failed", "deferred"] | None
    failed_checks: list[str]
    degree_eligible: bool | None
    audit_id: str | None
    audited_at: datetime | None
    submitted_at: datetime


class BatchAuditPage(BaseModel):
    items: list[BatchAuditItem]
    next_cursor: str | None
    count: int


class AuditRunOut(BaseModel):
    batch_code: str
    audited: int
    passed: int
    failed: int
    events: int
    signed_off: int
    seconds: float


class SignOffIn(_In):
    student_nos: list[StudentNo] | None = Field(None, min_length=1, max_length=5000)
    all_passing: bool = Field(False, description="Sign off every passing open application of the batch.")
    wait_seconds: float = Field(
        0,
        ge=0,
        le=MAX_SIGN_OFF_WAIT,
        description="With student_nos: for a student whose current audit does not pass, wait up to this "
        "long for a newer audit (e.g. the re-audit a PhotoApproved event triggers) before deciding. "
        "0: decide on the audits as they stand.",
    )


class SignOffOut(BaseModel):
    batch_code: str
    count: int
    signed_off: list[str]
    skipped: list[SkippedOut]
