"""Mini-program capture (小程序采集): the collection code and the last 4 ID digits open a short-lived
session that can upload one student's graduation photo, and nothing else.

Wrong digits are counted per code (by hash) in the database, so the 15-minute lock survives a
restart and holds across API processes. The session token is returned once; only its hash is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.models import CaptureSession, CollectionCodeAttempts
from gradops_shared.collection_code import CollectionCodeError, ExpiredCode, verify_code
from gradops_shared.errors import Conflict, GradOpsError, InvalidInput, NotFound
from gradops_shared.principal import Principal


class CodeLocked(GradOpsError):
    status = 423
    code = "photo.collection_code_locked"
    title = "Locked"
    message_zh = "身份证号后4位输错次数过多，该采集码已锁定，请15分钟后再试"


class CaptureTokenInvalid(GradOpsError):
    status = 403
    code = "photo.capture_token_invalid"
    title = "Forbidden"
    message_zh = "采集会话凭证无效"


class CaptureSessionExpired(GradOpsError):
    status = 410
    code = "photo.capture_session_expired"
    title = "Gone"
    message_zh = "采集会话已过期，请重新扫描采集码"


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verify_collection_code(code: str, key: str, now: datetime) -> str:
    """The student number of a genuine, unexpired code; a 422 with a stable code otherwise."""
    try:
        return verify_code(code, key, now).student_no
    except ExpiredCode as exc:
        raise InvalidInput(
            "The collection code has expired; obtain a new one.",
            code="photo.collection_code_expired",
            message_zh="采集码已过期，请重新获取",
        ) from exc
    except CollectionCodeError as exc:
        raise InvalidInput(
            "This is not a valid collection code.",
            code="photo.collection_code_invalid",
            message_zh="采集码无效",
            extra={"reason": exc.code},
        ) from exc


async def ensure_not_locked(session: AsyncSession, code: str, now: datetime) -> None:
    attempts = await session.get(CollectionCodeAttempts, code_digest(code))
    if attempts is not None and attempts.locked_until is not None and attempts.locked_until > now:
        raise CodeLocked(
            f"Too many wrong digits; the code is locked until {attempts.locked_until.isoformat()}.",
            extra={"locked_until": attempts.locked_until.isoformat()},
        )


async def record_wrong_digits(
    session: AsyncSession, code: str, now: datetime, *, max_failures: int, lock_minutes: int
) -> tuple[int, datetime | None]:
    """Counts one wrong try (its own transaction: the refusal must still count). Returns the tries
    left and, when this one locked the code, until when."""
    digest = code_digest(code)
    attempts = await session.get(CollectionCodeAttempts, digest, with_for_update=True)
    if attempts is None:
        attempts = CollectionCodeAttempts(code_sha256=digest, failures=0, updated_at=now)
        session.add(attempts)
    if attempts.locked_until is not None and attempts.locked_until <= now:
        attempts.failures, attempts.locked_until = 0, None  # the previous lock ran out: a fresh start
    attempts.failures += 1
    attempts.updated_at = now
    if attempts.failures >= max_failures:
        attempts.locked_until = now + timedelta(minutes=lock_minutes)
        return 0, attempts.locked_until
    return max_failures - attempts.failures, None


def digits_match(student: dict[str, Any], last4: str) -> bool:
    masked = str(student.get("id_number_masked") or "")
    return len(masked) >= 4 and hmac.compare_digest(masked[-4:].upper(), last4.strip().upper())


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
        raise Conflict(
            f"Student {student['student_no']} is not 在籍 ({student.get('status')}).",
            code="photo.student_not_enrolled",
            message_zh="该学生当前不是在籍状态，不能采集照片",
        )
    now = datetime.now(UTC)
    attempts = await session.get(CollectionCodeAttempts, code_digest(code))
    if attempts is not None:
        await session.delete(attempts)  # the right digits: the count starts again
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
    session.add(capture)
    return capture, token


async def authorise_upload(
    session: AsyncSession, session_id: str, token: str | None, principal: Principal
) -> CaptureSession:
    """The session exists, is within the caller's reach, the token is its own and not expired."""
    capture = await session.get(CaptureSession, session_id)
    not_found = NotFound(
        f"No capture session {session_id}.",
        code="photo.capture_session_not_found",
        message_zh="采集会话不存在",
    )
    if capture is None:
        raise not_found
    principal.ensure_sees(capture.learning_centre, not_found)
    if not token or not hmac.compare_digest(capture.token_sha256, token_digest(token)):
        raise CaptureTokenInvalid("The capture token does not belong to this session.")
    if capture.expires_at <= datetime.now(UTC):
        raise CaptureSessionExpired("The capture session has expired; scan the collection code again.")
    return capture
