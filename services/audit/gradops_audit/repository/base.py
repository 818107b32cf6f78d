"""What the audit's query modules share: chunked reads, the dialect, serialised writers
(insert-if-absent is every repository's, from `gradops_shared.db.Repository`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text

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

    async def serialise(self, key: str) -> None:
        """Holds a transaction-scoped lock named `key` (PostgreSQL advisory lock) so that writers of
        the same thing queue instead of meeting as a duplicate key. SQLite begins every transaction
        IMMEDIATE, which serialises writers already."""
        if self.on_postgres:
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )
