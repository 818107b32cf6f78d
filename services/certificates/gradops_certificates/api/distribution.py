from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile

from gradops_certificates import service
from gradops_certificates.api.common import (
    PAGE_HEADERS,
    UPLOAD_RESPONSES,
    Cursor,
    Number,
    certificate_out,
    cursor_int,
    offer_next,
    read_cursor,
    read_scan,
    settings_of,
    today,
)
from gradops_certificates.domain.distribution import DistributionEventKind
from gradops_certificates.models import DistributionEvent
from gradops_certificates.repository import CertificateRepository
from gradops_certificates.schemas import (
    BatchNoticeIn,
    BatchNoticeOut,
    CentreCode,
    CertificateOut,
    DistributionEventOut,
    DistributionEventPage,
    OverdueCentreOut,
    OverdueOut,
    OverduePage,
)
from gradops_certificates.service import distribution
from gradops_shared.errors import NotFound
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from
from gradops_shared.text import MultilineText


def event_out(event: DistributionEvent) -> DistributionEventOut:
    return DistributionEventOut(
        id=event.id,
        number=event.number,
        event=event.event,
        occurred_on=event.occurred_on,
        late=event.late,
        explanation=event.explanation,
        detail=dict(event.detail or {}),
        actor=event.actor,
        recorded_at=event.recorded_at,
    )


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
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
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
        event: Annotated[DistributionEventKind, Form()],
        occurred_on: Annotated[date | None, Form(description="Defaults to today (UTC)")] = None,
        explanation: Annotated[
            MultilineText | None,
            Form(max_length=4000, description="Required when the centre collects late"),
        ] = None,
        matches_chsi: Annotated[bool | None, Form(description="chsi_checked: does it match CHSI?")] = None,
        detail: Annotated[MultilineText | None, Form(max_length=4000)] = None,
        receipt: Annotated[
            UploadFile | None, File(description="Signed receipt scan: PDF, JPEG or PNG")
        ] = None,
    ) -> CertificateOut:
        receipt_bytes = await read_scan(receipt) if receipt is not None else None
        async with runtime_from(request).db.transaction() as session:
            certificate, _ = await distribution.record_event(
                session,
                number,
                distribution.DistributionInput(
                    event=event,
                    occurred_on=occurred_on or today(),
                    explanation=explanation,
                    receipt=receipt_bytes,
                    matches_chsi=matches_chsi,
                    detail=detail,
                ),
                principal,
                settings_of(request),
            )
            return certificate_out(certificate)

    @api.post(
        "/certificate-batches/{batch_code}/notices",
        response_model=BatchNoticeOut,
        summary="HQ notifies the centres that a batch's certificates can be collected (15-day deadline)",
    )
    async def notify_batch(
        batch_code: Annotated[str, Path(pattern=r"^\d{6}$", description="Graduation batch, e.g. 202307")],
        body: BatchNoticeIn,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
    ) -> BatchNoticeOut:
        settings = settings_of(request)
        day = body.occurred_on or today()
        async with runtime_from(request).db.transaction() as session:
            notified = await distribution.notify_batch(
                session, batch_code, body.learning_centre, day, principal, settings
            )
        return BatchNoticeOut(
            batch_code=batch_code,
            notified=len(notified),
            collection_due=day + timedelta(days=settings.collection_days),
            numbers=[c.number for c in notified],
        )

    @api.get(
        "/certificates/{number}/distribution-events",
        response_model=DistributionEventPage,
        summary="The certificate's distribution history, oldest first; cursor pages",
        responses=PAGE_HEADERS,
    )
    async def list_distribution_events(
        number: Number,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("certificates:read")],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Cursor = None,
    ) -> DistributionEventPage:
        after = cursor_int(cursor)
        async with runtime_from(request).db.session() as session:
            certificate = await service.certificate_by_number(session, number, principal)
            rows = await CertificateRepository(session).distribution_events(
                certificate.number, after=after, limit=limit + 1
            )
        page = rows[:limit]
        token = offer_next(request, response, str(page[-1].id) if len(rows) > limit else None)
        return DistributionEventPage(items=[event_out(e) for e in page], next_cursor=token)

    @api.get(
        "/certificates/{number}/receipt",
        summary="The signed receipt scan as uploaded",
        responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
    )
    async def get_receipt(
        number: Number, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> Response:
        async with runtime_from(request).db.session() as session:
            certificate = await service.certificate_by_number(session, number, principal)
            stored = (
                await CertificateRepository(session).file(certificate.receipt_sha256)
                if certificate.receipt_sha256
                else None
            )
        if stored is None:
            raise NotFound(
                "No signed receipt was uploaded for this certificate.",
                code="certificates.receipt_not_found",
                message_zh="尚未上传签收单",
            )
        return Response(
            stored.data, media_type=stored.content_type, headers={"x-content-sha256": stored.sha256}
        )

    @api.get(
        "/certificate-distribution/overdue",
        response_model=OverduePage,
        summary="Certificates past their collection or handover deadline, per learning centre; cursor "
        "pages of `limit` certificates (a centre may continue on the next page)",
        responses=PAGE_HEADERS,
    )
    async def list_overdue(
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("certificates:read")],
        learning_centre: Annotated[list[CentreCode] | None, Query(description="Only these centres")] = None,
        as_of: Annotated[date | None, Query(description="Defaults to today (UTC)")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
        cursor: Cursor = None,
    ) -> OverduePage:
        day = as_of or today()
        fields = read_cursor(cursor, 2) if cursor is not None else None
        after = (fields[0], fields[1]) if fields else None
        async with runtime_from(request).db.session() as session:
            found, last = await distribution.overdue(
                session, day, principal, learning_centre, after=after, limit=limit
            )
        token = offer_next(request, response, last)
        per_centre: dict[str | None, list[OverdueOut]] = defaultdict(list)
        for certificate, stage, due in found:
            per_centre[certificate.learning_centre].append(
                OverdueOut(
                    number=certificate.number,
                    student_no=certificate.student_no,
                    learning_centre=certificate.learning_centre,
                    stage=stage,
                    due=due,
                    days_overdue=(day - due).days,
                )
            )
        return OverduePage(
            items=[
                OverdueCentreOut(learning_centre=c, certificates=items) for c, items in per_centre.items()
            ],
            next_cursor=token,
        )

    return api
