"""The pieces every service used to write for itself, now written once in gradops_shared: the
definition's outbox and inbox (always the schema's own tables), its `create_app`, the `?cursor=`
parameter, the keyset filter of cursor pages, and the repository's insert-if-absent, rows and
one-or-none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, insert, select

from gradops_audit.models import KnownStudent
from gradops_audit.repository.base import Queries
from gradops_shared.db import after_position
from gradops_shared.edge import cursor_query
from gradops_shared.outbox import INBOX_TABLE, OUTBOX_TABLE
from gradops_suite.catalogue import DEFINITIONS
from tests.factories import student_no
from tests.support.databases import RolledBack


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_a_definition_finds_its_outbox_and_inbox_in_its_schema(name: str) -> None:
    definition = DEFINITIONS[name]
    assert definition.outbox.name == OUTBOX_TABLE and definition.outbox.schema == definition.schema
    assert definition.inbox.name == INBOX_TABLE and definition.inbox.schema == definition.schema


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_create_app_builds_the_service_api(name: str) -> None:
    definition = DEFINITIONS[name]
    app = definition.create_app(definition.settings_cls())
    assert app.title == definition.title
    assert app.state.service == name


def test_after_position_pages_in_first_then_second_order() -> None:
    metadata = MetaData()
    rows = Table("rows", metadata, Column("at", DateTime), Column("id", String(8)))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    t1, t2 = datetime(2026, 1, 1), datetime(2026, 1, 2)
    with engine.begin() as connection:
        connection.execute(
            insert(rows), [{"at": t1, "id": "a"}, {"at": t1, "id": "b"}, {"at": t2, "id": "a"}]
        )
        query = select(rows.c.at, rows.c.id).order_by(rows.c.at, rows.c.id)
        after = connection.execute(query.where(after_position(rows.c.at, rows.c.id, (t1, "a")))).all()
    assert [(at, key) for at, key in after] == [(t1, "b"), (t2, "a")]


async def test_insert_if_absent_inserts_once(rolled_back: RolledBack) -> None:
    number = student_no()
    values = {
        "student_no": number,
        "status": "enrolled",
        "level": "高起专",
        "learning_centre": "C1",
        "updated_at": datetime.now(UTC),
    }
    async with rolled_back("audit") as session:
        repo = Queries(session)
        assert await repo.insert_if_absent(KnownStudent, values, "student_no")
        assert not await repo.insert_if_absent(KnownStudent, {**values, "level": "专升本"}, "student_no")
        stored = await repo.one_or_none(select(KnownStudent).where(KnownStudent.student_no == number))
        assert stored is not None and stored.level == "高起专"
        locked = await repo.one_or_none(
            select(KnownStudent).where(KnownStudent.student_no == number), for_update=True
        )
        assert locked is stored
        assert await repo.rows(select(KnownStudent).where(KnownStudent.student_no == number)) == [stored]
        assert await repo.one_or_none(select(KnownStudent).where(KnownStudent.student_no == "none")) is None


def test_cursor_query_is_the_one_cursor_parameter() -> None:
    query = cursor_query("the previous page's next_cursor")
    assert query.description == "the previous page's next_cursor"
    constraints = {type(c).__name__: c for c in query.metadata}
    assert constraints["MinLen"].min_length == 1 and constraints["MaxLen"].max_length == 512
