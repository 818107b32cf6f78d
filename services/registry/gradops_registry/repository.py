from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.models import StatusChange, Student


class StudentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, student_no: str, *, for_update: bool = False) -> Student | None:
        query = select(Student).where(Student.student_no == student_no)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, student: Student) -> None:
        self.session.add(student)

    def add_status_change(self, change: StatusChange) -> None:
        self.session.add(change)

    async def status_history(self, student_no: str) -> list[StatusChange]:
        query = select(StatusChange).where(StatusChange.student_no == student_no).order_by(StatusChange.id)
        return list((await self.session.execute(query)).scalars())
