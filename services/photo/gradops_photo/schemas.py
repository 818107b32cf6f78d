from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from gradops_photo.qc.report import CheckCode as CheckCode  # the API names the QC codes (re-exported)
from gradops_photo.qc.report import Severity
from gradops_shared.text import MultilineText, PlainText

if TYPE_CHECKING:
    from gradops_photo.qc.pool import QcOutcome

# What PlainText / MultilineText refuse, said in the schema too (clients and fuzzers see the rule;
# the validator stays the shared one, so the 422 names the field the same way).
NO_CONTROL_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
NO_CONTROL_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
Line = Annotated[PlainText, Field(json_schema_extra={"pattern": NO_CONTROL_LINE})]
Text = Annotated[MultilineText, Field(json_schema_extra={"pattern": NO_CONTROL_TEXT})]

PhotoKind = Literal["admission", "graduation"]


class QcCheckOut(BaseModel):
    code: CheckCode = Field(description="Stable check code (see the endpoint's description and the README)")
    passed: bool
    measured: Any = Field(
        description="What was measured (number, string or object; null when not measurable)"
    )
    expected: Any = Field(description="What the profile demands")
    severity: Severity = Field(
        description="error: the photo fails; warning: worth fixing, does not fail; review: a human must look"
    )
    fixable: bool = Field(description="Standardisation (standardise=true) can fix it")
    message_zh: str
    message_en: str
    hint: str | None = Field(description="What to do, in Chinese (null when passed)")
    hint_en: str | None = Field(None, description="The same hint in English")


class QcCheckReportOut(BaseModel):
    passed: bool = Field(description="No check of severity error or review failed")
    profile: str
    checks: list[QcCheckOut]


class StandardisedOut(BaseModel):
    """照片标准化: the fixed photo (or why it cannot be fixed) and the report of its final bytes."""

    fixed: bool
    reason_zh: str | None = Field(description="Why the photo cannot be fixed (null when fixed)")
    reason_en: str | None
    steps: list[str] = Field(description="What was done: roll levelled, crop, resize, JPEG quality chosen")
    width: int | None
    height: int | None
    dpi: int | None
    quality: int | None = Field(description="JPEG quality chosen by the KB-window search")
    bytes: int | None
    sha256: str | None
    content_type: Literal["image/jpeg"] = "image/jpeg"
    jpeg_base64: str | None = Field(None, description="The final JPEG (checks endpoint)")
    href: str | None = Field(None, description="Where to download it (stored submissions)")
    report: QcCheckReportOut | None = Field(description="Every check re-run on the final bytes")


class QcReportOut(QcCheckReportOut):
    standardised: StandardisedOut | None = Field(None, description="Present when standardise=true was asked")

    @classmethod
    def of(cls, outcome: QcOutcome, *, href: str | None = None) -> QcReportOut:
        """The answer of the checks endpoint (inline bytes) and the report stored on a submission
        (`href` to the standardised file instead)."""
        assert outcome.report is not None
        out = cls.model_validate(outcome.report.as_dict())
        fixed = outcome.standardised
        if fixed is None:
            return out
        data = fixed.data
        final = outcome.standardised_report
        out.standardised = StandardisedOut(
            fixed=fixed.fixed,
            reason_zh=fixed.reason_zh,
            reason_en=fixed.reason_en,
            steps=fixed.steps,
            width=fixed.width,
            height=fixed.height,
            dpi=fixed.dpi,
            quality=fixed.quality,
            bytes=None if data is None else len(data),
            sha256=None if data is None else hashlib.sha256(data).hexdigest(),
            jpeg_base64=None if data is None or href else base64.b64encode(data).decode(),
            href=href if data is not None else None,
            report=None if final is None else QcCheckReportOut.model_validate(final.as_dict()),
        )
        return out


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
    state: str = Field(
        description="submitted, auto_rejected, pending_review, approved, rejected, expired, superseded, "
        "on_chsi, chsi_rejected, reopened"
    )
    sha256: str = Field(description="Digest of the upload as it came")
    original_kept: bool = Field(
        True,
        description="false: QC rejected an upload over the keep limit; only a preview was stored "
        "(file?variant=preview)",
    )
    learning_centre: str | None = None
    qc: QcReportOut
    created_at: datetime
    updated_at: datetime
    review_due_at: datetime | None = Field(None, description="Review SLA: due by (working days)")
    overdue: bool = Field(False, description="Pending review past its due time")
    resubmit_by: datetime | None = Field(None, description="Rejected: a new photo is needed by then")
    reviewer: str | None = None
    review_reasons: list[str] | None = None
    review_comment: str | None = None
    proofread_state: Literal["confirm_requested", "confirmed", "error_reported"] | None = None
    proofread_detail: str | None = None
    history: list[TransitionOut] = Field(default_factory=list)


class SubmissionPage(BaseModel):
    """A student's submissions, one cursor page (answered when `limit` or `cursor` is given)."""

    items: list[SubmissionOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")
    count: int = Field(description="How many submissions of the student you may see (all pages)")


class DecisionOut(BaseModel):
    id: str
    state: str
    student_no: str
    kind: PhotoKind


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasons: list[Annotated[Line, Field(max_length=64)]] = Field(
        min_length=1,
        max_length=50,
        description="Reason codes from the QC catalogue, e.g. photo.background_not_blue",
    )
    comment: Text | None = Field(None, max_length=1000)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Text | None = Field(None, max_length=1000)


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=2, max_length=1000, description="Why (补拍/重拍 …): logged")


class ChsiStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chsi_state: Literal["on_chsi", "chsi_rejected"]
    reason: Text | None = Field(None, max_length=1000)


class ChsiRowResult(BaseModel):
    row: int
    student_no: str | None
    submission_id: str | None = None
    state: str | None = None
    code: str | None = Field(None, description="Why the row was refused (null when applied)")
    message_zh: str | None = None


class ChsiImportOut(BaseModel):
    applied: int
    refused: int
    rows: list[ChsiRowResult]


# A JSON number or a decimal string ("20.00"), both what the validator accepts: 0 to 10000 in cents.
FEE_AMOUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 10000, "multipleOf": 0.01},
        {"type": "string", "pattern": r"^(10000(\.0{1,2})?|[0-9]{1,4}(\.[0-9]{1,2})?)$"},
    ]
}


class FeeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paid: bool
    amount: Annotated[Decimal, WithJsonSchema(FEE_AMOUNT_SCHEMA)] = Field(
        ge=0, le=10000, multiple_of=0.01, decimal_places=2, description="CNY, e.g. 20.00"
    )
    provider_reference: Line | None = Field(None, max_length=100, description="The payment provider's id")


class CaptureSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection_code: Line = Field(min_length=1, max_length=1024, description="图像采集码 as scanned")
    id_last4: str = Field(pattern=r"^[0-9]{3}[0-9Xx]$", description="Last 4 characters of the ID number")
    fee: FeeIn | None = Field(None, description="The capture fee as paid (payment itself is out of scope)")


class FeeOut(BaseModel):
    paid: bool
    amount: Decimal | None
    provider_reference: str | None


class CaptureSessionOut(BaseModel):
    id: str
    student_no: str
    token: str = Field(description="Send as X-Capture-Token with the upload; shown once")
    expires_at: datetime
    upload_href: str
    fee: FeeOut


class CapturePhotoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_base64: str = Field(min_length=4, description="The JPEG, base64")


class ImportFileOut(BaseModel):
    position: int
    name: str
    outcome: Literal["stored", "accepted", "skipped", "rejected"]
    reason: str | None = Field(description="Why skipped or rejected (stable code)")
    detail: str | None
    student_no: str | None
    submission_id: str | None
    failed_checks: list[str] | None = Field(description="QC checks that failed (rejected by QC)")


class ImportOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    options: dict[str, Any]
    total: int
    processed: int
    counts: dict[str, int]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    href: str
    files: list[ImportFileOut] = Field(default_factory=list)


class ReviewItemOut(SubmissionOut):
    admission_photo_href: str | None = Field(description="The student's admission photo, to compare")
    photo_href: str


class ReviewPage(BaseModel):
    items: list[ReviewItemOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null at the end.")
    count: int = Field(description="How many match (all pages)")
    sla_workdays: int


class BulkApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    submission_ids: list[Annotated[Line, Field(min_length=1, max_length=36)]] = Field(
        min_length=1, max_length=200
    )
    comment: Text | None = Field(None, max_length=1000)


class BulkRefusal(BaseModel):
    id: str
    code: str
    message_zh: str


class BulkApproveOut(BaseModel):
    approved: list[str]
    refused: list[BulkRefusal]


class ProofreadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["confirm", "report_error"]
    detail: Text | None = Field(None, max_length=500, description="What is wrong (report_error)")


class ProofreadOut(BaseModel):
    submission_id: str
    student_no: str
    proofread_state: Literal["confirm_requested", "confirmed", "error_reported"]
    final: bool = Field(description="confirmed or error recorded; a first confirmation alone is not final")
    message_zh: str


class CompletionRow(BaseModel):
    group: str = Field(description="Learning centre or class code")
    students: int
    without_graduation_photo: int
    pending_review: int
    rejected: int
    expired: int
    approved: int
    on_chsi: int


class CompletionOut(BaseModel):
    group_by: Literal["centre", "class"]
    rows: list[CompletionRow]
