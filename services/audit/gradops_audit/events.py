"""Events the audit consumes: each keeps a fact current and re-audits the student's open
application at once, so a registrar never looks at a stale audit.

It emits `AuditFailed` (an outcome turned to failure) and `AuditPassed` (HQ's sign-off, or the
automatic one), written to its outbox by `service.auditing` and `service.sign_offs`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit.models import PhotoFact
from gradops_audit.repository import AuditRepository
from gradops_audit.service.auditing import reaudit_student
from gradops_audit.service.students import upsert_student
from gradops_audit.settings import AuditSettings
from gradops_shared.consumer import Handler
from gradops_shared.contracts import (
    TOPICS,
    AuditFailed,
    AuditPassed,
    EventData,
    EventEnvelope,
    IdentityFlagChanged,
    PhotoApproved,
    PhotoChsiStatusChanged,
    PhotoRejected,
    PhotoReopened,
    PriorEducationReviewed,
    StudentRegistered,
    StudentSnapshot,
    StudentStatusChanged,
    StudentUpdated,
)

CONSUMES = (TOPICS["registry"], TOPICS["photo"])
EMITS = (AuditFailed, AuditPassed)


async def apply_event(session: AsyncSession, data: EventData) -> bool:
    """Applies one fact; True when the student's audit may change."""
    repo = AuditRepository(session)
    now = datetime.now(UTC)
    if isinstance(data, StudentSnapshot):
        await upsert_student(session, data)
        return True
    student = await repo.student(data.student_no)
    if isinstance(data, StudentStatusChanged):
        if student is not None:
            student.status, student.updated_at = data.to_status, now
        return True
    if isinstance(data, PriorEducationReviewed):
        if student is not None:
            student.formal_status, student.updated_at = data.formal_status, now
        return True
    if isinstance(data, IdentityFlagChanged):
        if student is not None:
            student.identity_in_doubt, student.updated_at = data.in_doubt, now
        return True
    if isinstance(data, PhotoApproved | PhotoRejected | PhotoReopened | PhotoChsiStatusChanged):
        await _apply_photo(repo, data, now)
        return True
    return False


async def _apply_photo(
    repo: AuditRepository,
    data: PhotoApproved | PhotoRejected | PhotoReopened | PhotoChsiStatusChanged,
    now: datetime,
) -> None:
    photo = await repo.photo(data.student_no, data.kind)
    submission = str(data.submission_id)
    if isinstance(data, PhotoApproved):
        if photo is None:
            photo = PhotoFact(student_no=data.student_no, kind=data.kind)
            repo.add(photo)
        if photo.submission_id != submission:
            photo.chsi_state = None  # a new photo: CHSI has not reported on it yet
        photo.submission_id, photo.approved, photo.sha256, photo.updated_at = (
            submission,
            True,
            data.sha256,
            now,
        )
        return
    if isinstance(data, PhotoChsiStatusChanged):
        # What CHSI holds for the student's photo of this kind (照片存疑 when it rejects it).
        if photo is None:
            photo = PhotoFact(
                student_no=data.student_no, kind=data.kind, submission_id=submission, approved=False
            )
            repo.add(photo)
        photo.chsi_state, photo.updated_at = data.chsi_state, now
        return
    if photo is None or photo.submission_id != submission:
        return  # a rejection or re-opening of another submission leaves the approved photo in place
    # Rejected, or re-opened for 补拍/重拍: no longer an approved photo.
    photo.approved, photo.chsi_state, photo.updated_at = False, None, now


def handlers(settings: AuditSettings) -> Mapping[str, Handler]:
    async def on_fact(session: AsyncSession, _envelope: EventEnvelope, data: EventData) -> None:
        if await apply_event(session, data):
            await reaudit_student(session, data.student_no, data.event_type, settings)

    return {
        contract.event_type: on_fact
        for contract in (
            StudentRegistered,
            StudentUpdated,
            StudentStatusChanged,
            PriorEducationReviewed,
            IdentityFlagChanged,
            PhotoApproved,
            PhotoRejected,
            PhotoReopened,
            PhotoChsiStatusChanged,
        )
    }
