from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit.models import ApprovedPhoto, Audit, AuditOutcome, KnownStudent


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def student(self, student_no: str) -> KnownStudent | None:
        return await self.session.get(KnownStudent, student_no)

    async def approved_photo(self, student_no: str, kind: str) -> ApprovedPhoto | None:
        return await self.session.get(ApprovedPhoto, (student_no, kind))

    async def outcome(self, student_no: str) -> AuditOutcome | None:
        query = select(AuditOutcome).where(AuditOutcome.student_no == student_no).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def latest_audit(self, student_no: str) -> Audit | None:
        query = select(Audit).where(Audit.student_no == student_no).order_by(Audit.created_at.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, row: KnownStudent | ApprovedPhoto | Audit | AuditOutcome) -> None:
        self.session.add(row)
