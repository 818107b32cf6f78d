from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from gradops_certificates.api.deps import (
    PAGE_HEADERS,
    SCAN_CONTENT,
    UPLOAD_RESPONSES,
    BatchCode,
    Cursor,
    Number,
    Reader,
    SettingsDep,
    Writer,
    offer_next,
    read_scan,
    today,
)
from gradops_certificates.api.views import certificate_out, event_out, overdue_by_centre
from gradops_certificates.domain.distribution import DistributionEventKind
from gradops_certificates.schemas import (
    BatchNoticeIn,
    BatchNoticeOut,
    CentreCode,
    CertificateOut,
    DistributionEventPage,
    OverduePage,
)
from gradops_certificates.service import distribution
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.text import IsoDate, MultilineText

router = APIRouter()


@router.post(
    "/certificates/{number}/distribution-events",
    response_model=CertificateOut,
    status_code=201,
    summary="Record a distribution step: notified, collected_by_centre, handed_to_student "
    "(with the signed receipt scan), chsi_checked (the student compared it with CHSI); "
    "occurred_on may not be in the future (China time)",
    responses=UPLOAD_RESPONSES,
)
async def record_distribution_event(
    number: Number,
    session: WriteSessionDep,
    principal: Writer,
    settings: SettingsDep,
    event: Annotated[DistributionEventKind, Form()],
    occurred_on: Annotated[date | None, Form(description="Defaults to today (UTC)")] = None,
    explanation: Annotated[
        MultilineText | None,
        Form(max_length=4000, description="Required when the centre collects late"),
    ] = None,
    matches_chsi: Annotated[bool | None, Form(description="chsi_checked: does it match CHSI?")] = None,
    detail: Annotated[MultilineText | None, Form(max_length=4000)] = None,
    receipt: Annotated[UploadFile | None, File(description="Signed receipt scan: PDF, JPEG or PNG")] = None,
) -> CertificateOut:
    given = distribution.DistributionInput(
        event=event,
        occurred_on=occurred_on or today(),
        explanation=explanation,
        receipt=await read_scan(receipt, "receipt") if receipt is not None else None,
        matches_chsi=matches_chsi,
        detail=detail,
    )
    certificate, _ = await distribution.record_event(session, number, given, principal, settings)
    return certificate_out(certificate)


@router.post(
    "/certificate-batches/{batch_code}/notices",
    response_model=BatchNoticeOut,
    summary="HQ notifies the centres that a batch's certificates can be collected (15-day deadline)",
)
async def notify_batch(
    batch_code: BatchCode,
    body: BatchNoticeIn,
    session: WriteSessionDep,
    principal: Writer,
    settings: SettingsDep,
) -> BatchNoticeOut:
    day = body.occurred_on or today()
    notified = await distribution.notify_batch(
        session, batch_code, body.learning_centre, day, principal, settings
    )
    return BatchNoticeOut(
        batch_code=batch_code,
        notified=len(notified),
        collection_due=day + timedelta(days=settings.collection_days),
        numbers=[c.number for c in notified],
    )


@router.get(
    "/certificates/{number}/distribution-events",
    response_model=DistributionEventPage,
    summary="The certificate's distribution history, oldest first; cursor pages",
    responses=PAGE_HEADERS,
)
async def list_distribution_events(
    number: Number,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> DistributionEventPage:
    page = await distribution.history(session, number, principal, cursor, limit)
    return DistributionEventPage(
        items=[event_out(e) for e in page.items], next_cursor=offer_next(request, response, page.next_cursor)
    )


@router.get(
    "/certificates/{number}/receipt", summary="The signed receipt scan as uploaded", responses=SCAN_CONTENT
)
async def get_receipt(number: Number, session: SessionDep, principal: Reader) -> Response:
    stored = await distribution.receipt(session, number, principal)
    return Response(stored.content, media_type=stored.media_type, headers={"x-content-sha256": stored.sha256})


@router.get(
    "/certificate-distribution/overdue",
    response_model=OverduePage,
    summary="Certificates past their collection or handover deadline, per learning centre; cursor "
    "pages of `limit` certificates (a centre may continue on the next page)",
    responses=PAGE_HEADERS,
)
async def list_overdue(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    learning_centre: Annotated[list[CentreCode] | None, Query(description="Only these centres")] = None,
    as_of: Annotated[IsoDate | None, Query(description="Defaults to today (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    cursor: Cursor = None,
) -> OverduePage:
    day = as_of or today()
    page = await distribution.overdue(session, day, principal, learning_centre, cursor=cursor, limit=limit)
    return OverduePage(
        items=overdue_by_centre(page, day), next_cursor=offer_next(request, response, page.next_cursor)
    )
