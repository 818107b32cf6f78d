from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request, Response, UploadFile

from gradops_certificates.domain.distribution import STATE_LABELS_ZH
from gradops_certificates.domain.documents import KIND_ZH
from gradops_certificates.domain.files import MAX_SCAN_BYTES
from gradops_certificates.models import Certificate
from gradops_certificates.schemas import CertificateOut, DistributionOut
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.errors import InvalidInput, Problem
from gradops_shared.text import InvalidCursor, decode_cursor, encode_cursor

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
Number = Annotated[
    str,
    Path(
        min_length=16,
        max_length=18,
        pattern=r"^[0-9A-Za-z]+$",
        description="证书编号: 18-digit 毕业证书, 17-digit legacy, 16-digit 学位证书, or a 补证号",
    ),
]

# The public verification takes whatever it is given, so that a malformed number is answered with
# its reason and logged like every other lookup.
AnyNumber = Annotated[str, Path(min_length=1, max_length=40, description="证书编号 as the verifier typed it")]


def settings_of(request: Request) -> CertificatesSettings:
    settings: CertificatesSettings = request.app.state.settings
    return settings


def today() -> date:
    return datetime.now(UTC).date()


def certificate_out(certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        number=certificate.number,
        student_no=certificate.student_no,
        batch_code=certificate.batch_code,
        level=certificate.level,
        issue_date=certificate.issue_date,
        graduation_date=certificate.graduation_date,
        status=certificate.status,
        created_at=certificate.created_at,
        kind=certificate.kind,
        kind_label_zh=KIND_ZH.get(certificate.kind, certificate.kind),
        learning_centre=certificate.learning_centre,
        original_number=certificate.original_number,
        superseded_by=certificate.superseded_by,
        revoked_at=certificate.revoked_at,
        revoked_reason=certificate.revoked_reason,
        distribution=DistributionOut(
            state=certificate.distribution_state,
            state_label_zh=STATE_LABELS_ZH.get(
                certificate.distribution_state, certificate.distribution_state
            ),
            notified_on=certificate.notified_on,
            collection_due=certificate.collection_due,
            collected_on=certificate.collected_on,
            handover_due=certificate.handover_due,
            handed_on=certificate.handed_on,
            receipt_sha256=certificate.receipt_sha256,
            chsi_checked_at=certificate.chsi_confirmed_at,
            chsi_matches=certificate.chsi_matches,
        ),
    )


# ---- cursor pages -----------------------------------------------------------------------------
# Every list answers the suite's page shape `{"items": [...], "next_cursor": ...}` (as GET /students).
# The same cursor is also offered in headers, `X-Next-Cursor` and an RFC 8288 `Link: <…>; rel="next"`,
# for clients that page by headers. next_cursor null and no headers: this was the last page.

Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="next_cursor of the previous page; omit for the first page",
    ),
]
PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "X-Next-Cursor": {
                "description": "Opaque cursor of the next page (pass as ?cursor=); absent on the last page",
                "schema": {"type": "string"},
            },
            "Link": {
                "description": 'The next page as `<path?query>; rel="next"`; absent on the last page',
                "schema": {"type": "string"},
            },
        }
    }
}


# A scan upload (signed receipt, replacement form): too large or not a PDF/JPEG/PNG by its bytes.
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "The scan exceeds 10 MB (certificates.scan_too_large)"},
    415: {"model": Problem, "description": "Not a PDF, JPEG or PNG (certificates.scan_format)"},
}


async def read_scan(upload: UploadFile) -> bytes:
    """At most one byte more than a scan may hold: a huge upload is refused without being read whole."""
    return await upload.read(MAX_SCAN_BYTES + 1)


def cursor_invalid() -> InvalidInput:
    return InvalidInput(
        "cursor is not one this API returned (use the next_cursor of the previous page).",
        code="certificates.cursor_invalid",
        message_zh="分页游标无效",
    )


def read_cursor(cursor: str | None, parts: int = 1) -> list[str] | None:
    """The position a cursor names, split into `parts` fields; a cursor this API did not issue is
    answered 422 certificates.cursor_invalid, never a 500."""
    if cursor is None:
        return None
    try:
        position = decode_cursor(cursor)
    except InvalidCursor:
        raise cursor_invalid() from None
    fields = position.split("|", parts - 1)
    if len(fields) != parts or not all(fields[1:]):
        raise cursor_invalid()
    return fields


def cursor_int(cursor: str | None) -> int | None:
    fields = read_cursor(cursor)
    if fields is None:
        return None
    if not fields[0].isdecimal() or len(fields[0]) > 18:
        raise cursor_invalid()
    return int(fields[0])


def cursor_time(cursor: str | None) -> tuple[datetime, str] | None:
    fields = read_cursor(cursor, 2)
    if fields is None:
        return None
    try:
        moment = datetime.fromisoformat(fields[0])
    except ValueError:
        raise cursor_invalid() from None
    if moment.tzinfo is None:
        raise cursor_invalid()
    return moment, fields[1]


def offer_next(request: Request, response: Response, position: str | None) -> str | None:
    """The page's `next_cursor` (`position` = the page's last key; None on the last page), also set
    in the next-page headers."""
    if position is None:
        return None
    token = encode_cursor(position)
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", token)]
    response.headers["x-next-cursor"] = token
    response.headers["link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return token
