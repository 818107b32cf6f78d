from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from gradops_certificates.api.common import PAGE_HEADERS, AnyNumber, Cursor, Number, cursor_int, offer_next
from gradops_certificates.api.common import settings_of as settings_from
from gradops_certificates.domain.documents import LEVEL_ZH
from gradops_certificates.models import ShareCode
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.schemas import (
    ShareCodeIn,
    ShareCodeOut,
    VerificationLookupOut,
    VerificationLookupPage,
    VerificationOut,
    VerifiedCertificateOut,
)
from gradops_certificates.service import verification as use_case
from gradops_certificates.service.replacement import HqOnly
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.errors import InvalidInput, NotFound
from gradops_shared.logging import current_request_id
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from
from gradops_shared.text import PlainText

Code = Annotated[str, Path(min_length=4, max_length=16, pattern=r"^[0-9A-Za-z]+$", description="Share code")]
RESULT_ZH = {
    "valid": "有效",
    "not_yet_valid": "尚未生效（未到发证日期）",
    "superseded": "已由毕业证明书替代",
    "revoked": "已撤销",
    "unknown": "查无此证",
}


def _caller(request: Request) -> use_case.Caller:
    # The gateway appends the peer it saw last; anything before it came from the client itself.
    values = request.headers.getlist("x-forwarded-for")
    forwarded = values[-1].split(",")[-1].strip() if values else ""
    return use_case.Caller(
        client=forwarded or (request.client.host if request.client else None),
        user_agent=request.headers.get("user-agent"),
        request_id=current_request_id(),
    )


def verification_out(found: use_case.Verification) -> VerificationOut:
    shown = found.certificate
    return VerificationOut(
        result=found.result,
        result_label_zh=RESULT_ZH[found.result],
        number=found.number,
        certificate=None
        if shown is None
        else VerifiedCertificateOut(
            kind=shown.kind,
            masked_name=shown.masked_name,
            school_name=shown.school_name,
            level=shown.level,
            level_label_zh=LEVEL_ZH.get(shown.level, shown.level),
            major=shown.major,
            graduation_date=shown.graduation_date,
            issue_date=shown.issue_date,
        ),
    )


def share_code_out(share: ShareCode, settings: CertificatesSettings) -> ShareCodeOut:
    return ShareCodeOut(
        code=share.code,
        number=share.number,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        valid=share.revoked_at is None and share.expires_at > datetime.now(UTC),
        verification_url=use_case.verification_url(settings, share.code),
        qr_png_url=f"/api/v1/share-codes/{share.code}/qr.png",
    )


def router() -> APIRouter:
    api = APIRouter()

    # Public: no `requires`, so no security requirement in the spec; the gateway lets these through
    # without a key and rate-limits them per client.
    @api.get(
        "/verify/{number}",
        response_model=VerificationOut,
        summary="Public verification by number and holder's name (no key): valid, not_yet_valid "
        "(before the issue date), superseded, revoked or unknown; a wrong name answers unknown",
    )
    async def verify_certificate(
        number: AnyNumber,
        request: Request,
        name: Annotated[PlainText, Query(min_length=1, max_length=100, description="The holder's full name")],
    ) -> VerificationOut:
        async with runtime_from(request).db.transaction() as session:
            found = await use_case.verify_number(
                session, number, name, _caller(request), settings_from(request)
            )
        if isinstance(found, InvalidInput):
            raise found  # after the commit: the refused lookup stays logged
        return verification_out(found)

    @api.get(
        "/verify/codes/{code}",
        response_model=VerificationOut,
        summary="Public verification by the holder's share code (no key), while the code is valid",
    )
    async def verify_share_code(code: Code, request: Request) -> VerificationOut:
        runtime = runtime_from(request)
        async with runtime.db.transaction() as session:
            found = await use_case.verify_code(session, code, _caller(request), settings_from(request))
        if isinstance(found, NotFound):
            raise found  # after the commit: the refused lookup stays logged
        return verification_out(found)

    @api.post(
        "/certificates/{number}/share-codes",
        response_model=ShareCodeOut,
        status_code=201,
        summary="Create a share code (在线验证码) for the holder, valid for `valid_days`",
    )
    async def create_share_code(
        number: Number,
        body: ShareCodeIn,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
    ) -> ShareCodeOut:
        settings = settings_from(request)
        async with runtime_from(request).db.transaction() as session:
            share = await use_case.create_share_code(session, number, body.valid_days, principal, settings)
            return share_code_out(share, settings)

    @api.get("/share-codes/{code}", response_model=ShareCodeOut, summary="A share code and its validity")
    async def get_share_code(
        code: Code, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> ShareCodeOut:
        async with runtime_from(request).db.session() as session:
            share = await use_case.owned_share_code(session, code, principal)
            return share_code_out(share, settings_from(request))

    @api.post(
        "/share-codes/{code}/extension",
        response_model=ShareCodeOut,
        summary="Extend a valid share code by `valid_days` (capped at the longest validity)",
    )
    async def extend_share_code(
        code: Code,
        body: ShareCodeIn,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
    ) -> ShareCodeOut:
        settings = settings_from(request)
        async with runtime_from(request).db.transaction() as session:
            share = await use_case.extend_share_code(session, code, body.valid_days, principal, settings)
            return share_code_out(share, settings)

    @api.post("/share-codes/{code}/revocation", response_model=ShareCodeOut, summary="Revoke a share code")
    async def revoke_share_code(
        code: Code, request: Request, principal: Annotated[Principal, requires("certificates:write")]
    ) -> ShareCodeOut:
        async with runtime_from(request).db.transaction() as session:
            share = await use_case.revoke_share_code(session, code, principal)
            return share_code_out(share, settings_from(request))

    @api.get(
        "/share-codes/{code}/qr.png",
        summary="QR image of the share code's verification URL (it carries nothing else)",
        responses={200: {"content": {"image/png": {}}}},
    )
    async def share_code_qr(
        code: Code, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> Response:
        async with runtime_from(request).db.session() as session:
            share = await use_case.owned_share_code(session, code, principal)
        png = use_case.qr_png(use_case.verification_url(settings_from(request), share.code))
        return Response(png, media_type="image/png")

    @api.get(
        "/verification-lookups",
        response_model=VerificationLookupPage,
        summary="The public verification log, newest first (HQ only): every lookup, answered or not; "
        "cursor pages",
        responses=PAGE_HEADERS,
    )
    async def list_verification_lookups(
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("certificates:read")],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Cursor = None,
    ) -> VerificationLookupPage:
        if not principal.is_hq:
            raise HqOnly("The verification log is HQ's (it holds the verifiers' addresses).")
        before = cursor_int(cursor)
        async with runtime_from(request).db.session() as session:
            rows = await CertificateRepository(session).lookups(limit + 1, before)
        page = rows[:limit]
        token = offer_next(request, response, str(page[-1].id) if len(rows) > limit else None)
        return VerificationLookupPage(
            items=[VerificationLookupOut.model_validate(row, from_attributes=True) for row in page],
            next_cursor=token,
        )

    return api
