from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PhotoKind = Literal["admission", "graduation"]
# The stable check codes (gradops_photo.qc.report.CHECK_CODES; a test keeps the two equal).
CheckCode = Literal[
    "photo.format",
    "photo.colour_mode",
    "photo.dimensions",
    "photo.file_size",
    "photo.dpi",
    "photo.background_colour",
    "photo.background_uniformity",
    "photo.face_count",
    "photo.face_size",
    "photo.face_position",
    "photo.head_pose",
    "photo.eyes_open",
    "photo.mouth_closed",
    "photo.sharpness",
    "photo.exposure",
    "photo.clothing_contrast",
    "photo.glasses",
    "photo.ears_eyebrows_visible",
    "photo.same_as_admission",
    "photo.face_match",
]


class QcCheckOut(BaseModel):
    code: CheckCode = Field(description="Stable check code (see the endpoint's description and the README)")
    passed: bool
    measured: Any = Field(
        description="What was measured (number, string or object; null when not measurable)"
    )
    expected: Any = Field(description="What the profile demands")
    severity: Literal["error", "warning", "review"] = Field(
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
