from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from gradops_certificates.domain.replacement import ReplacementReason, ReplacementState
from gradops_certificates.domain.verification import VerificationResult
from gradops_shared.text import MultilineText

# A learning centre's code as the registry writes it (e.g. 5135701).
CentreCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]

CertificateKind = Literal["diploma", "degree", "replacement"]
CertificateStatus = Literal["valid", "superseded", "revoked"]
DistributionState = Literal["at_hq", "collected_by_centre", "handed_to_student"]


class DistributionOut(BaseModel):
    state: DistributionState
    state_label_zh: str
    notified_on: date | None
    collection_due: date | None
    collected_on: date | None
    handover_due: date | None
    handed_on: date | None
    receipt_sha256: str | None
    chsi_checked_at: datetime | None = Field(description="When the student compared it with CHSI")
    chsi_matches: bool | None


class CertificateOut(BaseModel):
    number: str
    student_no: str
    batch_code: str
    level: str
    issue_date: date
    graduation_date: date
    status: CertificateStatus
    created_at: datetime
    kind: CertificateKind = "diploma"
    kind_label_zh: str = "毕业证书"
    learning_centre: str | None = None
    original_number: str | None = Field(None, description="A replacement's original certificate")
    superseded_by: str | None = Field(None, description="The 补证号 of the replacement")
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    distribution: DistributionOut | None = None


class DistributionEventOut(BaseModel):
    id: int
    number: str
    event: str
    occurred_on: date
    late: bool
    explanation: str | None
    detail: dict[str, object]
    actor: str
    recorded_at: datetime


class OverdueOut(BaseModel):
    number: str
    student_no: str
    learning_centre: str | None
    stage: Literal["collection", "handover"]
    due: date
    days_overdue: int


class OverdueCentreOut(BaseModel):
    learning_centre: str | None
    certificates: list[OverdueOut]


class ReplacementOut(BaseModel):
    id: str
    original_number: str
    student_no: str
    learning_centre: str | None
    reason: ReplacementReason
    note: str | None
    form_sha256: str
    state: ReplacementState
    applied_at: datetime
    applied_by: str
    verified_at: datetime | None
    decision_due: date | None = Field(description="15 working days after the centre's verification")
    working_days_left: int | None = Field(description="Negative once the HQ decision is overdue")
    overdue: bool
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    replacement_number: str | None = Field(description="补证号 once approved")


class DecisionIn(BaseModel):
    approve: bool
    note: MultilineText | None = Field(None, max_length=2000)


class RevocationIn(BaseModel):
    reason: MultilineText = Field(min_length=2, max_length=2000, description="学历撤销的理由与依据")


class RevocationOut(BaseModel):
    revoked: list[CertificateOut]


class ShareCodeIn(BaseModel):
    valid_days: int = Field(30, ge=1, le=3650, description="Days the code answers verification")


class ShareCodeOut(BaseModel):
    code: str
    number: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    valid: bool
    verification_url: str
    qr_png_url: str = Field(description="QR image of verification_url (needs certificates:read)")


class VerifiedCertificateOut(BaseModel):
    kind: CertificateKind
    masked_name: str
    school_name: str
    level: str
    level_label_zh: str
    major: str
    graduation_date: date
    issue_date: date | None = Field(
        None, description="发证日期: the certificate is valid from this day (China time) on"
    )


class VerificationOut(BaseModel):
    result: VerificationResult = Field(
        description="valid | not_yet_valid (a valid certificate before its issue date) | superseded "
        "| revoked | unknown (also for a wrong name)"
    )
    result_label_zh: str
    number: str
    certificate: VerifiedCertificateOut | None = Field(
        description="Only for a known number whose holder's name matched"
    )


class VerificationLookupOut(BaseModel):
    id: int
    looked_up_at: datetime
    number: str | None
    share_code: str | None
    result: str = Field(
        description="valid | not_yet_valid | superseded | revoked | unknown | malformed | invalid_code"
    )
    name_matched: bool | None
    client: str | None
    user_agent: str | None
    request_id: str | None


class BatchNoticeIn(BaseModel):
    learning_centre: list[CentreCode] | None = Field(None, description="Only these centres (default: all)")
    occurred_on: date | None = Field(None, description="The notice's date; defaults to today (UTC)")


class BatchNoticeOut(BaseModel):
    batch_code: str
    notified: int
    collection_due: date
    numbers: list[str]


# ---- cursor pages: the same `{items, next_cursor}` shape as GET /students ----------------------
_NEXT = "Pass as ?cursor= for the next page; null at the end."


Item = TypeVar("Item", bound=BaseModel)


class _OldestFirst(BaseModel, Generic[Item]):
    items: list[Item] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description=_NEXT)


class CertificatePage(_OldestFirst[CertificateOut]):
    pass


class DistributionEventPage(_OldestFirst[DistributionEventOut]):
    pass


class OverduePage(BaseModel):
    items: list[OverdueCentreOut] = Field(
        description="Per learning centre; a centre cut by `limit` continues on the next page."
    )
    next_cursor: str | None = Field(description=_NEXT)


class ReplacementPage(_OldestFirst[ReplacementOut]):
    pass


class VerificationLookupPage(BaseModel):
    items: list[VerificationLookupOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description=_NEXT)
