"""POST /photos/checks: check a photo against a profile, explain failures, optionally standardise."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from gradops_photo import qc
from gradops_photo.api.deps import Checker, QcPoolDep, SettingsDep
from gradops_photo.api.uploads import read_upload
from gradops_photo.qc.pool import QcJob
from gradops_photo.schemas import QcReportOut
from gradops_photo.service.qc import profile_of, run_qc

router = APIRouter()

_CHECKS_DESCRIPTION = (
    "Runs every check of the profile and answers one entry per check: code, passed, measured, expected, "
    "severity (error fails the photo; warning does not; review: a human must look), fixable, message_zh, "
    "message_en, hint (what to do, Chinese) and hint_en. With standardise=true it also returns the "
    "standardised JPEG (base64) and the report of its final bytes, or why it cannot be fixed.\n\n"
    "Check codes:\n\n" + "\n".join(f"- `{code}`: {meaning}" for code, meaning in qc.CHECK_MEANINGS.items())
)


@router.post(
    "/photos/checks",
    response_model=QcReportOut,
    summary="Check a photo against a profile, explain failures, optionally standardise (stores nothing)",
    description=_CHECKS_DESCRIPTION,
)
async def check_photo(
    file: Annotated[UploadFile, File(description="The photo (judged by its bytes, not its name)")],
    principal: Checker,
    settings: SettingsDep,
    pool: QcPoolDep,
    profile: Annotated[
        str | None,
        Form(description="QC profile: chsi-2017, ouc-platform, studio-30-40; default from settings"),
    ] = None,
    admission_photo: Annotated[
        UploadFile | None,
        File(description="The admission photo: adds photo.same_as_admission and photo.face_match"),
    ] = None,
    standardise: Annotated[
        bool, Form(description="Also standardise (照片标准化) and report the final bytes' checks")
    ] = False,
) -> QcReportOut:
    chosen = profile_of(profile, settings)
    data = await read_upload(file, settings.max_upload_bytes)
    admission = (
        await read_upload(admission_photo, settings.max_upload_bytes, "admission_photo")
        if admission_photo is not None
        else None
    )
    outcome = await run_qc(pool, QcJob(data, chosen, admission, standardise), settings)
    return QcReportOut.of(outcome)
