"""Mini-program capture rules (小程序采集): a collection code names a student; the last 4 ID digits
prove the holder; the session token is returned once and only its hash is kept. Pure, no I/O."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from gradops_photo.errors import COLLECTION_CODE_EXPIRED, COLLECTION_CODE_INVALID
from gradops_shared.collection_code import CollectionCodeError, ExpiredCode, verify_code


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token_sha256: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(token_sha256, token_digest(token or ""))


def verify_collection_code(code: str, key: str, now: datetime) -> str:
    """The student number of a genuine, unexpired code; a 422 with a stable code otherwise."""
    try:
        return verify_code(code, key, now).student_no
    except ExpiredCode as exc:
        raise COLLECTION_CODE_EXPIRED(
            "The collection code has expired; obtain a new one.", message_zh="采集码已过期，请重新获取"
        ) from exc
    except CollectionCodeError as exc:
        raise COLLECTION_CODE_INVALID(
            "This is not a valid collection code.", message_zh="采集码无效", extra={"reason": exc.code}
        ) from exc


def digits_match(student: dict[str, Any], last4: str) -> bool:
    masked = str(student.get("id_number_masked") or "")
    return len(masked) >= 4 and hmac.compare_digest(masked[-4:].upper(), last4.strip().upper())


def count_wrong_try(
    failures: int, locked_until: datetime | None, now: datetime, *, max_failures: int, lock_minutes: int
) -> tuple[int, datetime | None]:
    """The failures after one more wrong try and the lock it sets (a lock that ran out starts afresh)."""
    if locked_until is not None and locked_until <= now:
        failures, locked_until = 0, None
    failures += 1
    if failures >= max_failures:
        return failures, now + timedelta(minutes=lock_minutes)
    return failures, None
