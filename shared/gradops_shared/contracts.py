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


class PhotoRejected(EventData):
    event_type = "PhotoRejected"
    producer = "photo"

    submission_id: uuid.UUID
    kind: PhotoKind
    reasons: list[str]
    reviewer: str | None = None


class AuditPassed(EventData):
    event_type = "AuditPassed"
    producer = "audit"

    audit_id: uuid.UUID
    batch_code: str
    application_type: Literal["graduate", "graduate_with_degree"]
    level: Level
    graduation_date: date


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


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.event_type: cls
    for cls in (
        StudentRegistered,
        StudentUpdated,
        StudentStatusChanged,
        PhotoSubmitted,
        PhotoApproved,
        PhotoRejected,
        AuditPassed,
        AuditFailed,
        CertificateIssued,
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
