"""The use-case tier of notifications: its use cases and event handlers on the real, migrated
PostgreSQL, in a transaction rolled back after each test."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta

from gradops_shared.contracts import EventEnvelope, StudentRegistered, StudentStatusChanged
from gradops_shared.principal import Principal

_numbers = itertools.count(1)


def number() -> str:
    return f"2099{uuid.uuid4().int % 10**6:06d}"


def partner(*scopes: str, centres: set[str] | None = None, key: str | None = None) -> Principal:
    key_id = key or f"key_{next(_numbers)}"
    return Principal(
        subject=f"partner {key_id}",
        scopes=frozenset(scopes or {"webhooks:manage", "registry:read"}),
        centres=None if centres is None else frozenset(centres),
        key_id=key_id,
    )


def registered(student_no: str, centre: str = "5135701", *, at: datetime | None = None) -> EventEnvelope:
    return StudentRegistered(
        student_no=student_no,
        name="张三",
        gender="female",
        learning_centre=centre,
        level="junior_college",
        category="open_education",
        major="会计",
        enrolment_term="2021-spring",
        study_form="part_time",
        status="enrolled",
        birth_date=date(1990, 5, 17),
        exam_no="21530101150001",
    ).envelope(occurred_at=at)


def suspended(student_no: str, *, at: datetime | None = None) -> EventEnvelope:
    return StudentStatusChanged(
        student_no=student_no,
        from_status="enrolled",
        to_status="suspended",
        reason="病休",
        effective_date=date(2024, 3, 1),
    ).envelope(occurred_at=at or datetime.now(UTC) + timedelta(seconds=1))
