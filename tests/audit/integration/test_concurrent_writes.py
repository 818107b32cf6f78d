"""Concurrent writes that used to meet as duplicate keys (500) on real PostgreSQL: a new batch PUT
twice at once, two versions of a rule set stored at once, one student applied for twice at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from gradops_audit import schemas
from gradops_audit.models import Application, Batch, RuleSetVersion
from gradops_audit.service import applications, batches, rule_sets
from gradops_audit.settings import AuditSettings
from gradops_shared.errors import Conflict
from gradops_shared.principal import SCOPES, Principal
from gradops_shared.runtime import Runtime
from tests.audit.integration.audit_tools import seed_open_application
from tests.factories import open_batch_payload, student_no

HQ = Principal(subject="hq", scopes=frozenset(SCOPES), centres=None)


def fresh_code() -> str:
    """A batch code no other test used: a December batch of a year far ahead."""
    return f"{2100 + int(student_no()[-4:]) % 7000}12"


async def test_a_new_batch_put_twice_at_once_is_one_batch(audit_rt: Runtime) -> None:
    code = fresh_code()

    async def put(name: str) -> bool:
        data = schemas.BatchIn.model_validate(open_batch_payload(batch=code, name=name))
        async with audit_rt.db.transaction() as session:
            _, created = await batches.put_batch(session, code, data, "hq")
            await asyncio.sleep(0.05)  # hold the transaction open while the others arrive
        return created

    created = await asyncio.gather(*(put(f"批次{i}") for i in range(4)))
    assert sorted(created) == [False, False, False, True]
    async with audit_rt.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Batch).where(Batch.code == code)) == 1


async def test_rule_set_versions_stored_at_once_are_numbered_one_after_another(audit_rt: Runtime) -> None:
    code = f"race-{student_no()}"

    async def put(credits: int) -> int:
        data = schemas.RuleSetIn.model_validate({"level": "bachelor", "min_total_credits": credits})
        async with audit_rt.db.transaction() as session:
            row = await rule_sets.put_rule_set(session, code, data, "hq")
            await asyncio.sleep(0.05)
        return row.version

    versions = await asyncio.gather(*(put(150 + i) for i in range(4)))
    assert sorted(versions) == [1, 2, 3, 4]
    async with audit_rt.db.session() as session:
        stored = await session.scalar(
            select(func.count()).select_from(RuleSetVersion).where(RuleSetVersion.code == code)
        )
    assert stored == 4


async def test_one_student_applied_for_twice_at_once_is_one_application_or_a_409(
    audit_rt: Runtime, audit_settings: AuditSettings
) -> None:
    number = student_no()
    await seed_open_application(audit_rt.db, number)  # the student and batch 202612
    async with audit_rt.db.transaction() as session:  # ... without the application
        await session.execute(delete(Application).where(Application.student_no == number))
    today = datetime.now(UTC).date()
    async with audit_rt.db.transaction() as session:
        batch = await session.get(Batch, "202612")
        assert batch is not None
        batch.rounds = [
            {
                "number": 1,
                "opens_on": str(today - timedelta(days=1)),
                "closes_on": str(today + timedelta(days=1)),
            }
        ]

    async def apply() -> str:
        data = schemas.ApplicationsIn.model_validate({"type": "graduate", "student_nos": [number]})
        try:
            async with audit_rt.db.transaction() as session:
                await applications.submit_applications(
                    session, "202612", data, HQ, audit_settings, today=today
                )
                await asyncio.sleep(0.05)
        except Conflict as conflict:
            return conflict.code
        return "applied"

    outcomes = await asyncio.gather(*(apply() for _ in range(4)))
    assert "applied" in outcomes
    assert set(outcomes) <= {"applied", "audit.application_concurrent"}
    async with audit_rt.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Application).where(Application.student_no == number)
        )
    assert count == 1
