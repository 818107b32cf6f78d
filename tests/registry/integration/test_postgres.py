"""The registry on real PostgreSQL: encryption at rest, the ID-number migration, concurrent
updates that never lose one, and set-based roster imports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.errors import ImportRejected
from gradops_registry.models import StatusChange, Student, outbox
from gradops_registry.schemas import IdentityFlagIn, StatusChangeIn, StudentIn
from gradops_registry.service import reviews
from gradops_registry.service.identity import set_identity_flag
from gradops_registry.service.imports import import_roster
from gradops_registry.service.pii import PiiCipher
from gradops_registry.service.status import change_status
from gradops_registry.service.students import upsert_student
from gradops_registry.settings import DEV_PII_KEY, RegistrySettings
from gradops_shared.db import Database
from gradops_shared.errors import Conflict
from gradops_shared.migrations import alembic_config, upgrade
from gradops_shared.principal import SCOPES, Principal
from tests.factories import (
    HQ_PRINCIPAL,
    ensure_centre_in_db,
    student_no,
    student_payload,
    upsert_student_in_db,
)
from tests.support.databases import DB_SUFFIX, PG_SERVER

SETTINGS = RegistrySettings()


@pytest.fixture
async def registry_db(postgres_url: str):  # type: ignore[no-untyped-def]
    db = Database(postgres_url, "registry")
    async with db.transaction() as session:
        await ensure_centre_in_db(session)
    yield db
    await db.dispose()


def raw_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_a_raw_select_does_not_show_the_id_number(registry_db: Database, postgres_url: str) -> None:
    number = student_no()
    payload = student_payload()
    async with registry_db.transaction() as session:
        await upsert_student_in_db(
            session,
            number,
            id_number=payload["id_number"],
            gender=payload["gender"],
            class_code="1班",
            exam_no="21530102150001",
            duration_years=2.5,
        )
    conn = await asyncpg.connect(raw_dsn(postgres_url))
    try:
        row = await conn.fetchrow("SELECT * FROM registry.students WHERE student_no = $1", number)
        outbox_rows = await conn.fetch(
            "SELECT payload FROM registry.outbox WHERE key = $1 ORDER BY seq", number
        )
    finally:
        await conn.close()
    assert row is not None
    dump = " ".join(str(v) for v in dict(row).values())
    assert payload["id_number"] not in dump
    assert all(payload["id_number"] not in bytes(r["payload"]).decode() for r in outbox_rows)
    registered = json.loads(bytes(outbox_rows[0]["payload"]))["data"]
    assert registered["class_code"] == "1班" and registered["exam_no"] == "21530102150001"
    assert registered["duration_years"] == 2.5 and registered["birth_date"] == payload["birth_date"]
    assert registered["course_selection_allowed"] is True
    cipher = PiiCipher(DEV_PII_KEY)
    assert cipher.decrypt(row["id_number_encrypted"]) == payload["id_number"]
    assert row["id_number_hash"] == cipher.lookup_hash(payload["id_number"])


async def test_the_migration_encrypts_existing_clear_numbers() -> None:
    database = f"gradops_regmig_{DB_SUFFIX}" if DB_SUFFIX else "gradops_regmig"
    admin = await asyncpg.connect(f"{PG_SERVER}/gradops")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(f"{PG_SERVER}/{database}")
    url = f"{PG_SERVER}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS registry CASCADE")
        await asyncio.to_thread(upgrade, "registry", url, "regi0001")
        await conn.execute(
            "INSERT INTO registry.students VALUES ('2021000001', '张三', 'female', '1949-12-31', "
            "'resident_id', '11010519491231002X', '5135701', 'junior_college', 'open_education', '机电', "
            "'2021-spring', 'part_time', 'enrolled', 1, now(), now())"
        )
        await asyncio.to_thread(upgrade, "registry", url)
        row = await conn.fetchrow("SELECT * FROM registry.students")
        described = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'registry' "
            "AND table_name = 'students'"
        )
        columns = {r["column_name"] for r in described}
        # Rolling back a failed deploy gives the clear numbers back.
        await asyncio.to_thread(command.downgrade, alembic_config("registry", url), "regi0001")
        restored = await conn.fetchval("SELECT id_number FROM registry.students")
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS registry CASCADE")
        await conn.close()
    assert "id_number" not in columns
    assert row is not None and "11010519491231002X" not in " ".join(map(str, dict(row).values()))
    assert PiiCipher(DEV_PII_KEY).decrypt(row["id_number_encrypted"]) == "11010519491231002X"
    assert row["id_number_last4"] == "002X" and row["prior_education_state"] == "none"
    assert restored == "11010519491231002X"


async def test_two_concurrent_updates_never_lose_one(registry_db: Database) -> None:
    number = student_no()
    payload = student_payload()
    async with registry_db.transaction() as session:
        await upsert_student(session, SETTINGS, HQ_PRINCIPAL, number, StudentIn(**payload))

    async def update(**changes: Any) -> None:
        async with registry_db.transaction() as session:
            await upsert_student(session, SETTINGS, HQ_PRINCIPAL, number, StudentIn(**{**payload, **changes}))

    async def suspend() -> None:
        async with registry_db.transaction() as session:
            await change_status(
                session, HQ_PRINCIPAL, number, StatusChangeIn(change_type="suspend", reason="休学"), None
            )

    # Without versions the row lock serialises them: both changes survive.
    await asyncio.gather(update(class_code="1班"), suspend())
    async with registry_db.session() as session:
        student = await session.get(Student, number)
    assert student is not None
    assert (student.class_code, student.status, student.version) == ("1班", "suspended", 3)


async def test_two_writers_with_the_same_version_one_gets_409(registry_db: Database) -> None:
    number = student_no()
    payload = student_payload()
    async with registry_db.transaction() as session:
        await upsert_student(session, SETTINGS, HQ_PRINCIPAL, number, StudentIn(**payload))

    async def write(class_code: str) -> str:
        try:
            async with registry_db.transaction() as session:
                await upsert_student(
                    session,
                    SETTINGS,
                    HQ_PRINCIPAL,
                    number,
                    StudentIn(**payload, class_code=class_code, version=1),
                )
            return "ok"
        except Conflict as exc:
            return exc.code

    outcomes = await asyncio.gather(*(write(f"{i}班") for i in range(5)))
    assert sorted(outcomes) == ["ok"] + ["registry.version_conflict"] * 4
    async with registry_db.session() as session:
        student = await session.get(Student, number)
    assert student is not None and student.version == 2


async def count_students(session: AsyncSession, numbers: list[str]) -> int:
    query = select(func.count()).select_from(Student).where(Student.student_no.in_(numbers))
    return int((await session.execute(query)).scalar_one())


def roster(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def roster_row(number: str, **overrides: Any) -> dict[str, Any]:
    return {"student_no": number, **student_payload(), "class_code": "", **overrides}


async def test_import_creates_updates_and_emits_events_in_bulk(registry_db: Database) -> None:
    numbers = [student_no() for _ in range(3000)]
    rows = [roster_row(n) for n in numbers]
    async with registry_db.transaction() as session:
        report = await import_roster(
            session, SETTINGS, HQ_PRINCIPAL, roster(rows), dry_run=False, partial=False
        )
    assert (report.created, report.invalid) == (3000, 0)

    rows[0]["major"] = "会计学"
    rows[1]["class_code"] = "2班"
    async with registry_db.transaction() as session:
        report = await import_roster(
            session, SETTINGS, HQ_PRINCIPAL, roster(rows), dry_run=False, partial=False
        )
    assert (report.created, report.updated, report.unchanged) == (0, 2, 2998)

    async with registry_db.session() as session:
        first = await session.get(Student, numbers[0])
        second = await session.get(Student, numbers[1])
        events = (
            await session.execute(
                select(outbox.c.event_type, func.count())
                .where(outbox.c.key.in_(numbers[:2]))
                .group_by(outbox.c.event_type)
            )
        ).all()
        changes = (
            await session.execute(
                select(StatusChange.change_type).where(StatusChange.student_no == numbers[0])
            )
        ).scalars()
        total = await count_students(session, numbers)
    assert total == 3000
    assert first is not None and (first.major, first.version) == ("会计学", 2)
    assert second is not None and second.class_code == "2班"
    assert dict(events) == {"StudentRegistered": 2, "StudentUpdated": 2, "StudentStatusChanged": 1}
    assert list(changes) == ["registered", "change_major"]


async def test_an_import_with_one_bad_row_writes_nothing(registry_db: Database) -> None:
    numbers = [student_no() for _ in range(50)]
    rows = [roster_row(n) for n in numbers]
    rows[17]["learning_centre"] = "5139999"
    async with registry_db.transaction() as session:
        dry = await import_roster(session, SETTINGS, HQ_PRINCIPAL, roster(rows), dry_run=True, partial=False)
    assert dry.invalid == 1 and dry.results[17].errors[0].column == "learning_centre"
    assert dry.results[17].errors[0].row == 19

    with pytest.raises(ImportRejected):
        async with registry_db.transaction() as session:
            await import_roster(session, SETTINGS, HQ_PRINCIPAL, roster(rows), dry_run=False, partial=False)
    async with registry_db.session() as session:
        count = await count_students(session, numbers)
        in_outbox = select(func.count()).select_from(outbox).where(outbox.c.key.in_(numbers))
        events = (await session.execute(in_outbox)).scalar_one()
    assert (count, events) == (0, 0)


async def outbox_events(db: Database, number: str) -> list[tuple[str, dict[str, Any]]]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(outbox.c.payload).where(outbox.c.key == number).order_by(outbox.c.seq)
            )
        ).scalars()
        envelopes = [json.loads(bytes(payload)) for payload in rows]
    return [(e["type"], e["data"]) for e in envelopes]


async def test_every_workflow_step_emits_its_event(registry_db: Database) -> None:
    number = student_no()
    async with registry_db.transaction() as session:
        await upsert_student_in_db(session, number, level="bachelor_from_junior_college")
    async with registry_db.transaction() as session:
        await change_status(
            session, HQ_PRINCIPAL, number, StatusChangeIn(change_type="suspend", reason="休学"), None
        )
    async with registry_db.transaction() as session:
        await reviews.review_step(
            session,
            HQ_PRINCIPAL,
            number,
            action="flag",
            outcome=None,
            evidence=[],
            prior_graduation_year=None,
            abroad=False,
            notice_date=date(2026, 1, 31),
            notes=None,
        )
    async with registry_db.transaction() as session:
        await set_identity_flag(
            session, HQ_PRINCIPAL, number, IdentityFlagIn(in_doubt=True, kind="abnormal", reason="CHSI")
        )
    events = await outbox_events(registry_db, number)
    assert [t for t, _ in events] == [
        "StudentRegistered",
        "StudentStatusChanged",
        "StudentUpdated",
        "PriorEducationReviewed",
        "StudentUpdated",
        "IdentityFlagChanged",
    ]
    assert events[1][1]["to_status"] == "suspended" and events[1][1]["reason"] == "suspend: 休学"
    assert events[3][1] == {
        "student_no": number,
        "stage": "flagged",
        "outcome": "pending",
        "formal_status": False,
        "deadline": "2026-04-30",
    }
    assert events[4][1]["course_selection_allowed"] is False
    assert events[5][1]["in_doubt"] is True and events[5][1]["kind"] == "abnormal"


async def test_a_centre_key_cannot_import_into_another_centre(registry_db: Database) -> None:
    centre_key = Principal(subject="centre", scopes=frozenset(SCOPES), centres=frozenset({"5135702"}))
    async with registry_db.transaction() as session:
        await ensure_centre_in_db(session, "5135702")
    number = student_no()
    async with registry_db.transaction() as session:
        report = await import_roster(
            session, SETTINGS, centre_key, roster([roster_row(number)]), dry_run=True, partial=False
        )
    assert report.results[0].errors[0].code == "registry.learning_centre_not_found"
