from __future__ import annotations

from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from gradops_certificates import documents
from gradops_certificates.api.common import Number, settings_of
from gradops_certificates.schemas import CentreCode
from gradops_certificates.service import documents as use_case
from gradops_shared.principal import Principal, on_behalf_of, requires
from gradops_shared.runtime import runtime_from

BatchCode = Annotated[str, Path(pattern=r"^\d{6}$", description="Graduation batch, e.g. 202307")]
log = structlog.get_logger(__name__)
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}


def router() -> APIRouter:
    api = APIRouter()

    @api.get(
        "/certificate-batches/{batch_code}/chsi-registration",
        summary="The batch's registration export for CHSI (学历电子注册), CSV (UTF-8 with BOM) or XLSX",
        responses={
            200: {
                "content": {
                    "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                }
            }
        },
    )
    async def export_chsi_registration(
        batch_code: BatchCode,
        request: Request,
        principal: Annotated[Principal, requires("certificates:write")],
        format: Literal["csv", "xlsx"] = "xlsx",
        learning_centre: Annotated[list[CentreCode] | None, Query(description="Only these centres")] = None,
    ) -> Response:
        settings = settings_of(request)
        async with runtime_from(request).db.session() as session:
            rows = await use_case.chsi_export_rows(session, batch_code, principal, learning_centre, settings)
        incomplete = sum(1 for row in rows if row["missing"])
        headers = {
            "content-disposition": f'attachment; filename="chsi-registration-{batch_code}.{format}"',
            "x-rows": str(len(rows)),
            "x-rows-incomplete": str(incomplete),
        }
        if format == "csv":
            return Response(documents.chsi_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(
            documents.chsi_xlsx(rows, batch_code),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=headers,
        )

    @api.get(
        "/certificates/{number}/registration-form.pdf",
        summary="毕业生登记表, pre-filled with the student's data and the approved graduation photo "
        "(standardised or as uploaded, whichever passed QC; an empty labelled box, and "
        "X-GradOps-Photo: missing, when the photo cannot be fetched)",
        responses=PDF,
    )
    async def registration_form(
        number: Number, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> Response:
        settings = settings_of(request)
        runtime = runtime_from(request)
        async with runtime.db.session() as session:
            subject = await use_case.document_subject(session, number, principal)
        photo, reason = await use_case.fetch_photo(
            runtime.peer("photo", settings.photo_url),
            subject.facts.photo_submission_id,
            on_behalf_of(principal, "certificates", ["photos:read"]),
            settings.principal_secret.get_secret_value(),
            subject.facts.photo_sha256,
        )
        pdf, photo_header = use_case.registration_form(subject, photo, reason, settings)
        if photo_header != "included":
            log.warning(
                "registration_form_without_photo", number=subject.certificate.number, photo=photo_header
            )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "content-disposition": f'inline; filename="form-{subject.certificate.number}.pdf"',
                "x-gradops-photo": photo_header,
            },
        )

    @api.get(
        "/certificates/{number}/proof.pdf",
        summary="毕业证明书 of an approved replacement (the number is its 补证号)",
        responses=PDF,
    )
    async def replacement_proof(
        number: Number, request: Request, principal: Annotated[Principal, requires("certificates:read")]
    ) -> Response:
        async with runtime_from(request).db.session() as session:
            subject = await use_case.document_subject(session, number, principal)
            pdf = await use_case.proof(session, subject, settings_of(request))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="proof-{subject.certificate.number}.pdf"'},
        )

    return api
