"""Queries of the facts the audit keeps: students, photos, transcripts, exceptions, rule sets.
Bulk reads go in chunks so a batch of 100,000 students costs a few dozen queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, func, or_, select
from sqlalchemy import cast as cast_

from gradops_audit.models import AuditException, KnownStudent, PhotoFact, RuleSetVersion, Transcript
from gradops_audit.repository.base import Queries
from gradops_audit.repository.base import chunks as _chunks


class FactQueries(Queries):
    async def student(self, student_no: str) -> KnownStudent | None:
        return await self.session.get(KnownStudent, student_no)

    async def photo(self, student_no: str, kind: str) -> PhotoFact | None:
        return await self.session.get(PhotoFact, (student_no, kind))

    async def transcript(self, student_no: str) -> Transcript | None:
        return await self.session.get(Transcript, student_no)

    async def student_for_update(self, snapshot: dict[str, Any]) -> KnownStudent:
        """The student's row, inserted from the snapshot if absent, locked for this transaction:
        the API (asking the registry) and the consumer (StudentRegistered) may meet a new student
        at once."""
        if await self.student(snapshot["student_no"]) is None:
            values = {
                "student_no": snapshot["student_no"],
                "status": snapshot["status"],
                "level": snapshot["level"],
                "learning_centre": snapshot["learning_centre"],
                "formal_status": True,
                "identity_in_doubt": False,
                "updated_at": datetime.now(UTC),
            }
            await self.insert_if_absent(KnownStudent, values, "student_no")
        student = await self.session.get(KnownStudent, snapshot["student_no"], with_for_update=True)
        assert student is not None
        return student

    async def transcript_for_update(self, student_no: str, actor: str) -> Transcript:
        """The student's transcript row, created empty if absent, locked for this transaction."""
        if await self.session.get(Transcript, student_no) is None:
            values = {
                "student_no": student_no,
                "courses": [],
                "source": "",
                "updated_by": actor,
                "updated_at": datetime.now(UTC),
            }
            await self.insert_if_absent(Transcript, values, "student_no")
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

    async def rule_set_versions(self) -> list[RuleSetVersion]:
        query = select(RuleSetVersion).order_by(RuleSetVersion.code, RuleSetVersion.version)
        return list(await self.session.scalars(query))

    async def latest_rule_set_version(self, code: str) -> int:
        latest = await self.session.scalar(
            select(func.max(RuleSetVersion.version)).where(RuleSetVersion.code == code)
        )
        return int(latest or 0)

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
