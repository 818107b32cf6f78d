"""The collection code (图像采集码): a signed, expiring reference to one student.

The registry issues it; the photo service verifies it before a capture (signature, expiry, then
asks the registry that the student is still 在籍 and checks the last 4 ID digits the student types).
Pure functions, no I/O, so both services share exactly one codec.

Format: ``GC1.<payload>.<mac>``, both parts base64url without padding. The payload is compact
JSON ``{"s": student_no, "e": expiry as Unix seconds}``; the mac is HMAC-SHA256 over
``GC1.<payload>`` with the key from settings. The code names the student by number only: no name
and no ID number, in clear or otherwise, so a leaked code reveals nothing personal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "GC1"


class CollectionCodeError(ValueError):
    """Base of every reason a code is refused; `code` is a stable machine code."""

    code = "collection_code.invalid"


class MalformedCode(CollectionCodeError):
    code = "collection_code.malformed"


class BadSignature(CollectionCodeError):
    code = "collection_code.bad_signature"


class ExpiredCode(CollectionCodeError):
    code = "collection_code.expired"


@dataclass(frozen=True)
class CollectionCodeClaims:
    student_no: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(signed_part: str, key: str) -> bytes:
    if not key:
        raise ValueError("the collection-code key must not be empty")
    return hmac.new(key.encode(), signed_part.encode(), hashlib.sha256).digest()


def issue_code(student_no: str, expires_at: datetime, key: str) -> str:
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    payload = json.dumps({"s": student_no, "e": int(expires_at.timestamp())}, separators=(",", ":"))
    signed_part = f"{PREFIX}.{_b64(payload.encode())}"
    return f"{signed_part}.{_b64(_mac(signed_part, key))}"


def verify_code(code: str, key: str, now: datetime | None = None) -> CollectionCodeClaims:
    """Returns the claims of a genuine, unexpired code; raises a `CollectionCodeError` otherwise.
    The signature is checked before anything in the payload is trusted."""
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise MalformedCode("not a collection code")
    signed_part = f"{parts[0]}.{parts[1]}"
    try:
        given_mac = _unb64(parts[2])
    except (binascii.Error, ValueError) as exc:
        raise MalformedCode("the signature part is not base64url") from exc
    if not hmac.compare_digest(given_mac, _mac(signed_part, key)):
        raise BadSignature("the code's signature is not valid")
    try:
        claims = json.loads(_unb64(parts[1]))
        student_no = str(claims["s"])
        expires_at = datetime.fromtimestamp(int(claims["e"]), UTC)
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise MalformedCode("the payload is not readable") from exc
    if expires_at <= (now or datetime.now(UTC)):
        raise ExpiredCode(f"the code expired at {expires_at.isoformat()}")
    return CollectionCodeClaims(student_no=student_no, expires_at=expires_at)
