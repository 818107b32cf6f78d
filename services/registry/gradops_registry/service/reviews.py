"""前置学历复查 use cases: flag, first review (HQ), second review (province), with evidence; the
review as it stands, its evidence files, and the reviews past their deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.domain import apply_change
from gradops_registry.domain import prior_education as rules
from gradops_registry.domain.evidence import check_evidence_media_type
from gradops_registry.errors import (
    EVIDENCE_NOT_FOUND,
    PRIOR_EDUCATION_EVIDENCE_TYPE,
    PRIOR_EDUCATION_OUTCOME_MISSING,
)
from gradops_registry.models import EvidenceBlob, PriorEducationReview, Student, outbox
from gradops_registry.repository import StudentRepository
from gradops_registry.service.record import get_student, locked_student, record_status_change, snapshot_data
from gradops_shared.contracts import PriorEducationReviewed, StudentUpdated
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal
from gradops_shared.uploads import sniff

ReviewAction = Literal["flag", "first_review", "second_review"]


@dataclass(frozen=True)
class EvidenceUpload:
    evidence_type: str
    content: bytes


@dataclass(frozen=True)
class Review:
    """The student's review as it stands: the record and every step, oldest first."""

    student: Student
    steps: list[PriorEducationReview]


async def review(session: AsyncSession, principal: Principal, student_no: str) -> Review:
    student = await get_student(session, student_no, principal)
    return Review(student, await StudentRepository(session).review_steps(student_no))


async def evidence_file(
    session: AsyncSession, principal: Principal, student_no: str, sha256: str
) -> EvidenceBlob:
    """One evidence file of the student's review: only evidence filed for this student, so a
    digest alone opens nothing."""
    await get_student(session, student_no, principal)
    repo = StudentRepository(session)
    steps = await repo.review_steps(student_no)
    blob = None
    if any(e["sha256"] == sha256 for step in steps for e in step.evidence):
        blob = await repo.evidence(sha256)
    if blob is None:
        raise EVIDENCE_NOT_FOUND("No such evidence for this student.", message_zh="该学生没有此证明材料")
    return blob


async def overdue(session: AsyncSession, principal: Principal, limit: int) -> list[Student]:
    """Reviews past their 3-month deadline, within the caller's reach."""
    return await StudentRepository(session).overdue_reviews(
        principal.centre_filter(), datetime.now(UTC).date(), limit
    )


async def review_step(
    session: AsyncSession,
    principal: Principal,
    student_no: str,
    *,
    action: ReviewAction,
    outcome: Literal["passed", "failed"] | None,
    evidence: list[EvidenceUpload],
    prior_graduation_year: int | None,
    abroad: bool,
    notice_date: date | None,
    notes: str | None,
) -> Review:
    student = await locked_student(session, student_no, principal, None)
    now = datetime.now(UTC)
    types = [e.evidence_type for e in evidence]
    unknown = [t for t in types if t not in rules.EVIDENCE_TYPES]
    if unknown:
        raise PRIOR_EDUCATION_EVIDENCE_TYPE(
            f"Unknown evidence type(s) {', '.join(unknown)}; known: {', '.join(rules.EVIDENCE_TYPES)}.",
            message_zh="证明材料类型无效",
        )
    if action == "flag":
        if evidence:
            raise PRIOR_EDUCATION_EVIDENCE_TYPE(
                "Flagging takes no evidence.",
                message_zh="标记待查时无需提交材料",
            )
        step = rules.flag(
            student.prior_education_state, level=student.level, notice_date=notice_date or now.date()
        )
    else:
        if outcome is None:
            raise PRIOR_EDUCATION_OUTCOME_MISSING(
                "A review needs its outcome: passed or failed.",
                message_zh="请填写复查结论：通过或不通过",
                extra={
                    "errors": [{"field": "outcome", "in": "body", "type": "missing", "message": "required"}]
                },
            )
        if action == "first_review":
            step = rules.first_review(
                student.prior_education_state,
                passed=outcome == "passed",
                evidence_types=types,
                prior_graduation_year=prior_graduation_year,
                abroad=abroad,
                deadline=student.prior_education_deadline,
            )
        else:
            step = rules.second_review(
                student.prior_education_state, passed=outcome == "passed", evidence_types=types
            )

    stored: list[dict[str, object]] = []
    repo = StudentRepository(session)
    for upload in evidence:
        blob = await repo.store_evidence(upload.content, check_evidence_media_type(sniff(upload.content)))
        stored.append(
            {
                "evidence_type": upload.evidence_type,
                "media_type": blob.media_type,
                "size": blob.size_bytes,
                "sha256": blob.sha256,
            }
        )

    repo.add(
        PriorEducationReview(
            student_no=student_no,
            stage=step.stage,
            outcome=step.outcome,
            state_after=step.state,
            evidence=stored,
            prior_graduation_year=prior_graduation_year,
            abroad=abroad,
            notes=notes,
            deadline=step.deadline,
            actor=principal.subject,
            created_at=now,
        )
    )
    previous_status = student.status
    student.prior_education_state = step.state
    student.prior_education_deadline = step.deadline
    student.version += 1
    student.updated_at = now
    await add_event(
        session,
        outbox,
        PriorEducationReviewed(
            student_no=student_no,
            stage=step.stage,
            outcome=step.outcome,
            formal_status=step.state in ("none", "passed"),
            deadline=step.deadline,
        ),
    )
    if step.state == "failed":
        # 复审不通过: 取消学籍, handled as a withdrawal.
        student.status = apply_change(previous_status, "cancel")
        await record_status_change(
            session,
            student,
            previous_status,
            change_type="cancel",
            reason="前置学历复审未通过，取消学籍（按退学处理） prior-education second review failed",
            actor=principal.subject,
        )
    await add_event(session, outbox, snapshot_data(StudentUpdated, student))
    await repo.flush()
    return Review(student, await repo.review_steps(student_no))
