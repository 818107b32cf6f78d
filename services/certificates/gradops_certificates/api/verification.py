from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gradops_certificates.api.deps import (
    PAGE_HEADERS,
    AnyNumber,
    Cursor,
    Number,
    Reader,
    SettingsDep,
    ShareCodeValue,
    Writer,
    offer_next,
)
from gradops_certificates.api.views import share_code_out, verification_out
from gradops_certificates.schemas import (
    ShareCodeIn,
    ShareCodeOut,
    VerificationLookupOut,
    VerificationLookupPage,
    VerificationOut,
)
from gradops_certificates.service import verification
from gradops_shared.edge import RuntimeDep, SessionDep, WriteSessionDep
from gradops_shared.logging import current_request_id
from gradops_shared.text import PlainText

router = APIRouter()


def _caller(request: Request) -> verification.Caller:
    # The gateway appends the peer it saw last; anything before it came from the client itself.
    values = request.headers.getlist("x-forwarded-for")
    forwarded = values[-1].split(",")[-1].strip() if values else ""
    return verification.Caller(
        client=forwarded or (request.client.host if request.client else None),
        user_agent=request.headers.get("user-agent"),
        request_id=current_request_id(),
    )


# Public: no `requires`, so no security requirement in the spec; the gateway lets these through
# without a key and rate-limits them per client. Each lookup commits its own log entry, refused or
# not (the use case owns that transaction), so these take the runtime, not a session.
@router.get(
    "/verify/{number}",
    response_model=VerificationOut,
    summary="Public verification by number and holder's name (no key): valid, not_yet_valid "
    "(before the issue date), superseded, revoked or unknown; a wrong name answers unknown",
)
async def verify_certificate(
    number: AnyNumber,
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    name: Annotated[PlainText, Query(min_length=1, max_length=100, description="The holder's full name")],
) -> VerificationOut:
    found = await verification.verify_number_logged(runtime.db, number, name, _caller(request), settings)
    return verification_out(found)


@router.get(
    "/verify/codes/{code}",
    response_model=VerificationOut,
    summary="Public verification by the holder's share code (no key), while the code is valid",
)
async def verify_share_code(
    code: ShareCodeValue, request: Request, runtime: RuntimeDep, settings: SettingsDep
) -> VerificationOut:
    return verification_out(
        await verification.verify_code_logged(runtime.db, code, _caller(request), settings)
    )


@router.post(
    "/certificates/{number}/share-codes",
    response_model=ShareCodeOut,
    status_code=201,
    summary="Create a share code (在线验证码) for the holder, valid for `valid_days`",
)
async def create_share_code(
    number: Number, body: ShareCodeIn, session: WriteSessionDep, principal: Writer, settings: SettingsDep
) -> ShareCodeOut:
    share = await verification.create_share_code(session, number, body.valid_days, principal, settings)
    return share_code_out(share, settings)


@router.get("/share-codes/{code}", response_model=ShareCodeOut, summary="A share code and its validity")
async def get_share_code(
    code: ShareCodeValue, session: SessionDep, principal: Reader, settings: SettingsDep
) -> ShareCodeOut:
    return share_code_out(await verification.owned_share_code(session, code, principal), settings)


@router.post(
    "/share-codes/{code}/extension",
    response_model=ShareCodeOut,
    summary="Extend a valid share code by `valid_days` (capped at the longest validity)",
)
async def extend_share_code(
    code: ShareCodeValue,
    body: ShareCodeIn,
    session: WriteSessionDep,
    principal: Writer,
    settings: SettingsDep,
) -> ShareCodeOut:
    share = await verification.extend_share_code(session, code, body.valid_days, principal, settings)
    return share_code_out(share, settings)


@router.post("/share-codes/{code}/revocation", response_model=ShareCodeOut, summary="Revoke a share code")
async def revoke_share_code(
    code: ShareCodeValue, session: WriteSessionDep, principal: Writer, settings: SettingsDep
) -> ShareCodeOut:
    return share_code_out(await verification.revoke_share_code(session, code, principal), settings)


@router.get(
    "/share-codes/{code}/qr.png",
    summary="QR image of the share code's verification URL (it carries nothing else)",
    responses={200: {"content": {"image/png": {}}}},
)
async def share_code_qr(
    code: ShareCodeValue, session: SessionDep, principal: Reader, settings: SettingsDep
) -> Response:
    return Response(
        await verification.share_code_qr(session, code, principal, settings), media_type="image/png"
    )


@router.get(
    "/verification-lookups",
    response_model=VerificationLookupPage,
    summary="The public verification log, newest first (HQ only): every lookup, answered or not; "
    "cursor pages",
    responses=PAGE_HEADERS,
)
async def list_verification_lookups(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> VerificationLookupPage:
    page = await verification.lookups(session, principal, cursor, limit)
    return VerificationLookupPage(
        items=[VerificationLookupOut.model_validate(row, from_attributes=True) for row in page.items],
        next_cursor=offer_next(request, response, page.next_cursor),
    )
