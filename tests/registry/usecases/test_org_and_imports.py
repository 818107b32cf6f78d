"""The organisation tree and the roster import (the bulk COPY path) called as use cases."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.errors import ImportRejected
from gradops_registry.models import Student
from gradops_registry.schemas import OrgUnitIn
from gradops_registry.service.imports import import_roster
from gradops_registry.service.org import get_org_unit, put_org_unit
from gradops_shared.errors import Conflict, InvalidInput, NotFound
from tests.factories import student_payload
from tests.registry.rosters import chinese_row
from tests.registry.usecases.support import CENTRE, HQ, SETTINGS, centre_key, events, new_student_no


async def test_the_tree_is_shaped_by_hq_and_renamed_by_its_centres(session: AsyncSession) -> None:
    root = await get_org_unit(session, SETTINGS, HQ, SETTINGS.school_code)
    assert root.kind == "university"
    branch, created = await put_org_unit(
        session, SETTINGS, HQ, "51357UB", OrgUnitIn(name="分部", parent="51357", kind="branch")
    )
    assert created and branch.parent == "51357"
    with pytest.raises(InvalidInput) as misplaced:
        await put_org_unit(
            session, SETTINGS, HQ, "51357UC", OrgUnitIn(name="x", parent="51357UB", kind="branch")
        )
    assert misplaced.value.code == "registry.org_parent_kind"
    with pytest.raises(Conflict):
        await put_org_unit(
            session, SETTINGS, HQ, "51357UB", OrgUnitIn(name="分部", parent="51357", kind="learning_centre")
        )
    mine = centre_key(CENTRE)
    renamed, created = await put_org_unit(
        session, SETTINGS, mine, CENTRE, OrgUnitIn(name="改名中心", parent="51357", kind="learning_centre")
    )
    assert not created and renamed.name == "改名中心"
    with pytest.raises(NotFound):
        await get_org_unit(session, SETTINGS, mine, "51357UB")


def _roster(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("gb18030")


async def _count(session: AsyncSession, numbers: list[str]) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(Student).where(Student.student_no.in_(numbers))
            )
        ).scalar_one()
    )


async def test_an_import_writes_in_bulk_with_one_event_per_row(session: AsyncSession) -> None:
    numbers = [new_student_no() for _ in range(3)]
    content = _roster(*(chinese_row(n, 证件号码=student_payload()["id_number"]) for n in numbers))
    dry = await import_roster(session, SETTINGS, HQ, content, dry_run=True, partial=False)
    assert (dry.created, dry.imported) == (3, False) and await _count(session, numbers) == 0
    report = await import_roster(session, SETTINGS, HQ, content, dry_run=False, partial=False)
    assert (report.created, report.imported) == (3, True)
    assert await _count(session, numbers) == 3
    assert await events(session, numbers[0]) == ["StudentRegistered"]
    again = await import_roster(session, SETTINGS, HQ, content, dry_run=False, partial=False)
    assert (again.created, again.unchanged) == (0, 3)


async def test_an_import_with_an_invalid_row_writes_nothing_unless_partial(session: AsyncSession) -> None:
    good, bad = new_student_no(), new_student_no()
    content = _roster(chinese_row(good), chinese_row(bad, 层次="博士"))
    with pytest.raises(ImportRejected) as rejected:
        await import_roster(session, SETTINGS, HQ, content, dry_run=False, partial=False)
    assert rejected.value.extra["report"]["invalid"] == 1
    assert await _count(session, [good, bad]) == 0
    partial = await import_roster(session, SETTINGS, HQ, content, dry_run=False, partial=True)
    assert (partial.created, partial.invalid) == (1, 1) and await _count(session, [good, bad]) == 1
