"""Mini-program capture (小程序采集): the collection code and the last 4 ID digits open a short-lived
session that can upload one student's graduation photo, and nothing else.

Wrong digits are counted per code (by hash) in the database, so the 15-minute lock survives a
restart and holds across API processes. The session token is returned once; only its hash is kept.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.domain.capture import (
    code_digest,
    count_wrong_try,
    digits_match,
    token_digest,
    token_matches,
    verify_collection_code,
)
from gradops_photo.errors import (
    CAPTURE_SESSION_EXPIRED,
    CAPTURE_SESSION_NOT_FOUND,
    CAPTURE_TOKEN_INVALID,
    COLLECTION_CODE_LOCKED,
    ID_DIGITS_MISMATCH,
    STUDENT_NOT_ENROLLED,
)
from gradops_photo.models import CaptureSession, CollectionCodeAttempts, PhotoSubmission
from gradops_photo.qc.pool import QcPool
from gradops_photo.repository import PhotoRepository
from gradops_photo.schemas import CaptureSessionIn
from gradops_photo.service.registry import lookup_student
from gradops_photo.service.submissions import check_upload, store_checked
from gradops_photo.settings import PhotoSettings
from gradops_shared.db import Database
from gradops_shared.errors import GradOpsError
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


def _locked(until: datetime) -> GradOpsError:
    return COLLECTION_CODE_LOCKED(
        f"Too many wrong digits; the code is locked until {until.isoformat()}.",
        message_zh="身份证号后4位输错次数过多，该采集码已锁定，请15分钟后再试",
        extra={"locked_until": until.isoformat()},
    )


async def ensure_not_locked(session: AsyncSession, code: str, now: datetime) -> None:
    attempts = await PhotoRepository(session).code_attempts(code_digest(code))
    if attempts is not None and attempts.locked_until is not None and attempts.locked_until > now:
        raise _locked(attempts.locked_until)


async def record_wrong_digits(
    session: AsyncSession, code: str, now: datetime, *, max_failures: int, lock_minutes: int
) -> tuple[int, datetime | None]:
    """Counts one wrong try. Returns the tries left and, when this one locked the code, until when."""
    digest = code_digest(code)
    repo = PhotoRepository(session)
    attempts = await repo.code_attempts(digest, for_update=True)
    if attempts is None:
        attempts = CollectionCodeAttempts(code_sha256=digest, failures=0, updated_at=now)
        repo.add(attempts)
    attempts.failures, attempts.locked_until = count_wrong_try(
        attempts.failures, attempts.locked_until, now, max_failures=max_failures, lock_minutes=lock_minutes
    )
    attempts.updated_at = now
    if attempts.locked_until is not None:
        return 0, attempts.locked_until
    return max_failures - attempts.failures, None


async def open_session(
    session: AsyncSession,
    *,
    code: str,
    student: dict[str, Any],
    principal: Principal,
    minutes: int,
    fee_paid: bool,
    fee_amount_cents: int | None,
    fee_provider_reference: str | None,
) -> tuple[CaptureSession, str]:
    if student.get("status") != "enrolled":
        raise STUDENT_NOT_ENROLLED(
            f"Student {student['student_no']} is not 在籍 ({student.get('status')}).",
            message_zh="该学生当前不是在籍状态，不能采集照片",
        )
    now = datetime.now(UTC)
    repo = PhotoRepository(session)
    await repo.forget_code_attempts(code_digest(code))  # the right digits: the count starts again
    token = secrets.token_urlsafe(32)
    capture = CaptureSession(
        id=str(uuid.uuid4()),
        student_no=str(student["student_no"]),
        learning_centre=student.get("learning_centre"),
        token_sha256=token_digest(token),
        expires_at=now + timedelta(minutes=minutes),
        fee_paid=fee_paid,
        fee_amount_cents=fee_amount_cents,
        fee_provider_reference=fee_provider_reference,
        created_by=principal.subject,
        created_at=now,
    )
    repo.add(capture)
    return capture, token


async def start_capture(
    db: Database,
    registry: RegistryClient,
    settings: PhotoSettings,
    principal: Principal,
    payload: CaptureSessionIn,
) -> tuple[CaptureSession, str]:
    """Verifies the code and the digits and opens the session (the token is returned once).

    Takes the database, not a session: a wrong try is committed in its own transaction before the
    refusal is answered (the refusal must still count), and no connection is held while the
    registry is asked."""
    now = datetime.now(UTC)
    student_no = verify_collection_code(
        payload.collection_code, settings.collection_code_key.get_secret_value(), now
    )
    async with db.session() as session:
        await ensure_not_locked(session, payload.collection_code, now)
    student = await lookup_student(registry, principal, student_no)
    if not digits_match(student, payload.id_last4):
        async with db.transaction() as session:
            left, locked_until = await record_wrong_digits(
                session,
                payload.collection_code,
                now,
                max_failures=settings.collection_code_max_failures,
                lock_minutes=settings.collection_code_lock_minutes,
            )
        if locked_until is not None:
            raise _locked(locked_until)
        raise ID_DIGITS_MISMATCH(
            f"The last 4 ID digits do not match; {left} tries left.",
            message_zh=f"身份证号后4位不正确，还可尝试 {left} 次",
            extra={"tries_left": left},
        )
    fee = payload.fee
    async with db.transaction() as session:
        return await open_session(
            session,
            code=payload.collection_code,
            student=student,
            principal=principal,
            minutes=settings.capture_session_minutes,
            fee_paid=bool(fee and fee.paid),
            fee_amount_cents=int(fee.amount * 100) if fee else None,
            fee_provider_reference=fee.provider_reference if fee else None,
        )


async def authorise_upload(
    session: AsyncSession, session_id: str, token: str | None, principal: Principal
) -> CaptureSession:
    """The session exists, is within the caller's reach, the token is its own and not expired."""
    capture = await PhotoRepository(session).capture_session(session_id)
    not_found = CAPTURE_SESSION_NOT_FOUND(f"No capture session {session_id}.", message_zh="采集会话不存在")
    if capture is None:
        raise not_found
    principal.ensure_sees(capture.learning_centre, not_found)
    if not token_matches(capture.token_sha256, token):
        raise CAPTURE_TOKEN_INVALID("The capture token does not belong to this session.")
    if capture.expires_at <= datetime.now(UTC):
        raise CAPTURE_SESSION_EXPIRED("The capture session has expired; scan the collection code again.")
    return capture


async def upload_capture_photo(
    db: Database,
    pool: QcPool,
    settings: PhotoSettings,
    principal: Principal,
    *,
    session_id: str,
    token: str | None,
    read_photo: Callable[[], Awaitable[bytes]],
) -> PhotoSubmission:
    """The session's graduation photo: authorised first (before the body is read), then checked
    and standardised, then stored and linked to the session.

    Takes the database, not a session: QC takes seconds, and no transaction (on SQLite, the write
    lock) may be held meanwhile; the authorisation reads in its own short session."""
    async with db.session() as session:
        capture = await authorise_upload(session, session_id, token, principal)
    checked = await check_upload(pool, settings, await read_photo(), standardise=True)
    async with db.transaction() as session:
        submission = await store_checked(
            session,
            settings,
            checked,
            student_no=capture.student_no,
            kind="graduation",
            source="capture_session",
            actor=f"capture:{capture.id}",
            learning_centre=capture.learning_centre,
        )
        row = await PhotoRepository(session).capture_session(capture.id)
        if row is not None:
            row.last_submission_id = submission.id
    return submission
