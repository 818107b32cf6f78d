from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gradops_shared.db import UtcDateTime, service_metadata
from gradops_shared.outbox import inbox_table, outbox_table

SCHEMA = "certificates"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("student_no", "batch_code"),)

    number: Mapped[str] = mapped_column(String(18), primary_key=True)
    student_no: Mapped[str] = mapped_column(String(32), index=True)
    batch_code: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(40))
    serial: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[date] = mapped_column(Date)
    graduation_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    audit_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SerialCounter(Base):
    """Last serial used per (school, type, year, level). Taken under a row lock in the same
    transaction as the certificate, so serials are unique and gapless."""

    __tablename__ = "serial_counters"

    school_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    education_type_code: Mapped[str] = mapped_column(String(1), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    level_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)
