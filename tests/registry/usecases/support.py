"""Builders for the registry's use-case tests: principals, unique student numbers, events."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.models import Student, outbox
from gradops_registry.schemas import OrgUnitIn, StudentIn
from gradops_registry.service.org import put_org_unit
from gradops_registry.service.students import upsert_student
from gradops_registry.settings import RegistrySettings
from gradops_shared.principal import SCOPES, Principal
from tests.factories import resident_id, student_payload

SETTINGS = RegistrySettings()
CENTRE = "5135701"
OTHER_CENTRE = "5135702"
HQ = Principal(subject="hq-registrar", scopes=frozenset(SCOPES))


def centre_key(*centres: str) -> Principal:
    return Principal(subject="centre-key", scopes=frozenset(SCOPES), centres=frozenset(centres))


def new_student_no() -> str:
    """Unique across runs: the shared test database keeps what other tiers committed."""
    return "U" + uuid.uuid4().hex[:15].upper()


def unique_payload(**overrides: Any) -> dict[str, Any]:
    """A student payload whose ID number no other test has committed (random region and birth)."""
    birth = date(1970, 1, 1) + timedelta(days=random.randrange(12_000))
    number = resident_id(birth, region=f"{random.randrange(110000, 659999)}")
    return student_payload(birth=birth, id_number=number, **overrides)


async def ensure_centre(session: AsyncSession, code: str) -> None:
    await put_org_unit(
        session,
        SETTINGS,
        HQ,
        code,
        OrgUnitIn(name=f"学习中心{code}", parent=code[:5], kind="learning_centre"),
    )


async def registered(session: AsyncSession, principal: Principal = HQ, **overrides: Any) -> Student:
    """A freshly registered student (the PUT use case), with `overrides` on the payload."""
    student, created = await upsert_student(
        session, SETTINGS, principal, new_student_no(), StudentIn(**student_payload(**overrides))
    )
    assert created
    return student


async def events(session: AsyncSession, student_no: str) -> list[str]:
    """The event types the use cases put in the outbox for one student, in order."""
    rows = await session.execute(
        select(outbox.c.event_type).where(outbox.c.key == student_no).order_by(outbox.c.seq)
    )
    return list(rows.scalars())
