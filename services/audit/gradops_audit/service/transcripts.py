"""Transcripts from the LMS: each one replaces the student's previous one and re-audits the
student's open application. Never commits."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.errors import (
    TRANSCRIPT_DUPLICATE_COURSE,
    TRANSCRIPT_DUPLICATE_STUDENT,
    TRANSCRIPT_NOT_FOUND,
)
from gradops_audit.models import Transcript
from gradops_audit.repository import AuditRepository
from gradops_audit.service.auditing import audit_applications, reaudit_student
from gradops_audit.service.students import ensure_all_visible, ensure_visible, known_student
from gradops_audit.settings import AuditSettings
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


def _check_transcript(student_no: str, data: schemas.TranscriptIn) -> None:
    counts = Counter(c.code for c in data.courses)
    duplicates = sorted(code for code, n in counts.items() if n > 1)
    if duplicates:
        raise TRANSCRIPT_DUPLICATE_COURSE(
            f"Course codes repeat in the transcript of {student_no}: {', '.join(duplicates)}.",
            message_zh=f"成绩单中课程代码重复：{', '.join(duplicates)}",
        )


async def put_transcript(
    session: AsyncSession,
    student_no: str,
    data: schemas.TranscriptIn,
    actor: str,
    settings: AuditSettings,
    *,
    reaudit: bool = True,
) -> Transcript:
    _check_transcript(student_no, data)
    # Insert-if-absent, then the locked row: two first transcripts of one student at once (a retry,
    # a bulk PUT next to a single one) make one row, the later one winning, never a duplicate key.
    transcript = await AuditRepository(session).transcript_for_update(student_no, actor)
    transcript.courses = [c.model_dump(exclude_none=True) for c in data.courses]
    transcript.thesis_score = data.thesis.score if data.thesis else None
    transcript.thesis_similarity = data.thesis.similarity if data.thesis else None
    transcript.english_exam = data.degree_english.exam if data.degree_english else None
    transcript.english_score = data.degree_english.score if data.degree_english else None
    transcript.english_passed = data.degree_english.passed if data.degree_english else None
    transcript.source = data.source
    transcript.updated_by = actor
    transcript.updated_at = datetime.now(UTC)
    if reaudit:
        await reaudit_student(session, student_no, "TranscriptUpdated", settings)
    return transcript


async def put_student_transcript(
    session: AsyncSession,
    registry: RegistryClient,
    principal: Principal,
    student_no: str,
    data: schemas.TranscriptIn,
    settings: AuditSettings,
) -> Transcript:
    """One student's transcript (the student learnt from the registry if new); re-audits."""
    await known_student(session, registry, principal, student_no)
    return await put_transcript(session, student_no, data, principal.subject, settings)


async def get_transcript(session: AsyncSession, principal: Principal, student_no: str) -> Transcript:
    await ensure_visible(session, principal, student_no)
    transcript = await AuditRepository(session).transcript(student_no)
    if transcript is None:
        raise TRANSCRIPT_NOT_FOUND("No transcript yet.", message_zh="尚未收到该学生的成绩单")
    return transcript


async def put_transcripts(
    session: AsyncSession, principal: Principal, data: schemas.TranscriptBulkIn, settings: AuditSettings
) -> tuple[int, int]:
    """Many transcripts at once, all or nothing; then each student's open application is re-audited
    in one bulk run. Returns (transcripts stored, applications re-audited)."""
    numbers = [t.student_no for t in data.transcripts]
    if len(set(numbers)) != len(numbers):
        raise TRANSCRIPT_DUPLICATE_STUDENT("A student appears twice.", message_zh="同一学生的成绩单重复出现")
    await ensure_all_visible(session, principal, numbers)
    for item in data.transcripts:
        await put_transcript(session, item.student_no, item, principal.subject, settings, reaudit=False)
    await session.flush()
    open_apps = await AuditRepository(session).applications_of_students(numbers)
    todo = [a for apps in open_apps.values() for a in apps if a.state == "open"]
    stats = await audit_applications(session, todo, trigger="TranscriptUpdated", settings=settings)
    return len(numbers), stats.audited
