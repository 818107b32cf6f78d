from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class CertificateOut(BaseModel):
    number: str
    student_no: str
    batch_code: str
    level: str
    issue_date: date
    graduation_date: date
    status: str
    created_at: datetime
