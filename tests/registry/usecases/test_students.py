"""Creating, updating, reading and searching the record, called as use cases: the state they leave
and the events they put in the outbox, in the same unit of work."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.models import StatusChange
from gradops_registry.schemas import StudentIn
from gradops_registry.service.pii import registry_cipher
from gradops_registry.service.students import StudentFilters, get_student, search_students, upsert_student
from gradops_shared.errors import Conflict, InvalidInput, NotFound
from tests.factories import student_payload
from tests.registry.usecases.support import (
    CENTRE,
    HQ,
    OTHER_CENTRE,
    SETTINGS,
    centre_key,
    ensure_centre,
    events,
    new_student_no,
    registered,
    unique_payload,
)


async def test_registering_writes_the_record_its_first_change_and_one_event(session: AsyncSession) -> None:
    payload = student_payload()
    number = new_student_no()
    student, created = await upsert_student(session, SETTINGS, HQ, number, StudentIn(**payload))
    assert created and student.version == 1 and student.status == "enrolled"
    assert payload["id_number"] not in student.id_number_encrypted  # encrypted at rest
    assert registry_cipher(SETTINGS).decrypt(student.id_number_encrypted) == payload["id_number"]
    changes = (await session.execute(select(StatusChange).where(StatusChange.student_no == number))).scalars()
    assert [(c.change_type, c.to_status) for c in changes] == [("registered", "enrolled")]
    assert await events(session, number) == ["StudentRegistered"]


async def test_an_update_bumps_the_version_and_logs_a_change_of_major(session: AsyncSession) -> None:
    student = await registered(session)
    payload = StudentIn(**{**student_payload(), "major": "会计学"})
    updated, created = await upsert_student(
        session, SETTINGS, HQ, student.student_no, payload, expected_version=1
    )
    assert not created and updated.version == 2 and updated.major == "会计学"
    assert await events(session, student.student_no) == [
        "StudentRegistered",
        "StudentStatusChanged",
        "StudentUpdated",
    ]


async def test_the_same_record_again_changes_nothing(session: AsyncSession) -> None:
    payload = student_payload()
    number = new_student_no()
    await upsert_student(session, SETTINGS, HQ, number, StudentIn(**payload))
    again, created = await upsert_student(session, SETTINGS, HQ, number, StudentIn(**payload))
    assert not created and again.version == 1
    assert await events(session, number) == ["StudentRegistered"]


async def test_a_stale_version_is_a_conflict(session: AsyncSession) -> None:
    student = await registered(session)
    with pytest.raises(Conflict) as refused:
        await upsert_student(
            session, SETTINGS, HQ, student.student_no, StudentIn(**student_payload()), expected_version=7
        )
    assert refused.value.code == "registry.version_conflict"
    assert refused.value.extra == {"current_version": 1}


async def test_every_invalid_field_is_reported_and_nothing_is_written(session: AsyncSession) -> None:
    number = new_student_no()
    bad = StudentIn(**student_payload(enrolment_term="2021夏", category="nonsense"))
    with pytest.raises(InvalidInput) as refused:
        await upsert_student(session, SETTINGS, HQ, number, bad)
    assert {e["field"] for e in refused.value.extra["errors"]} == {"enrolment_term", "category"}
    with pytest.raises(NotFound):
        await get_student(session, number, HQ)
    assert await events(session, number) == []


async def test_a_centre_key_reaches_only_its_own_centres(session: AsyncSession) -> None:
    await ensure_centre(session, OTHER_CENTRE)
    theirs = await registered(session, learning_centre=OTHER_CENTRE)
    mine = centre_key(CENTRE)
    with pytest.raises(NotFound):
        await get_student(session, theirs.student_no, mine)
    with pytest.raises(InvalidInput) as refused:  # a centre outside its reach does not exist for it
        await upsert_student(
            session,
            SETTINGS,
            mine,
            new_student_no(),
            StudentIn(**student_payload(learning_centre=OTHER_CENTRE)),
        )
    assert refused.value.code == "registry.learning_centre_not_found"


async def test_search_matches_an_id_number_by_its_keyed_hash_within_reach(session: AsyncSession) -> None:
    payload = unique_payload()
    number = new_student_no()
    await upsert_student(session, SETTINGS, HQ, number, StudentIn(**payload))
    id_number = payload["id_number"].lower()
    found = await search_students(
        session, SETTINGS, HQ, StudentFilters(), centre=None, id_number=id_number, after=None, limit=10
    )
    assert [s.student_no for s in found.items] == [number] and found.count == 1
    other = centre_key(OTHER_CENTRE)
    elsewhere = await search_students(
        session, SETTINGS, other, StudentFilters(), centre=None, id_number=id_number, after=None, limit=10
    )
    assert elsewhere.items == [] and elsewhere.count == 0


async def test_search_pages_by_student_number(session: AsyncSession) -> None:
    numbers = sorted([(await registered(session, major="页码专业")).student_no for _ in range(3)])
    asked = StudentFilters(major="页码专业", enrolment_term="2021春")
    first = await search_students(
        session, SETTINGS, HQ, asked, centre=[CENTRE], id_number=None, after=None, limit=2
    )
    assert [s.student_no for s in first.items] == numbers[:2] and first.next_after == numbers[1]
    second = await search_students(
        session, SETTINGS, HQ, asked, centre=[CENTRE], id_number=None, after=first.next_after, limit=2
    )
    assert [s.student_no for s in second.items] == numbers[2:] and second.next_after is None
