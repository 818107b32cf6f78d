from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gradops_certificates.api.deps import BatchCode, Number, Reader, SettingsDep, Writer
from gradops_certificates.schemas import CentreCode
from gradops_certificates.service import printouts
from gradops_shared.edge import RuntimeDep, SessionDep

router = APIRouter()
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}


@router.get(
    "/certificate-batches/{batch_code}/chsi-registration",
    summary="The batch's registration export for CHSI (学历电子注册), CSV (UTF-8 with BOM) or XLSX",
    responses={200: {"content": {"text/csv": {}, printouts.XLSX: {}}}},
)
async def export_chsi_registration(
    batch_code: BatchCode,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    format: Literal["csv", "xlsx"] = "xlsx",
    learning_centre: Annotated[list[CentreCode] | None, Query(description="Only these centres")] = None,
) -> Response:
    export = await printouts.chsi_export(session, batch_code, principal, learning_centre, settings, format)
    headers = {
        "content-disposition": f'attachment; filename="chsi-registration-{batch_code}.{format}"',
        "x-rows": str(export.rows),
        "x-rows-incomplete": str(export.incomplete),
    }
    return Response(export.content, media_type=export.media_type, headers=headers)


@router.get(
    "/certificates/{number}/registration-form.pdf",
    summary="毕业生登记表, pre-filled with the student's data and the approved graduation photo "
    "(standardised or as uploaded, whichever passed QC; an empty labelled box, and "
    "X-GradOps-Photo: missing, when the photo cannot be fetched)",
    responses=PDF,
)
async def registration_form(
    number: Number, runtime: RuntimeDep, principal: Reader, settings: SettingsDep
) -> Response:
    photo_service = runtime.peer("photo", settings.photo_url)
    form = await printouts.registration_form_for(runtime.db, photo_service, number, principal, settings)
    return Response(
        form.pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'inline; filename="form-{form.number}.pdf"',
            "x-gradops-photo": form.photo,
        },
    )


@router.get(
    "/certificates/{number}/proof.pdf",
    summary="毕业证明书 of an approved replacement (the number is its 补证号)",
    responses=PDF,
)
async def replacement_proof(
    number: Number, session: SessionDep, principal: Reader, settings: SettingsDep
) -> Response:
    proof_number, pdf = await printouts.proof_for(session, number, principal, settings)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="proof-{proof_number}.pdf"'},
    )
