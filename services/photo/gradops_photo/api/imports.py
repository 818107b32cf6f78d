"""Bulk photo imports: a zip of <student_no>.jpg pictures as a background job, and its report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile

from gradops_photo.api.deps import ImportId, ImportRunnerDep, Reader, SettingsDep, Writer
from gradops_photo.api.views import import_out
from gradops_photo.errors import IMPORT_TOO_LARGE
from gradops_photo.schemas import ImportOut, PhotoKind
from gradops_photo.service import imports
from gradops_photo.service.qc import profile_of
from gradops_shared.edge import RuntimeDep, SessionDep
from gradops_shared.uploads import read_limited

router = APIRouter()

Level = Literal["junior_college", "bachelor_from_junior_college", "bachelor"]


@router.post(
    "/photo-imports",
    response_model=ImportOut,
    status_code=202,
    summary="Bulk import a zip of <student_no>.jpg pictures (≤ 40 MB) as a background job",
)
async def create_photo_import(
    file: Annotated[UploadFile, File(description="The zip: pictures at the top level, named 学号.jpg")],
    principal: Writer,
    runtime: RuntimeDep,
    settings: SettingsDep,
    runner: ImportRunnerDep,
    kind: Annotated[PhotoKind, Form()] = "graduation",
    level: Annotated[Level | None, Form(description="Only students of this level")] = None,
    overwrite: Annotated[bool, Form(description="Replace a photo still waiting for review")] = False,
    dry_run: Annotated[bool, Form(description="Check every picture, store nothing")] = False,
    profile: Annotated[str | None, Form(description="QC profile; default from settings")] = None,
) -> ImportOut:
    profile_of(profile, settings)  # an unknown profile is refused before the zip is read
    data = await read_limited(file, settings.import_max_zip_bytes, IMPORT_TOO_LARGE, what="zip")
    job = await imports.start_import(
        runtime.db,
        runner.start,
        settings,
        principal,
        data=data,
        kind=kind,
        level=level,
        overwrite=overwrite,
        dry_run=dry_run,
        profile=profile,
    )
    return import_out(job)


@router.get(
    "/photo-imports/{import_id}",
    response_model=ImportOut,
    summary="An import job: status, progress, counts and every file's outcome",
)
async def get_photo_import(import_id: ImportId, principal: Reader, session: SessionDep) -> ImportOut:
    job, files = await imports.import_with_files(session, import_id, principal)
    return import_out(job, files)
