from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates.models import Certificate, SerialCounter


class CertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_student_batch(self, student_no: str, batch_code: str) -> Certificate | None:
        query = select(Certificate).where(
            Certificate.student_no == student_no, Certificate.batch_code == batch_code
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def latest_for_student(self, student_no: str) -> Certificate | None:
        query = (
            select(Certificate)
            .where(Certificate.student_no == student_no)
            .order_by(Certificate.created_at.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_number(self, number: str) -> Certificate | None:
        return await self.session.get(Certificate, number)

    def add(self, certificate: Certificate) -> None:
        self.session.add(certificate)

    async def next_serial(
        self, school_code: str, education_type_code: str, year: int, level_code: str
    ) -> int:
        """Increments the counter row; its lock is held until our transaction ends."""
        key = {
            "school_code": school_code,
            "education_type_code": education_type_code,
            "year": year,
            "level_code": level_code,
        }
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(
            insert(SerialCounter).values(**key, last_serial=0).on_conflict_do_nothing()
        )
        result = await self.session.execute(
            update(SerialCounter)
            .where(*(getattr(SerialCounter, k) == v for k, v in key.items()))
            .values(last_serial=SerialCounter.last_serial + 1)
            .returning(SerialCounter.last_serial)
        )
        return int(result.scalar_one())
