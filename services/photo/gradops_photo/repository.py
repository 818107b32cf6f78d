"""Every query of the photo service: submissions and their history, blobs, capture sessions and
collection-code attempts, import jobs and their files."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select

from gradops_photo.models import (
    CaptureSession,
    CollectionCodeAttempts,
    PhotoBlob,
    PhotoImport,
    PhotoImportFile,
    PhotoSubmission,
    SubmissionTransition,
)
from gradops_shared.db import Repository, after_position, store_blob
from gradops_shared.uploads import sniff

# Pending reviews without a due time (none today: every pending review gets one) sort last on both
# backends (PostgreSQL and SQLite disagree on where NULL sorts).
NO_DUE_TIME = datetime(9999, 12, 31, tzinfo=UTC)


class PhotoRepository(Repository):
    async def store_blob(self, data: bytes) -> PhotoBlob:
        """Content-addressed: the same bytes are stored once, with the media type they say they are."""
        return await store_blob(self.session, PhotoBlob, data, sniff(data) or "application/octet-stream")

    async def get_blob(self, sha256: str) -> PhotoBlob | None:
        return await self.session.get(PhotoBlob, sha256)

    async def get_submission(self, submission_id: str, *, for_update: bool = False) -> PhotoSubmission | None:
        return await self.one_or_none(
            select(PhotoSubmission).where(PhotoSubmission.id == submission_id), for_update=for_update
        )

    async def submissions_of(
        self, student_no: str, *, kind: str | None = None, for_update: bool = False
    ) -> list[PhotoSubmission]:
        query = select(PhotoSubmission).where(PhotoSubmission.student_no == student_no)
        if kind is not None:
            query = query.where(PhotoSubmission.kind == kind)
        query = query.order_by(PhotoSubmission.created_at, PhotoSubmission.id)
        if for_update:
            query = query.with_for_update()
        return await self.rows(query)

    async def submissions_of_many(self, student_nos: Iterable[str], kind: str) -> list[PhotoSubmission]:
        wanted = list(set(student_nos))
        if not wanted:
            return []
        return await self.rows(
            select(PhotoSubmission)
            .where(PhotoSubmission.student_no.in_(wanted), PhotoSubmission.kind == kind)
            .order_by(PhotoSubmission.created_at, PhotoSubmission.id)
        )

    def add_submission(self, submission: PhotoSubmission) -> None:
        self.session.add(submission)

    def add_transition(self, transition: SubmissionTransition) -> None:
        self.session.add(transition)

    async def transitions(self, submission_id: str) -> list[SubmissionTransition]:
        return await self.rows(
            select(SubmissionTransition)
            .where(SubmissionTransition.submission_id == submission_id)
            .order_by(SubmissionTransition.id)
        )

    async def rejected_due(self, now: datetime) -> list[PhotoSubmission]:
        return await self.rows(
            select(PhotoSubmission)
            .where(PhotoSubmission.state == "rejected", PhotoSubmission.resubmit_by < now)
            .with_for_update(skip_locked=True)
        )

    async def review_queue(
        self,
        *,
        centres: frozenset[str] | None,
        overdue_at: datetime | None,
        kind: str | None,
        limit: int,
        offset: int,
        after: tuple[datetime, str] | None = None,
    ) -> tuple[list[PhotoSubmission], int]:
        """Pending reviews by due time (oldest due first, then id); `overdue_at` keeps those due before
        it; `after` (due time, id) starts after that position (cursor pages); the count is of all."""
        query = select(PhotoSubmission).where(PhotoSubmission.state == "pending_review")
        if centres is not None:
            query = query.where(PhotoSubmission.learning_centre.in_(sorted(centres)))
        if overdue_at is not None:
            query = query.where(PhotoSubmission.review_due_at < overdue_at)
        if kind is not None:
            query = query.where(PhotoSubmission.kind == kind)
        count = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        due = func.coalesce(PhotoSubmission.review_due_at, NO_DUE_TIME)
        if after is not None:
            query = query.where(after_position(due, PhotoSubmission.id, after))
        page = query.order_by(due, PhotoSubmission.id).limit(limit).offset(offset)
        return list((await self.session.execute(page)).scalars()), int(count)

    async def submissions_page(
        self,
        student_no: str,
        *,
        centres: frozenset[str] | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> tuple[list[PhotoSubmission], int]:
        """A student's submissions visible within `centres` (None: all), oldest first, after a
        position (created_at, id); with the count of all of them."""
        query = select(PhotoSubmission).where(PhotoSubmission.student_no == student_no)
        if centres is not None:
            query = query.where(PhotoSubmission.learning_centre.in_(sorted(centres)))
        count = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        if after is not None:
            query = query.where(after_position(PhotoSubmission.created_at, PhotoSubmission.id, after))
        page = query.order_by(PhotoSubmission.created_at, PhotoSubmission.id).limit(limit)
        return list((await self.session.execute(page)).scalars()), int(count)

    # --- capture sessions and collection-code attempts ---

    async def code_attempts(
        self, code_sha256: str, *, for_update: bool = False
    ) -> CollectionCodeAttempts | None:
        return await self.session.get(CollectionCodeAttempts, code_sha256, with_for_update=for_update or None)

    async def forget_code_attempts(self, code_sha256: str) -> None:
        attempts = await self.session.get(CollectionCodeAttempts, code_sha256)
        if attempts is not None:
            await self.session.delete(attempts)

    async def capture_session(self, session_id: str) -> CaptureSession | None:
        return await self.session.get(CaptureSession, session_id)

    # --- import jobs ---

    async def get_import(self, import_id: str, *, for_update: bool = False) -> PhotoImport | None:
        return await self.session.get(PhotoImport, import_id, with_for_update=for_update or None)

    async def import_files(self, import_id: str) -> list[PhotoImportFile]:
        return await self.rows(
            select(PhotoImportFile)
            .where(PhotoImportFile.import_id == import_id)
            .order_by(PhotoImportFile.position)
        )

    async def stale_imports(self, cutoff: datetime) -> list[PhotoImport]:
        """Unfinished jobs whose heartbeat is older than `cutoff` (locked; others' skipped)."""
        return await self.rows(
            select(PhotoImport)
            .where(PhotoImport.status.in_(("queued", "running")), PhotoImport.heartbeat_at < cutoff)
            .with_for_update(skip_locked=True)
        )
