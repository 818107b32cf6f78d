"""Queries of batches, applications and audit runs. A batch may hold 100,000 applications: bulk
writes use COPY on PostgreSQL and plain rows (no ORM identity map)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, text, update

from gradops_audit.models import Application, Audit, Batch
from gradops_audit.repository.base import CHUNK, COPY_FROM, Queries
from gradops_audit.repository.base import chunks as _chunks

APPLICATIONS = cast(Table, Application.__table__)


class ApplicationQueries(Queries):
    async def batch(self, code: str) -> Batch | None:
        return await self.session.get(Batch, code)

    async def batch_for_update(self, code: str, values: dict[str, Any]) -> tuple[Batch, bool]:
        """The batch row, inserted from `values` if absent, locked; and whether this call created it."""
        created = False
        if await self.session.get(Batch, code) is None:
            created = await self.insert_if_absent(Batch, {"code": code, **values}, "code")
        batch = await self.session.get(Batch, code, with_for_update=True, populate_existing=True)
        assert batch is not None
        return batch, created

    async def batches(self, *, before: str | None, limit: int) -> list[Batch]:
        """Newest first: codes are YYYYMM, so their order is the calendar's."""
        query = select(Batch)
        if before is not None:
            query = query.where(Batch.code < before)
        return list(await self.session.scalars(query.order_by(Batch.code.desc()).limit(limit)))

    async def count_batches(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Batch)) or 0)

    async def application(self, batch_code: str, student_no: str) -> Application | None:
        query = select(Application).where(
            Application.batch_code == batch_code, Application.student_no == student_no
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def open_applications_of(self, student_no: str) -> list[Application]:
        query = select(Application).where(Application.student_no == student_no, Application.state == "open")
        return list(await self.session.scalars(query.order_by(Application.seq).with_for_update()))

    async def applications_of_students(self, numbers: Sequence[str]) -> dict[str, list[Application]]:
        found: dict[str, list[Application]] = defaultdict(list)
        for chunk in _chunks(numbers):
            for app in await self.session.scalars(
                select(Application).where(Application.student_no.in_(chunk))
            ):
                found[app.student_no].append(app)
        return found

    async def batch_applications(
        self, batch_code: str, *, states: Sequence[str] = ("open",), student_nos: Sequence[str] | None = None
    ) -> list[Application]:
        """In submission order: HQ works first come, first served."""
        query = select(Application).where(Application.batch_code == batch_code, Application.state.in_(states))
        if student_nos is None:
            return list(await self.session.scalars(query.order_by(Application.seq)))
        found: list[Application] = []
        for chunk in _chunks(list(student_nos)):
            found += await self.session.scalars(query.where(Application.student_no.in_(chunk)))
        return sorted(found, key=lambda a: a.seq)

    async def batch_application_rows(self, batch_code: str) -> list[Any]:
        """Open applications as plain rows (no ORM identity map: a batch may hold 100,000)."""
        t = APPLICATIONS
        query = select(t).where(t.c.batch_code == batch_code, t.c.state == "open").order_by(t.c.seq)
        return list(await self.session.execute(query))

    async def insert_applications(self, rows: list[dict[str, Any]]) -> list[Any]:
        """New applications in bulk, in the given (submission) order; returns them as plain rows
        with their `seq`. PostgreSQL: COPY; elsewhere a multi-row INSERT."""
        if not rows:
            return []
        t = APPLICATIONS
        if self.on_postgres and len(rows) >= COPY_FROM:
            columns = list(rows[0])
            connection = await self.session.connection()
            raw = await connection.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                "applications",
                schema_name="audit",
                columns=columns,
                records=[tuple(r[c] for c in columns) for r in rows],
            )
        else:
            await self.session.execute(insert(t), rows)
        found: list[Any] = []
        ids = [r["id"] for r in rows]
        for chunk in _chunks(ids):
            found += await self.session.execute(select(t).where(t.c.id.in_(chunk)))
        return sorted(found, key=lambda r: r.seq)

    async def record_outcomes(self, outcomes: list[tuple[int, str, bool, list[str]]]) -> None:
        """(seq, audit id, passed, failed checks) per application: one statement on PostgreSQL."""
        if not outcomes:
            return
        if self.on_postgres:
            await self.session.execute(
                text(
                    "UPDATE audit.applications AS a SET last_audit_id = v.audit_id, passed = v.passed, "
                    "failed_checks = v.failed::json FROM unnest(CAST(:seqs AS bigint[]), "
                    "CAST(:ids AS varchar[]), CAST(:passed AS boolean[]), CAST(:failed AS text[])) "
                    "AS v(seq, audit_id, passed, failed) WHERE a.seq = v.seq"
                ),
                {
                    "seqs": [o[0] for o in outcomes],
                    "ids": [o[1] for o in outcomes],
                    "passed": [o[2] for o in outcomes],
                    "failed": [json.dumps(o[3]) for o in outcomes],
                },
            )
            return
        table = APPLICATIONS
        await self.session.execute(
            update(table)
            .where(table.c.seq == bindparam("b_seq"))
            .values(
                last_audit_id=bindparam("b_id"),
                passed=bindparam("b_passed"),
                failed_checks=bindparam("b_failed"),
            ),
            [{"b_seq": s, "b_id": i, "b_passed": p, "b_failed": f} for s, i, p, f in outcomes],
        )

    async def mark_signed_off(self, seqs: list[int], actor: str, at: datetime) -> None:
        table = APPLICATIONS
        for start in range(0, len(seqs), CHUNK):
            chunk = seqs[start : start + CHUNK]
            await self.session.execute(
                update(table)
                .where(table.c.seq.in_(chunk))
                .values(state="signed_off", signed_off_by=actor, signed_off_at=at)
            )

    async def list_batch_audits(
        self,
        batch_code: str,
        *,
        result: str | None,
        centres: frozenset[str] | None,
        application_type: str | None,
        after_seq: int,
        limit: int,
    ) -> tuple[list[tuple[Application, Audit | None]], int]:
        query = (
            select(Application, Audit)
            .outerjoin(Audit, Audit.id == Application.last_audit_id)
            .where(Application.batch_code == batch_code)
        )
        if result == "passed":
            query = query.where(Application.passed.is_(True))
        elif result == "failed":
            query = query.where(Application.passed.is_(False))
        elif result == "deferred":
            query = query.where(Application.state == "deferred")
        if centres is not None:
            query = query.where(Application.learning_centre.in_(sorted(centres)))
        if application_type:
            query = query.where(Application.type == application_type)
        count = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        page = await self.session.execute(
            query.where(Application.seq > after_seq).order_by(Application.seq).limit(limit + 1)
        )
        return [(row[0], row[1]) for row in page], int(count or 0)

    async def insert_audits(self, rows: list[dict[str, Any]]) -> None:
        """Stores runs in bulk: PostgreSQL's COPY in the session's own transaction (a batch of
        100,000 runs in seconds), a multi-row INSERT elsewhere."""
        if not rows:
            return
        if not self.on_postgres or len(rows) < COPY_FROM:
            await self.session.execute(insert(Audit), rows)
            return
        columns = list(rows[0])
        json_columns = {"scenario", "checks", "exceptions"}
        records = [
            tuple(
                json.dumps(row[c], ensure_ascii=False) if c in json_columns and row[c] is not None else row[c]
                for c in columns
            )
            for row in rows
        ]
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "audits", schema_name="audit", columns=columns, records=records
        )

    async def audit(self, audit_id: str) -> Audit | None:
        return await self.session.get(Audit, audit_id)

    async def latest_audit(self, student_no: str) -> Audit | None:
        query = (
            select(Audit)
            .where(Audit.student_no == student_no, Audit.what_if.is_(False))
            .order_by(Audit.created_at.desc(), Audit.id.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def count_audits_of(self, student_no: str, *, what_if: bool | None) -> int:
        query = select(func.count()).select_from(Audit).where(Audit.student_no == student_no)
        if what_if is not None:
            query = query.where(Audit.what_if.is_(what_if))
        return int(await self.session.scalar(query) or 0)

    async def audits_of(
        self, student_no: str, *, what_if: bool | None, before: tuple[datetime, str] | None, limit: int
    ) -> list[Audit]:
        query = select(Audit).where(Audit.student_no == student_no)
        if what_if is not None:
            query = query.where(Audit.what_if.is_(what_if))
        if before is not None:
            created, audit_id = before
            query = query.where(
                or_(Audit.created_at < created, (Audit.created_at == created) & (Audit.id < audit_id))
            )
        query = query.order_by(Audit.created_at.desc(), Audit.id.desc()).limit(limit + 1)
        return list(await self.session.scalars(query))

    async def degree_eligibility(self, audit_ids: Sequence[str]) -> dict[str, bool | None]:
        """Whether each audit found the student eligible for the degree."""
        found: dict[str, bool | None] = {}
        for chunk in _chunks(audit_ids):
            for audit_id, eligible in await self.session.execute(
                select(Audit.id, Audit.degree_eligible).where(Audit.id.in_(chunk))
            ):
                found[audit_id] = eligible
        return found
