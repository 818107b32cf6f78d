"""身份存疑: set from CHSI feedback, or cleared after a recorded review."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.errors import IDENTITY_DOUBT_KIND_MISSING, IDENTITY_NOT_IN_DOUBT
from gradops_registry.models import IdentityFlagChange, Student, outbox
from gradops_registry.repository import StudentRepository
from gradops_registry.schemas import IdentityFlagIn
from gradops_registry.service.record import locked_student
from gradops_shared.contracts import IdentityFlagChanged
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal


async def set_identity_flag(
    session: AsyncSession, principal: Principal, student_no: str, body: IdentityFlagIn
) -> Student:
    student = await locked_student(session, student_no, principal, None)
    if body.in_doubt and body.kind is None:
        raise IDENTITY_DOUBT_KIND_MISSING(
            "Setting the flag needs the kind CHSI reported: failed, uncertain or abnormal.",
            message_zh="设置身份存疑须注明类型：未通过、不确定或异常",
            extra={"errors": [{"field": "kind", "in": "body", "type": "missing", "message": "required"}]},
        )
    if not body.in_doubt and not student.identity_in_doubt:
        raise IDENTITY_NOT_IN_DOUBT(
            "The student's identity is not in doubt; there is nothing to clear.",
            message_zh="该学生未被标记为身份存疑",
        )
    now = datetime.now(UTC)
    kind = body.kind if body.in_doubt else None
    student.identity_in_doubt, student.identity_doubt_kind = body.in_doubt, kind
    student.version += 1
    student.updated_at = now
    repo = StudentRepository(session)
    repo.add(
        IdentityFlagChange(
            student_no=student_no,
            in_doubt=body.in_doubt,
            kind=kind,
            reason=body.reason,
            actor=principal.subject,
            created_at=now,
        )
    )
    await add_event(
        session,
        outbox,
        IdentityFlagChanged(student_no=student_no, in_doubt=body.in_doubt, kind=kind, reason=body.reason),
    )
    await repo.flush()
    return student
