from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.models import PhotoBlob, PhotoSubmission, SubmissionTransition


class PhotoRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store_blob(self, blob: PhotoBlob) -> None:
        if await self.session.get(PhotoBlob, blob.sha256) is None:
            self.session.add(blob)

    async def get_blob(self, sha256: str) -> PhotoBlob | None:
        return await self.session.get(PhotoBlob, sha256)

    async def get_submission(self, submission_id: str, *, for_update: bool = False) -> PhotoSubmission | None:
        query = select(PhotoSubmission).where(PhotoSubmission.id == submission_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def submissions_of(self, student_no: str) -> list[PhotoSubmission]:
        query = (
            select(PhotoSubmission)
            .where(PhotoSubmission.student_no == student_no)
            .order_by(PhotoSubmission.created_at, PhotoSubmission.id)
        )
        return list((await self.session.execute(query)).scalars())

    def add_submission(self, submission: PhotoSubmission) -> None:
        self.session.add(submission)

    def add_transition(self, transition: SubmissionTransition) -> None:
        self.session.add(transition)

    async def transitions(self, submission_id: str) -> list[SubmissionTransition]:
        query = (
            select(SubmissionTransition)
            .where(SubmissionTransition.submission_id == submission_id)
            .order_by(SubmissionTransition.id)
        )
        return list((await self.session.execute(query)).scalars())
