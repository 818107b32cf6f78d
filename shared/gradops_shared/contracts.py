"""Event contracts: the envelope and every event's data, versioned, defined once.

Topics are per producing service and version (`registry.events.v1`); messages are keyed by student
number so one student's events stay ordered. `openapi/events/` holds these as JSON Schema.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from gradops_shared.logging import current_request_id

TOPICS = {
    "registry": "registry.events.v1",
    "photo": "photo.events.v1",
    "audit": "audit.events.v1",
    "certificates": "certificates.events.v1",
}


class EventEnvelope(BaseModel):
    """What travels on Kafka. `data` is validated against the type's contract by the consumer."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    type: str
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    student_no: str
    request_id: str | None = None
    data: dict[str, Any]


class EventData(BaseModel):
    """Base of every event's payload. Subclasses name their type, version and producer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    producer: ClassVar[str]

    student_no: str

    def envelope(self, *, occurred_at: datetime | None = None) -> EventEnvelope:
        return EventEnvelope(
            event_id=uuid.uuid4(),
            type=self.event_type,
            schema_version=self.schema_version,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=self.producer,
            student_no=self.student_no,
            request_id=current_request_id(),
            data=self.model_dump(mode="json"),
        )

    @classmethod
    def topic(cls) -> str:
        return TOPICS[cls.producer]


Gender = Literal["male", "female"]
Level = Literal["junior_college", "bachelor_from_junior_college", "bachelor"]
StudentStatus = Literal["enrolled", "suspended", "withdrawn", "cancelled", "graduated"]
PhotoKind = Literal["admission", "graduation"]


class StudentSnapshot(EventData):
    """What other services may know of a student. Never the ID number."""

    name: str
    gender: Gender
    learning_centre: str
    level: Level
    category: str
    major: str
    enrolment_term: str
    study_form: str
    status: StudentStatus
    # Added with the registry issue; optional so older events still parse.
    branch: str | None = None
    class_code: str | None = None
    education_type: str | None = None
    course_selection_allowed: bool = True
    birth_date: date | None = None
    duration_years: float | None = None  # 学制
    exam_no: str | None = None  # 考生号


class StudentRegistered(StudentSnapshot):
    event_type = "StudentRegistered"
    producer = "registry"


class StudentUpdated(StudentSnapshot):
    event_type = "StudentUpdated"
    producer = "registry"


class StudentStatusChanged(EventData):
    event_type = "StudentStatusChanged"
    producer = "registry"

    from_status: StudentStatus | None
    to_status: StudentStatus
    reason: str
    effective_date: date


class PriorEducationReviewed(EventData):
    """A stage of the prior-education review (前置学历复查) finished, or the flag was raised."""

    event_type = "PriorEducationReviewed"
    producer = "registry"

    stage: Literal["flagged", "first_review", "second_review"]
    outcome: Literal["pending", "passed", "failed", "second_review_required"]
    formal_status: bool  # 正式学籍: no review pending
    deadline: date | None = None


class IdentityFlagChanged(EventData):
    """身份存疑 from CHSI feedback, set or cleared by a recorded review."""

    event_type = "IdentityFlagChanged"
    producer = "registry"

    in_doubt: bool
    kind: Literal["failed", "uncertain", "abnormal"] | None = None  # 未通过 / 不确定 / 异常
    reason: str | None = None


class PhotoSubmitted(EventData):
    event_type = "PhotoSubmitted"
    producer = "photo"

    submission_id: uuid.UUID
    kind: PhotoKind
    state: str
    sha256: str


class PhotoApproved(EventData):
    event_type = "PhotoApproved"
    producer = "photo"

    submission_id: uuid.UUID
    kind: PhotoKind
    sha256: str
    reviewer: str | None = None
    # The photo that passed QC and was approved: the standardised one when the upload was
    # standardised, else the upload itself (`sha256`). Optional: producers before it omit it.
    deliverable_sha256: str | None = None


class PhotoRejected(EventData):
    event_type = "PhotoRejected"
    producer = "photo"

    submission_id: uuid.UUID
    kind: PhotoKind
    reasons: list[str]
    reviewer: str | None = None


class PhotoReopened(EventData):
    event_type = "PhotoReopened"
    producer = "photo"

    submission_id: uuid.UUID
    kind: PhotoKind
    reason: str
    actor: str | None = None


class PhotoChsiStatusChanged(EventData):
    """The registrar recorded what CHSI holds for this photo (on_chsi, or chsi_rejected: re-take)."""

    event_type = "PhotoChsiStatusChanged"
    producer = "photo"

    submission_id: uuid.UUID
    kind: PhotoKind
    chsi_state: Literal["on_chsi", "chsi_rejected"]
    reason: str | None = None


class PhotoProofread(EventData):
    event_type = "PhotoProofread"
    producer = "photo"

    submission_id: uuid.UUID
    outcome: Literal["confirmed", "error_reported"]
    detail: str | None = None


class AuditPassed(EventData):
    event_type = "AuditPassed"
    producer = "audit"

    audit_id: uuid.UUID
    batch_code: str
    application_type: Literal["graduate", "graduate_with_degree"]
    level: Level
    graduation_date: date
    issue_date: date | None = None  # the batch's certificate issue date
    learning_centre: str | None = None
    degree_granted: bool = False  # only with graduate_with_degree and every degree check passed


class AuditFailed(EventData):
    event_type = "AuditFailed"
    producer = "audit"

    audit_id: uuid.UUID
    batch_code: str
    failed_checks: list[str]


class CertificateIssued(EventData):
    event_type = "CertificateIssued"
    producer = "certificates"

    number: str
    batch_code: str
    level: Level
    issue_date: date
    graduation_date: date
    kind: Literal["diploma", "degree"] = "diploma"  # the registry sets 毕业 on the diploma only
    learning_centre: str | None = None


class CertificateReplaced(EventData):
    """A 毕业证明书 replaces a lost or damaged certificate; the original is superseded."""

    event_type = "CertificateReplaced"
    producer = "certificates"

    original_number: str
    number: str
    reason: Literal["lost", "damaged"]


class CertificateRevoked(EventData):
    event_type = "CertificateRevoked"
    producer = "certificates"

    number: str
    reason: str


class VerificationPerformed(EventData):
    """Someone looked one of the student's certificates up on the public verification (by number
    and name, or by a share code). Never the name that was asked, nor who asked."""

    event_type = "VerificationPerformed"
    producer = "certificates"

    number: str
    via: Literal["number", "share_code"]
    result: Literal["valid", "superseded", "revoked", "unknown", "not_yet_valid"]
    name_matched: bool | None = None  # by number: whether the name matched; by share code: None


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.event_type: cls
    for cls in (
        StudentRegistered,
        StudentUpdated,
        StudentStatusChanged,
        PriorEducationReviewed,
        IdentityFlagChanged,
        PhotoSubmitted,
        PhotoApproved,
        PhotoRejected,
        PhotoReopened,
        PhotoChsiStatusChanged,
        PhotoProofread,
        AuditPassed,
        AuditFailed,
        CertificateIssued,
        CertificateReplaced,
        CertificateRevoked,
        VerificationPerformed,
    )
}


def parse_data(envelope: EventEnvelope) -> EventData:
    """The typed payload of an envelope; raises ValueError for an unknown type or bad data."""
    contract = EVENT_TYPES.get(envelope.type)
    if contract is None:
        raise ValueError(f"unknown event type {envelope.type!r}")
    if envelope.schema_version != contract.schema_version:
        raise ValueError(f"{envelope.type} v{envelope.schema_version} is not supported")
    return contract.model_validate(envelope.data)


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for `openapi/events/`."""
    schemas: dict[str, dict[str, Any]] = {
        "EventEnvelope.json": EventEnvelope.model_json_schema(),
    }
    for name, contract in sorted(EVENT_TYPES.items()):
        schema = contract.model_json_schema()
        schema["x-topic"] = contract.topic()
        schema["x-schema-version"] = contract.schema_version
        schemas[f"{name}.v{contract.schema_version}.json"] = schema
    return schemas
