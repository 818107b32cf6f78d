"""学籍异动, 毕业 from the certificates flow, 身份存疑 and the history, called as use cases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.schemas import IdentityFlagIn, StatusChangeIn
from gradops_registry.service import identity, status
from gradops_shared.errors import Conflict, InvalidInput
from tests.registry.usecases.support import HQ, events, registered


async def test_a_suspension_is_logged_with_its_event_and_bumps_the_version(session: AsyncSession) -> None:
    student = await registered(session)
    after, change = await status.change_status(
        session, HQ, student.student_no, StatusChangeIn(change_type="suspend", reason="工作调动"), 1
    )
    assert after.status == "suspended" and after.version == 2
    assert (change.change_type, change.from_status, change.to_status) == ("suspend", "enrolled", "suspended")
    assert await events(session, student.student_no) == [
        "StudentRegistered",
        "StudentStatusChanged",
        "StudentUpdated",
    ]
    page = await status.status_changes(session, HQ, student.student_no, after=None, limit=1)
    assert [c.change_type for c in page.items] == ["registered"] and page.next_after is not None
    rest = await status.status_changes(session, HQ, student.student_no, after=page.next_after, limit=1)
    assert [c.change_type for c in rest.items] == ["suspend"] and rest.next_after is None


async def test_an_illegal_change_is_refused_and_writes_nothing(session: AsyncSession) -> None:
    student = await registered(session)
    with pytest.raises(Conflict) as refused:
        await status.change_status(
            session, HQ, student.student_no, StatusChangeIn(change_type="resume", reason="x"), None
        )
    assert refused.value.code == "registry.illegal_status_change"
    with pytest.raises(InvalidInput) as incomplete:
        await status.change_status(
            session, HQ, student.student_no, StatusChangeIn(change_type="change_major", reason="x"), None
        )
    assert incomplete.value.code == "registry.status_change_field_missing"
    assert await events(session, student.student_no) == ["StudentRegistered"]


async def test_a_diploma_graduates_the_student_once(session: AsyncSession) -> None:
    student = await registered(session)
    await status.mark_graduated(session, student.student_no, certificate_number="C1", on=date(2026, 7, 1))
    await status.mark_graduated(session, student.student_no, certificate_number="C1", on=date(2026, 7, 1))
    assert student.status == "graduated" and student.certificate_number == "C1"
    assert await events(session, student.student_no) == ["StudentRegistered", "StudentStatusChanged"]
    found = await status.history(session, HQ, student.student_no)
    assert [(c.change_type, c.actor) for c in found.status_changes][-1] == ("graduate", "certificates")


async def test_identity_doubt_is_set_with_a_kind_and_cleared_once(session: AsyncSession) -> None:
    student = await registered(session)
    with pytest.raises(InvalidInput):
        await identity.set_identity_flag(
            session, HQ, student.student_no, IdentityFlagIn(in_doubt=True, reason="学信网反馈")
        )
    flagged = await identity.set_identity_flag(
        session, HQ, student.student_no, IdentityFlagIn(in_doubt=True, kind="uncertain", reason="学信网反馈")
    )
    assert flagged.identity_in_doubt and flagged.identity_doubt_kind == "uncertain"
    cleared = await identity.set_identity_flag(
        session, HQ, student.student_no, IdentityFlagIn(in_doubt=False, reason="复核通过")
    )
    assert not cleared.identity_in_doubt and cleared.identity_doubt_kind is None and cleared.version == 3
    with pytest.raises(Conflict) as refused:
        await identity.set_identity_flag(
            session, HQ, student.student_no, IdentityFlagIn(in_doubt=False, reason="again")
        )
    assert refused.value.code == "registry.identity_not_in_doubt"
    found = await status.history(session, HQ, student.student_no)
    assert [f.in_doubt for f in found.identity_flags] == [True, False]
    assert (await events(session, student.student_no)).count("IdentityFlagChanged") == 2
