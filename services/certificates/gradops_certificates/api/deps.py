"""What the certificates handlers declare: scoped principals, the typed settings, the path and
query parameters they share, and the cursor-page headers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Path, Request, Response, UploadFile

from gradops_certificates.errors import SCAN_TOO_LARGE
from gradops_certificates.service.scans import MAX_SCAN_BYTES
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.edge import cursor_query, settings_of
from gradops_shared.errors import Problem
from gradops_shared.principal import Principal, requires
from gradops_shared.text import PlainText
from gradops_shared.uploads import read_limited

Reader = Annotated[Principal, requires("certificates:read")]
Writer = Annotated[Principal, requires("certificates:write")]
SettingsDep = Annotated[CertificatesSettings, Depends(settings_of)]

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
AnyNumber = Annotated[
    PlainText, Path(min_length=1, max_length=40, description="证书编号 as the verifier typed it")
]
BatchCode = Annotated[str, Path(pattern=r"^\d{6}$", description="Graduation batch, e.g. 202307")]
ShareCodeValue = Annotated[
    str, Path(min_length=4, max_length=16, pattern=r"^[0-9A-Za-z]+$", description="Share code")
]
# A UUID: anything else cannot name an application (and a NUL byte would reach PostgreSQL's text).
ReplacementId = Annotated[
    str,
    Path(min_length=36, max_length=36, pattern=r"^[0-9A-Fa-f-]{36}$", description="Application id (UUID)"),
]


def today() -> date:
    return datetime.now(UTC).date()


# ---- cursor pages -----------------------------------------------------------------------------
# Every list answers the suite's page shape `{"items": [...], "next_cursor": ...}` (as GET /students).
# The same cursor is also offered in headers, `X-Next-Cursor` and an RFC 8288 `Link: <…>; rel="next"`,
# for clients that page by headers. next_cursor null and no headers: this was the last page.

Cursor = Annotated[str | None, cursor_query("next_cursor of the previous page; omit for the first page")]
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


async def read_scan(upload: UploadFile, field: str) -> bytes:
    """The scan's bytes; a larger upload is refused (413) without being read whole."""
    return await read_limited(upload, MAX_SCAN_BYTES, SCAN_TOO_LARGE, what=f"`{field}` scan")


# A stored scan as uploaded.
SCAN_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}
}


def offer_next(request: Request, response: Response, token: str | None) -> str | None:
    """The page's `next_cursor` (None on the last page), also set in the next-page headers."""
    if token is None:
        return None
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", token)]
    response.headers["x-next-cursor"] = token
    response.headers["link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return token
