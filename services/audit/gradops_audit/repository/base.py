"""What the audit's query modules share: chunked reads, the dialect, insert-if-absent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gradops_shared.db import Repository

CHUNK = 5000  # well under PostgreSQL's 32,767 bind parameters and SQLite's limits
COPY_FROM = 200  # rows; below this a plain INSERT beats COPY's set-up (one student's re-audit)


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class Queries(Repository):
    """Base of the audit's query classes (one unit of work's session)."""

    @property
    def on_postgres(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

    async def insert_if_absent(self, model: type[Any], values: dict[str, Any], key: str) -> bool:
        """Inserts the row unless one with the same `key` exists (two writers meeting a new row at
        once insert it once, never a duplicate key); True when this call inserted it."""
        dialect = self.session.get_bind().dialect.name
        insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
        result = await self.session.execute(
            insert_(model).values(**values).on_conflict_do_nothing(index_elements=[key])
        )
        return bool(getattr(result, "rowcount", 0))

    async def serialise(self, key: str) -> None:
        """Holds a transaction-scoped lock named `key` (PostgreSQL advisory lock) so that writers of
        the same thing queue instead of meeting as a duplicate key. SQLite begins every transaction
        IMMEDIATE, which serialises writers already."""
        if self.on_postgres:
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )
