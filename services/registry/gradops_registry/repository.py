"""Every query of the registry: students and their history, evidence, the organisation tree."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import JSON, String, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import Select

from gradops_registry.domain.search import StudentFilters
from gradops_registry.models import (
    Base,
    EvidenceBlob,
    IdentityFlagChange,
    OrgUnit,
    PriorEducationReview,
    StatusChange,
    Student,
)
from gradops_shared.db import Repository, store_blob

__all__ = ["OrgRepository", "StudentFilters", "StudentRepository"]


class StudentRepository(Repository):
    """Students and what hangs off them: status changes, review steps, identity flags, evidence."""

    async def get(self, student_no: str, *, for_update: bool = False) -> Student | None:
        return await self.one_or_none(
            select(Student).where(Student.student_no == student_no), for_update=for_update
        )

    def add_status_change(self, change: StatusChange) -> None:
        self.session.add(change)

    async def copy_rows(self, target: type[Base] | Table, rows: list[dict[str, Any]], batch: int) -> None:
        """Bulk insert of rows with the same keys. On PostgreSQL through COPY (an order of magnitude
        faster than multi-row INSERTs for a 100,000-row roster), in the caller's transaction;
        elsewhere (SQLite) multi-row INSERTs."""
        if not rows:
            return
        table = target if isinstance(target, Table) else cast(Table, target.__table__)
        if self.session.bind is None or self.session.bind.dialect.name != "postgresql":
            for start in range(0, len(rows), batch):
                await self.session.execute(insert(table), rows[start : start + batch])
            return
        columns = list(rows[0])
        for column in (c.name for c in table.columns if isinstance(c.type, JSON) and c.name in rows[0]):
            for row in rows:  # asyncpg takes JSON columns as text
                if row[column] is not None:
                    row[column] = json.dumps(row[column], ensure_ascii=False)
        records = [tuple(map(row.__getitem__, columns)) for row in rows]
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, schema_name=table.schema, columns=columns, records=records
        )

    async def get_rows(self, student_nos: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Current columns of many students as plain mappings (no ORM objects: imports read 100,000)."""
        table = cast(Table, Student.__table__)
        postgres = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(student_nos), 5000):
            chunk = list(student_nos[start : start + 5000])
            if postgres:
                # A join with the array, not `IN (5000 parameters)`: right after a bulk load the
                # statistics still say "empty table", and a sequential scan testing each row
                # against 5000 parameters one by one took a minute for 100,000 rows.
                wanted = (
                    func.unnest(bindparam("wanted", chunk, type_=ARRAY(String)))
                    .table_valued("no")
                    .render_derived(name="wanted")
                )
                query = select(table).join(wanted, table.c.student_no == wanted.c.no)
            else:
                query = select(table).where(table.c.student_no.in_(chunk))
            result = await self.session.execute(query)
            found.update({row["student_no"]: dict(row) for row in result.mappings()})
        return found

    async def bulk_update_students(self, rows: list[dict[str, Any]], batch: int) -> None:
        """UPDATE by primary key, executemany (ORM bulk update: rows carry `student_no`)."""
        for start in range(0, len(rows), batch):
            await self.session.execute(update(Student), rows[start : start + batch])

    def _filtered(self, query: Select[Any], filters: StudentFilters) -> Select[Any]:
        if filters.centres is not None:
            query = query.where(Student.learning_centre.in_(sorted(filters.centres)))
        for column, value in (
            (Student.status, filters.status),
            (Student.level, filters.level),
            (Student.major, filters.major),
            (Student.enrolment_term, filters.enrolment_term),
            (Student.class_code, filters.class_code),
            (Student.student_no, filters.student_no),
            (Student.id_number_hash, filters.id_number_hash),
        ):
            if value is not None:
                query = query.where(column == value)
        if filters.name_prefix:
            escaped = filters.name_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Student.name.like(f"{escaped}%", escape="\\"))
        return query

    async def search(self, filters: StudentFilters, *, after: str | None, limit: int) -> list[Student]:
        """Stable order by student number; `after` is the last number of the previous page."""
        if filters.centres is not None and not filters.centres:
            return []
        query = self._filtered(select(Student), filters)
        if after is not None:
            query = query.where(Student.student_no > after)
        query = query.order_by(Student.student_no).limit(limit)
        return await self.rows(query)

    async def count(self, filters: StudentFilters) -> int:
        if filters.centres is not None and not filters.centres:
            return 0
        query = self._filtered(select(func.count()).select_from(Student), filters)
        return int((await self.session.execute(query)).scalar_one())

    async def overdue_reviews(self, centres: frozenset[str] | None, today: date, limit: int) -> list[Student]:
        query = select(Student).where(
            Student.prior_education_state.in_(["pending", "second_review"]),
            Student.prior_education_deadline < today,
        )
        if centres is not None:
            if not centres:
                return []
            query = query.where(Student.learning_centre.in_(sorted(centres)))
        query = query.order_by(Student.prior_education_deadline, Student.student_no).limit(limit)
        return await self.rows(query)

    async def status_history(
        self, student_no: str, *, after: int | None = None, limit: int | None = None
    ) -> list[StatusChange]:
        """Oldest first; `after` is the id of the last change of the previous page."""
        query = select(StatusChange).where(StatusChange.student_no == student_no)
        if after is not None:
            query = query.where(StatusChange.id > after)
        query = query.order_by(StatusChange.id).limit(limit)
        return await self.rows(query)

    async def review_steps(self, student_no: str) -> list[PriorEducationReview]:
        return await self.rows(
            select(PriorEducationReview)
            .where(PriorEducationReview.student_no == student_no)
            .order_by(PriorEducationReview.id)
        )

    async def identity_flags(self, student_no: str) -> list[IdentityFlagChange]:
        return await self.rows(
            select(IdentityFlagChange)
            .where(IdentityFlagChange.student_no == student_no)
            .order_by(IdentityFlagChange.id)
        )

    async def evidence(self, sha256: str) -> EvidenceBlob | None:
        return await self.session.get(EvidenceBlob, sha256)

    async def store_evidence(self, content: bytes, media_type: str) -> EvidenceBlob:
        """Content-addressed: the same bytes are stored once."""
        return await store_blob(self.session, EvidenceBlob, content, media_type)


class OrgRepository(Repository):
    """The organisation tree."""

    async def get(self, code: str) -> OrgUnit | None:
        return await self.session.get(OrgUnit, code)

    async def all_units(self) -> dict[str, OrgUnit]:
        return {u.code: u for u in (await self.session.execute(select(OrgUnit))).scalars()}

    async def get_many(self, codes: Iterable[str]) -> dict[str, OrgUnit]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = await self.session.execute(select(OrgUnit).where(OrgUnit.code.in_(wanted)))
        return {u.code: u for u in rows.scalars()}
