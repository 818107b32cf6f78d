from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditCheckOut(BaseModel):
    code: str
    passed: bool
    measured: Any
    expected: Any
    message_zh: str
    message_en: str
    hint_zh: str | None
    hint_en: str | None


class AuditOut(BaseModel):
    id: str
    student_no: str
    batch_code: str
    result: str
    passed: bool
    checks: list[AuditCheckOut]
    inputs_digest: str
    trigger: str
    created_at: datetime
