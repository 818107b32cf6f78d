from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gradops_shared.text import MultilineText, PlainText

Gender = Literal["male", "female"]
IdType = Literal["resident_id", "passport", "military_officer", "soldier", "other"]
Level = Literal["junior_college", "bachelor_from_junior_college", "bachelor"]
Status = Literal["enrolled", "suspended", "withdrawn", "cancelled", "graduated"]
OrgKind = Literal["university", "branch", "learning_centre"]
ChangeType = Literal["suspend", "resume", "change_major", "transfer_centre", "withdraw", "cancel"]
DoubtKind = Literal["failed", "uncertain", "abnormal"]
ReviewState = Literal["none", "pending", "second_review", "passed", "failed"]

STUDENT_EXAMPLE: dict[str, JsonValue] = {
    "name": "张三",
    "gender": "female",
    "birth_date": "1949-12-31",
    "id_type": "resident_id",
    "id_number": "11010519491231002X",
    "learning_centre": "5135701",
    "level": "junior_college",
    "category": "open_education",
    "major": "机电一体化技术",
    "enrolment_term": "2021-spring",
    "study_form": "part_time",
    "status": "enrolled",
}
STUDENT_FULL_EXAMPLE: dict[str, JsonValue] = {
    **STUDENT_EXAMPLE,
    "former_name": "张小三",
    "ethnicity": "汉族",
    "political_status": "群众",
    "exam_no": "21530102150001",
    "class_code": "2021春机电1班",
    "duration_years": 2.5,
    "education_type": "open",
    "expected_graduation_date": "2023-07-31",
    "mobile": "13800000000",
    "email": "zhangsan@example.com",
    "work_unit": "昆明某机电公司",
    "version": 1,
}
CENTRE_EXAMPLE: dict[str, JsonValue] = {
    "name": "昆明开放学院直属学习中心",
    "parent": "51357",
    "kind": "learning_centre",
}

_CODE = r"^[0-9A-Za-z_-]+$"


class OrgUnitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [CENTRE_EXAMPLE]}
    )

    name: PlainText = Field(min_length=1, max_length=200)
    parent: str | None = Field(None, max_length=32, pattern=_CODE, description="Code of the parent unit.")
    kind: OrgKind = "learning_centre"


class OrgUnitOut(BaseModel):
    code: str
    name: str
    kind: OrgKind
    parent: str | None
    created_at: datetime
    updated_at: datetime


class StudentIn(BaseModel):
    """The student record as a partner sends it (PUT creates or replaces). Vocabulary fields take
    the code or its Chinese label (`junior_college` or `专科`)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [STUDENT_EXAMPLE, STUDENT_FULL_EXAMPLE]},
    )

    name: PlainText = Field(min_length=1, max_length=100)
    gender: Gender
    birth_date: date | None = None
    id_type: IdType = "resident_id"
    id_number: PlainText = Field(min_length=4, max_length=32)
    learning_centre: str = Field(min_length=1, max_length=32, pattern=_CODE)
    level: Level
    category: PlainText = Field(min_length=1, max_length=64, description="学生类别 code or Chinese label")
    major: PlainText = Field(min_length=1, max_length=100)
    enrolment_term: PlainText = Field(description="2021-spring | 2021-autumn | 2021春 | 2021秋")
    study_form: PlainText = Field(min_length=1, max_length=32, description="学习形式 code or Chinese label")
    status: Status | None = Field(
        None,
        description="enrolled when omitted on creation; on an update a different status is applied as "
        "the matching status change (suspend, resume, withdraw, cancel) under the same rules.",
    )
    former_name: PlainText | None = Field(None, max_length=100)
    ethnicity: PlainText | None = Field(None, max_length=32)
    political_status: PlainText | None = Field(None, max_length=32)
    exam_no: PlainText | None = Field(None, max_length=32, description="考生号")
    class_code: PlainText | None = Field(None, max_length=64, description="班级")
    duration_years: float | None = Field(None, gt=0, le=10, description="学制 in years")
    education_type: PlainText | None = Field(None, max_length=16, description="学历类别 code or label")
    expected_graduation_date: date | None = None
    mobile: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9 -]{5,20}$")
    email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    work_unit: PlainText | None = Field(None, max_length=200)
    version: int | None = Field(
        None, ge=1, description="Optimistic lock: the version you read (or send If-Match)."
    )


class StudentOut(BaseModel):
    student_no: str
    name: str
    gender: Gender
    birth_date: date | None
    id_type: IdType
    id_number_masked: str = Field(description="Masked: only the last 4 characters are shown.")
    id_number: str | None = Field(None, description="In clear only for callers holding pii:read.")
    learning_centre: str
    branch: str | None
    level: Level
    category: str
    major: str
    enrolment_term: str
    study_form: str
    status: Status
    status_label_zh: str
    former_name: str | None
    ethnicity: str | None
    political_status: str | None
    exam_no: str | None
    class_code: str | None
    duration_years: float | None
    education_type: str | None
    expected_graduation_date: date | None
    mobile: str | None
    email: str | None
    work_unit: str | None
    certificate_number: str | None
    course_selection_allowed: bool
    prior_education_state: ReviewState
    prior_education_deadline: date | None
    identity_in_doubt: bool
    identity_doubt_kind: DoubtKind | None
    version: int
    created_at: datetime
    updated_at: datetime


class StudentPage(BaseModel):
    items: list[StudentOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")
    count: int = Field(description="How many students match the filters (all pages).")


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "change_type": "suspend",
                    "reason": "因工作调动申请休学一年",
                    "effective_date": "2026-03-01",
                },
                {"change_type": "change_major", "reason": "转入会计学专业", "major": "会计学"},
                {"change_type": "transfer_centre", "reason": "工作调动", "learning_centre": "5135702"},
            ]
        },
    )

    change_type: ChangeType
    reason: MultilineText = Field(min_length=1, max_length=2000)
    effective_date: date | None = Field(None, description="Defaults to today.")
    major: PlainText | None = Field(
        None, min_length=1, max_length=100, description="change_major: the new one"
    )
    learning_centre: str | None = Field(
        None, min_length=1, max_length=32, pattern=_CODE, description="transfer_centre: the new one"
    )
    version: int | None = Field(None, ge=1)


class StatusChangeOut(BaseModel):
    change_type: str
    change_label_zh: str
    from_status: Status | None
    to_status: Status
    reason: str
    details: dict[str, JsonValue] | None = None
    effective_date: date
    actor: str
    created_at: datetime


class StatusChangePage(BaseModel):
    items: list[StatusChangeOut] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")


class EvidenceOut(BaseModel):
    evidence_type: str
    media_type: str
    size: int
    sha256: str


class ReviewStepOut(BaseModel):
    stage: Literal["flagged", "first_review", "second_review"]
    outcome: Literal["pending", "passed", "failed", "second_review_required"]
    state_after: ReviewState
    evidence: list[EvidenceOut]
    prior_graduation_year: int | None
    abroad: bool
    notes: str | None
    deadline: date | None
    actor: str
    created_at: datetime


class PriorEducationReviewOut(BaseModel):
    student_no: str
    state: ReviewState
    state_label_zh: str
    formal_status: bool = Field(description="正式学籍: no review pending or failed")
    course_selection_allowed: bool
    deadline: date | None
    overdue: bool
    required_evidence: list[str] = Field(description="Evidence types the next step takes.")
    steps: list[ReviewStepOut]


class OverdueReviewOut(BaseModel):
    student_no: str
    name: str
    learning_centre: str
    state: ReviewState
    deadline: date | None


class IdentityFlagIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"in_doubt": True, "kind": "uncertain", "reason": "学信网反馈：身份核验不确定"},
                {"in_doubt": False, "reason": "已复核并备案，省厅同意备案"},
            ]
        },
    )

    in_doubt: bool
    kind: DoubtKind | None = Field(None, description="未通过 failed / 不确定 uncertain / 异常 abnormal")
    reason: MultilineText = Field(min_length=1, max_length=2000)


class IdentityFlagOut(BaseModel):
    in_doubt: bool
    kind: DoubtKind | None
    reason: str
    actor: str
    created_at: datetime


class HistoryOut(BaseModel):
    student_no: str
    status_changes: list[StatusChangeOut]
    prior_education_reviews: list[ReviewStepOut]
    identity_flags: list[IdentityFlagOut]


class CollectionCodeDisplay(BaseModel):
    name_masked: str
    id_number_masked: str
    school: str
    level_label_zh: str
    caption: str


class CollectionCodeOut(BaseModel):
    code: str
    student_no: str
    expires_at: datetime
    display: CollectionCodeDisplay
    qr_png_base64: str = Field(description="The QR image (PNG) with the display lines, base64.")


class ImportRowError(BaseModel):
    row: int
    column: str | None
    code: str
    reason: str
    reason_zh: str


class ImportRowOutcome(BaseModel):
    row: int = Field(description="Line in the file, the header being row 1.")
    student_no: str | None
    outcome: Literal["created", "updated", "unchanged", "invalid", "would_create", "would_update"]
    errors: list[ImportRowError] = []


class ImportReport(BaseModel):
    dry_run: bool
    partial: bool
    imported: bool = Field(description="Whether anything was written.")
    rows: int
    created: int
    updated: int
    unchanged: int
    invalid: int
    results: list[ImportRowOutcome]
