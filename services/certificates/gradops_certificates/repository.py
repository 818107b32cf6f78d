from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import func, or_, select, update

from gradops_certificates.models import (
    Certificate,
    DistributionEvent,
    Replacement,
    SerialCounter,
    ShareCode,
    StoredFile,
    StudentProjection,
    VerificationLookup,
)
from gradops_shared.db import Repository, after_position, conflict_insert, sha256_hex


class CertificateRepository(Repository):
    """Every query of the certificates service."""

    async def for_student_batch(self, student_no: str, batch_code: str, kind: str) -> Certificate | None:
        query = select(Certificate).where(
            Certificate.student_no == student_no,
            Certificate.batch_code == batch_code,
            Certificate.kind == kind,
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def latest_for_student(self, student_no: str, kinds: Sequence[str]) -> Certificate | None:
        """The newest certificate of those kinds; a valid one wins over superseded and revoked."""
        query = (
            select(Certificate)
            .where(Certificate.student_no == student_no, Certificate.kind.in_(kinds))
            .order_by((Certificate.status == "valid").desc(), Certificate.created_at.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def of_student(self, student_no: str) -> list[Certificate]:
        return await self.rows(
            select(Certificate).where(Certificate.student_no == student_no).order_by(Certificate.created_at)
        )

    async def page_of_student(
        self,
        student_no: str,
        centres: frozenset[str] | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Certificate]:
        """Oldest first, (created_at, number) after the cursor; `limit` rows at most."""
        query = select(Certificate).where(Certificate.student_no == student_no)
        if centres is not None:
            query = query.where(Certificate.learning_centre.in_(centres))
        if after is not None:
            query = query.where(after_position(Certificate.created_at, Certificate.number, after))
        query = query.order_by(Certificate.created_at, Certificate.number).limit(limit)
        return await self.rows(query)

    async def by_number(self, number: str, *, for_update: bool = False) -> Certificate | None:
        return await self.one_or_none(
            select(Certificate).where(Certificate.number == number), for_update=for_update
        )

    async def of_batch(self, batch_code: str, centres: frozenset[str] | None) -> list[Certificate]:
        query = select(Certificate).where(Certificate.batch_code == batch_code)
        if centres is not None:
            query = query.where(Certificate.learning_centre.in_(centres))
        return list((await self.session.execute(query.order_by(Certificate.number))).scalars())

    async def overdue(
        self,
        today: date,
        centres: frozenset[str] | None,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[Certificate]:
        """Past a deadline, by (centre, number); a certificate without a centre sorts as "" on both
        databases (they disagree on where NULL goes)."""
        centre_key = func.coalesce(Certificate.learning_centre, "")
        query = select(Certificate).where(
            Certificate.status == "valid",
            or_(
                (Certificate.distribution_state == "at_hq") & (Certificate.collection_due < today),
                (Certificate.distribution_state == "collected_by_centre")
                & (Certificate.handover_due < today),
            ),
        )
        if centres is not None:
            query = query.where(Certificate.learning_centre.in_(centres))
        if after is not None:
            query = query.where(after_position(centre_key, Certificate.number, after))
        query = query.order_by(centre_key, Certificate.number)
        if limit is not None:
            query = query.limit(limit)
        return await self.rows(query)

    async def next_serial(
        self, school_code: str, education_type_code: str, year: int, level_code: str
    ) -> int:
        return await self.reserve_serials(school_code, education_type_code, year, level_code, 1)

    async def reserve_serials(
        self, school_code: str, education_type_code: str, year: int, level_code: str, count: int
    ) -> int:
        """Takes the next `count` serials of the series and returns the first. One upsert: the row
        lock it takes is held until our transaction ends, so a serial is never used twice and
        never skipped (a rolled-back issuance gives its serials back). Callers taking several
        series in one transaction take them in sorted order, so two never wait on each other."""
        insert = conflict_insert(self.session)
        statement = insert(SerialCounter).values(
            school_code=school_code,
            education_type_code=education_type_code,
            year=year,
            level_code=level_code,
            last_serial=count,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["school_code", "education_type_code", "year", "level_code"],
            set_={"last_serial": SerialCounter.last_serial + statement.excluded.last_serial},
        ).returning(SerialCounter.last_serial)
        last = int((await self.session.execute(statement)).scalar_one())
        return last - count + 1

    async def issued_kinds(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str, str]]:
        """(student_no, batch_code, kind) already issued among these (student_no, batch_code)."""
        if not pairs:
            return set()
        students = {student for student, _ in pairs}
        query = select(Certificate.student_no, Certificate.batch_code, Certificate.kind).where(
            Certificate.student_no.in_(students)
        )
        wanted = set(pairs)
        return {
            (row.student_no, row.batch_code, row.kind)
            for row in await self.session.execute(query)
            if (row.student_no, row.batch_code) in wanted
        }

    async def assign_missing_centre(self, student_no: str, centre: str) -> None:
        await self.session.execute(
            update(Certificate)
            .where(Certificate.student_no == student_no, Certificate.learning_centre.is_(None))
            .values(learning_centre=centre)
        )
        await self.session.execute(
            update(Replacement)
            .where(Replacement.student_no == student_no, Replacement.learning_centre.is_(None))
            .values(learning_centre=centre)
        )

    # Students (projection)

    async def student(self, student_no: str) -> StudentProjection | None:
        return await self.session.get(StudentProjection, student_no)

    async def students(self, numbers: Sequence[str]) -> dict[str, StudentProjection]:
        if not numbers:
            return {}
        query = select(StudentProjection).where(StudentProjection.student_no.in_(numbers))
        return {s.student_no: s for s in (await self.session.execute(query)).scalars()}

    # Distribution, files

    async def distribution_events(
        self, number: str, after: int | None = None, limit: int | None = None
    ) -> list[DistributionEvent]:
        query = select(DistributionEvent).where(DistributionEvent.number == number)
        if after is not None:
            query = query.where(DistributionEvent.id > after)
        query = query.order_by(DistributionEvent.id)
        if limit is not None:
            query = query.limit(limit)
        return await self.rows(query)

    async def file(self, sha256: str) -> StoredFile | None:
        return await self.session.get(StoredFile, sha256)

    async def store_file(self, data: bytes, media_type: str) -> str:
        """Content-addressed: the same scan uploaded twice is stored once (also when two uploads
        race: ON CONFLICT, not read-then-insert). Returns its SHA-256."""
        sha256 = sha256_hex(data)
        insert = conflict_insert(self.session)
        await self.session.execute(
            insert(StoredFile)
            .values(
                sha256=sha256,
                media_type=media_type,
                size_bytes=len(data),
                content=data,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )
        return sha256

    # Replacements

    async def replacement(self, replacement_id: str, *, for_update: bool = False) -> Replacement | None:
        return await self.one_or_none(
            select(Replacement).where(Replacement.id == replacement_id), for_update=for_update
        )

    async def standing_replacement_of(self, original_number: str) -> Replacement | None:
        """The application that still counts against "once only" (applied, verified or approved);
        rejected ones do not."""
        query = select(Replacement).where(
            Replacement.original_number == original_number, Replacement.state != "rejected"
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def replacement_issuing(self, replacement_number: str) -> Replacement | None:
        """The approved application that issued this 毕业证明书."""
        query = select(Replacement).where(Replacement.replacement_number == replacement_number)
        return (await self.session.execute(query)).scalars().first()

    async def replacements(
        self,
        state: str | None,
        centres: frozenset[str] | None,
        limit: int,
        after: tuple[datetime, str] | None = None,
    ) -> list[Replacement]:
        query = select(Replacement)
        if state is not None:
            query = query.where(Replacement.state == state)
        if centres is not None:
            query = query.where(Replacement.learning_centre.in_(centres))
        if after is not None:
            query = query.where(after_position(Replacement.applied_at, Replacement.id, after))
        query = query.order_by(Replacement.applied_at, Replacement.id).limit(limit)
        return await self.rows(query)

    # Share codes and the lookup log

    async def share_code(self, code: str, *, for_update: bool = False) -> ShareCode | None:
        return await self.one_or_none(select(ShareCode).where(ShareCode.code == code), for_update=for_update)

    async def lookups(self, limit: int, before: int | None = None) -> list[VerificationLookup]:
        """Newest first; `before` is the id the previous page ended with."""
        query = select(VerificationLookup)
        if before is not None:
            query = query.where(VerificationLookup.id < before)
        query = query.order_by(VerificationLookup.id.desc()).limit(limit)
        return await self.rows(query)
