"""The timeline's use cases on PostgreSQL (rolled back per test): one entry per event, pages in the
order things happened, and nobody sees a student outside their centres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gradops_notifications.models import timeline_entries
from gradops_notifications.service import delivery, timeline
from gradops_shared.errors import InvalidInput, NotFound
from tests.notifications.usecases.conftest import number, partner, registered, suspended
from tests.support.databases import RolledBack


async def test_each_event_lands_once_and_pages_follow_the_order_of_events(rolled_back: RolledBack) -> None:
    async with rolled_back("notifications") as session:
        student = number()
        start = datetime(2024, 3, 1, 8, tzinfo=UTC)
        first = registered(student, at=start)
        await delivery.remember_centre(session, student, "5135701")
        await timeline.record(session, suspended(student, at=start + timedelta(days=2)))
        await timeline.record(session, first)  # arrives later, happened earlier
        await timeline.record(session, first)  # a replay by another path: nothing new
        count = (
            select(func.count()).select_from(timeline_entries).where(timeline_entries.c.student_no == student)
        )
        assert (await session.execute(count)).scalar_one() == 2

        hq = partner("registry:read")
        page = await timeline.page(session, hq, student, limit=1, cursor=None)
        assert page["learning_centre"] == "5135701"
        assert [i["type"] for i in page["items"]] == ["StudentRegistered"]
        assert "birth_date" not in page["items"][0]["data"] and "student_no" not in page["items"][0]["data"]
        assert page["items"][0]["summary_en"].startswith("Registered: 张三")
        rest = await timeline.page(session, hq, student, limit=1, cursor=page["next_cursor"])
        assert [i["type"] for i in rest["items"]] == ["StudentStatusChanged"]
        only = await timeline.page(
            session, hq, student, limit=10, cursor=None, event_types=["StudentStatusChanged"]
        )
        assert [i["type"] for i in only["items"]] == ["StudentStatusChanged"] and only["next_cursor"] is None


async def test_a_centre_key_sees_its_own_students_only_and_unknown_students_are_404(
    rolled_back: RolledBack,
) -> None:
    async with rolled_back("notifications") as session:
        student = number()
        await delivery.remember_centre(session, student, "5135701")
        await timeline.record(session, registered(student))
        own = partner("registry:read", centres={"5135701"})
        assert len((await timeline.page(session, own, student, limit=10, cursor=None))["items"]) == 1
        for reader, who in ((partner("registry:read", centres={"5135799"}), student), (own, number())):
            with pytest.raises(NotFound) as hidden:
                await timeline.page(session, reader, who, limit=10, cursor=None)
            assert hidden.value.code == "timeline.student_not_found"


async def test_bad_cursors_and_event_types_are_422(rolled_back: RolledBack) -> None:
    async with rolled_back("notifications") as session:
        hq, student = partner("registry:read"), number()
        await timeline.record(session, registered(student))
        for cursor in ("AAA", "\x00"):
            with pytest.raises(InvalidInput) as bad:
                await timeline.page(session, hq, student, limit=10, cursor=cursor)
            assert bad.value.code == "timeline.cursor_invalid"
        with pytest.raises(InvalidInput) as unknown:
            await timeline.page(session, hq, student, limit=10, cursor=None, event_types=["Nope"])
        assert unknown.value.code == "timeline.event_type_unknown"
