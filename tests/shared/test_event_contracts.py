import uuid
from datetime import date

import pytest

from gradops_shared.contracts import (
    EVENT_TYPES,
    AuditPassed,
    EventEnvelope,
    PhotoApproved,
    StudentRegistered,
    parse_data,
)


def test_envelope_carries_the_contract_fields() -> None:
    data = PhotoApproved(
        student_no="2021510001", submission_id=uuid.uuid4(), kind="graduation", sha256="a" * 64
    )
    envelope = data.envelope()
    assert envelope.type == "PhotoApproved"
    assert envelope.schema_version == 1
    assert envelope.producer == "photo"
    assert envelope.student_no == "2021510001"
    assert PhotoApproved.topic() == "photo.events.v1"
    round_tripped = EventEnvelope.model_validate_json(envelope.model_dump_json())
    assert parse_data(round_tripped) == data


def test_unknown_types_and_versions_are_refused() -> None:
    envelope = AuditPassed(
        student_no="1",
        audit_id=uuid.uuid4(),
        batch_code="202307",
        application_type="graduate",
        level="bachelor",
        graduation_date=date(2023, 7, 20),
    ).envelope()
    with pytest.raises(ValueError, match="unknown"):
        parse_data(envelope.model_copy(update={"type": "Nope"}))
    with pytest.raises(ValueError, match="v2"):
        parse_data(envelope.model_copy(update={"schema_version": 2}))


def test_student_events_never_carry_the_id_number() -> None:
    for name, contract in EVENT_TYPES.items():
        assert "id_number" not in contract.model_fields, name
    assert "id_number" not in StudentRegistered.model_json_schema()["properties"]
