"""Every query of the audit service. Bulk reads go in chunks so a batch of 100,000 students costs
a few dozen queries, not one per student per rule."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, func, insert, or_, select, text, update
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit.models import (
    Application,
    Audit,
    AuditException,
    Batch,
    KnownStudent,
    PhotoFact,
    RuleSetVersion,
    Transcript,
)

CHUNK = 5000  # well under PostgreSQL's 32,767 bind parameters and SQLite's limits
APPLICATIONS = cast(Table, Application.__table__)
COPY_FROM = 200  # rows; below this a plain INSERT beats COPY's set-up (one student's re-audit)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: Any) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    # students and their facts
    async def student(self, student_no: str) -> KnownStudent | None:
        return await self.session.get(KnownStudent, student_no)

    async def photo(self, student_no: str, kind: str) -> PhotoFact | None:
        return await self.session.get(PhotoFact, (student_no, kind))

    async def transcript(self, student_no: str) -> Transcript | None:
        return await self.session.get(Transcript, student_no)

    async def serialise(self, key: str) -> None:
        """Holds a transaction-scoped lock named `key` (PostgreSQL advisory lock) so that writers of
        the same thing queue instead of meeting as a duplicate key. SQLite begins every transaction
        IMMEDIATE, which serialises writers already."""
        if self.on_postgres:
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
            )

    async def batch_for_update(self, code: str, values: dict[str, Any]) -> tuple[Batch, bool]:
        """The batch row, inserted from `values` if absent, locked; and whether this call created it."""
        created = False
        if await self.session.get(Batch, code) is None:
            dialect = self.session.get_bind().dialect.name
            insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
            result = await self.session.execute(
                insert_(Batch).values(code=code, **values).on_conflict_do_nothing(index_elements=["code"])
            )
            created = bool(getattr(result, "rowcount", 0))
        batch = await self.session.get(Batch, code, with_for_update=True, populate_existing=True)
        assert batch is not None
        return batch, created

    async def transcript_for_update(self, student_no: str, actor: str) -> Transcript:
        """The student's transcript row, created empty if absent, locked for this transaction."""
        if await self.session.get(Transcript, student_no) is None:
            dialect = self.session.get_bind().dialect.name
            insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert
            await self.session.execute(
                insert_(Transcript)
                .values(
                    student_no=student_no,
                    courses=[],
                    source="",
                    updated_by=actor,
                    updated_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["student_no"])
            )
        transcript = await self.session.get(
            Transcript, student_no, with_for_update=True, populate_existing=True
        )
        assert transcript is not None
        return transcript

    async def students_by_no(self, numbers: Sequence[str]) -> dict[str, KnownStudent]:
        found: dict[str, KnownStudent] = {}
        for chunk in _chunks(numbers):
            rows = await self.session.scalars(select(KnownStudent).where(KnownStudent.student_no.in_(chunk)))
            found.update({s.student_no: s for s in rows})
        return found

    async def fact_rows(
        self, numbers: Sequence[str]
    ) -> tuple[dict[str, Any], dict[str, list[Any]], dict[str, Any]]:
        """Students, photos and transcripts of many students as plain rows (no ORM identity map)."""
        students: dict[str, Any] = {}
        photos: dict[str, list[Any]] = defaultdict(list)
        transcripts: dict[str, Any] = {}
        s, p, t = KnownStudent.__table__, PhotoFact.__table__, Transcript.__table__
        # The courses come as their stored JSON text: parsed once by the caller, and the text itself
        # is the transcript's fingerprint in the inputs digest.
        transcript_columns = [c for c in t.c if c.name != "courses"] + [
            cast_(t.c.courses, Text).label("courses_json")
        ]
        for chunk in _chunks(numbers):
            for row in await self.session.execute(select(s).where(s.c.student_no.in_(chunk))):
                students[row.student_no] = row
            for row in await self.session.execute(select(p).where(p.c.student_no.in_(chunk))):
                photos[row.student_no].append(row)
            for row in await self.session.execute(
                select(*transcript_columns).where(t.c.student_no.in_(chunk))
            ):
                transcripts[row.student_no] = row
        return students, photos, transcripts

    async def students_of_cohort(
        self, cutoff_terms: Sequence[str], centres: frozenset[str] | None
    ) -> list[str]:
        query = select(KnownStudent.student_no).where(KnownStudent.enrolment_term.in_(cutoff_terms))
        if centres is not None:
            query = query.where(KnownStudent.learning_centre.in_(sorted(centres)))
        return list(await self.session.scalars(query.order_by(KnownStudent.student_no)))

    async def distinct_terms(self) -> list[str]:
        return list(await self.session.scalars(select(KnownStudent.enrolment_term).distinct()))

    # batches and rule sets
    async def batch(self, code: str) -> Batch | None:
        return await self.session.get(Batch, code)

    async def batches(self, *, before: str | None, limit: int) -> list[Batch]:
        """Newest first: codes are YYYYMM, so their order is the calendar's."""
        query = select(Batch)
        if before is not None:
            query = query.where(Batch.code < before)
        return list(await self.session.scalars(query.order_by(Batch.code.desc()).limit(limit)))

    async def count_batches(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Batch)) or 0)

    async def rule_set_versions(self) -> list[RuleSetVersion]:
        query = select(RuleSetVersion).order_by(RuleSetVersion.code, RuleSetVersion.version)
        return list(await self.session.scalars(query))

    async def latest_rule_set_version(self, code: str) -> int:
        latest = await self.session.scalar(
            select(func.max(RuleSetVersion.version)).where(RuleSetVersion.code == code)
        )
        return int(latest or 0)

    # applications
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

    @property
    def on_postgres(self) -> bool:
        return self.session.bind is not None and self.session.bind.dialect.name == "postgresql"

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

    # audits
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

    # exceptions
    async def exception(self, exception_id: str) -> AuditException | None:
        return await self.session.get(AuditException, exception_id)

    async def exceptions_of(self, student_no: str, *, active_only: bool) -> list[AuditException]:
        query = select(AuditException).where(AuditException.student_no == student_no)
        if active_only:
            query = query.where(AuditException.revoked_at.is_(None))
        return list(await self.session.scalars(query.order_by(AuditException.granted_at)))

    async def exceptions_page(
        self, student_no: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[AuditException]:
        """Oldest first, as granted; `after` is the (granted_at, id) of the previous page's last row."""
        query = select(AuditException).where(AuditException.student_no == student_no)
        if after is not None:
            granted, exception_id = after
            query = query.where(
                or_(
                    AuditException.granted_at > granted,
                    (AuditException.granted_at == granted) & (AuditException.id > exception_id),
                )
            )
        query = query.order_by(AuditException.granted_at, AuditException.id).limit(limit)
        return list(await self.session.scalars(query))

    async def count_exceptions_of(self, student_no: str) -> int:
        query = select(func.count()).select_from(AuditException)
        query = query.where(AuditException.student_no == student_no)
        return int(await self.session.scalar(query) or 0)

    async def active_exceptions(self, numbers: Sequence[str]) -> dict[str, list[AuditException]]:
        found: dict[str, list[AuditException]] = defaultdict(list)
        for chunk in _chunks(numbers):
            query = select(AuditException).where(
                AuditException.student_no.in_(chunk), AuditException.revoked_at.is_(None)
            )
            for row in await self.session.scalars(query.order_by(AuditException.granted_at)):
                found[row.student_no].append(row)
        return found
