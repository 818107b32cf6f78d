from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, FastAPI, File, Form, Path, Query, Request, Response, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload

from gradops_photo import paging, qc, service
from gradops_photo.imports import ImportRunner, fail_stale_imports
from gradops_photo.models import PhotoSubmission
from gradops_photo.qc.pool import QcJob, QcOutcome, QcPool, QcWorkerLost
from gradops_photo.repository import PhotoRepository
from gradops_photo.schemas import (
    ApproveIn,
    DecisionOut,
    PhotoKind,
    QcCheckReportOut,
    QcReportOut,
    RejectIn,
    StandardisedOut,
    SubmissionOut,
    SubmissionPage,
    TransitionOut,
)
from gradops_photo.settings import PhotoSettings
from gradops_shared.errors import (
    PROBLEM_RESPONSES,
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    ServiceUnavailable,
)
from gradops_shared.principal import Principal, on_behalf_of, requires
from gradops_shared.runtime import Runtime, runtime_from

log = structlog.get_logger(__name__)

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
SubmissionId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")]


_CHECKS_DESCRIPTION = (
    "Runs every check of the profile and answers one entry per check: code, passed, measured, expected, "
    "severity (error fails the photo; warning does not; review: a human must look), fixable, message_zh, "
    "message_en, hint (what to do, Chinese) and hint_en. With standardise=true it also returns the "
    "standardised JPEG (base64) and the report of its final bytes, or why it cannot be fixed.\n\n"
    "Check codes:\n\n" + "\n".join(f"- `{code}`: {meaning}" for code, meaning in qc.CHECK_MEANINGS.items())
)


def _settings(request: Request) -> PhotoSettings:
    settings: PhotoSettings = request.app.state.settings
    return settings


def deadlines_of(settings: PhotoSettings) -> service.Deadlines:
    return service.Deadlines(settings.calendar(), settings.review_sla_workdays, settings.resubmit_workdays)


@asynccontextmanager
async def qc_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The QC worker pool, the import runner and the housekeeping loop live as long as the app
    (merged into the app's lifespan)."""
    settings: PhotoSettings = app.state.settings
    pool = QcPool(settings.qc_workers)
    app.state.qc_pool = pool
    runner = ImportRunner(app.state.runtime, pool, settings)
    app.state.import_runner = runner
    housekeeping = asyncio.create_task(_housekeeping(app.state.runtime, settings), name="photo-housekeeping")
    try:
        yield
    finally:
        housekeeping.cancel()
        await asyncio.gather(housekeeping, return_exceptions=True)
        await runner.stop()
        await asyncio.to_thread(pool.shutdown)


async def housekeeping_once(runtime: Runtime, settings: PhotoSettings) -> tuple[int, int]:
    """Expired rejections and imports whose process died; returns (expired, failed imports)."""
    async with runtime.db.transaction() as session:
        expired = await service.expire_overdue(session)
    async with runtime.db.transaction() as session:
        failed = await fail_stale_imports(session, settings.import_stale_seconds)
    return expired, failed


async def _housekeeping(runtime: Runtime, settings: PhotoSettings) -> None:
    while True:
        try:
            await housekeeping_once(runtime, settings)
        except Exception:  # a database hiccup must not end the loop
            log.warning("photo_housekeeping_failed", exc_info=True)
        await asyncio.sleep(min(settings.expiry_sweep_seconds, settings.import_stale_seconds / 2))


async def _read_upload(upload: StarletteUpload, limit: int, field: str = "file") -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The upload ({field}) exceeds {limit // (1024 * 1024)} MB.",
            code="photo.upload_too_large",
            message_zh=f"上传文件超过 {limit // (1024 * 1024)} MB",
        )
    if not data:
        raise InvalidInput(
            "The uploaded file is empty.", code="photo.empty_file", message_zh="上传的文件为空"
        )
    return data


def _profile(name: str | None, settings: PhotoSettings) -> qc.Profile:
    chosen = name or settings.qc_profile
    profile = qc.PROFILES.get(chosen)
    if profile is None:
        raise InvalidInput(
            f"Unknown QC profile {chosen!r}; known: {', '.join(qc.PROFILES)}.",
            code="photo.unknown_profile",
            message_zh=f"未知的照片规格配置 {chosen!r}，可选：{'、'.join(qc.PROFILES)}",
            extra={"profiles": list(qc.PROFILES)},
        )
    return profile


async def _run_qc(request: Request, job: QcJob) -> QcOutcome:
    """Runs the job in the pool and turns the refusals it reports into problems."""
    settings = _settings(request)
    pool: QcPool = request.app.state.qc_pool
    try:
        outcome = await pool.run(job, settings.qc_timeout_seconds)
    except TimeoutError as exc:
        raise ServiceUnavailable(
            "Photo QC took too long; try again.", code="photo.qc_timeout", message_zh="照片检测超时，请重试"
        ) from exc
    except QcWorkerLost as exc:
        raise InvalidInput(
            "The image could not be analysed (the decoder failed on it).",
            code="photo.format",
            message_zh="无法解析该图片",
        ) from exc
    if outcome.refused is not None:
        reason_en, reason_zh = outcome.refused
        raise PayloadTooLarge(reason_en, code="photo.image_too_large", message_zh=reason_zh)
    if outcome.admission_unreadable:
        raise InvalidInput(
            "The admission photo is not a readable image.",
            code="photo.admission_unreadable",
            message_zh="入学照片无法读取",
        )
    return outcome


def _check_report_out(report: qc.QcReport) -> QcCheckReportOut:
    return QcCheckReportOut.model_validate(report.as_dict())


def _report_out(outcome: QcOutcome, *, href: str | None = None) -> QcReportOut:
    """The answer of the checks endpoint (inline bytes) and the report stored on a submission (href)."""
    assert outcome.report is not None
    out = QcReportOut.model_validate(outcome.report.as_dict())
    fixed = outcome.standardised
    if fixed is None:
        return out
    data = fixed.data
    final = outcome.standardised_report
    out.standardised = StandardisedOut(
        fixed=fixed.fixed,
        reason_zh=fixed.reason_zh,
        reason_en=fixed.reason_en,
        steps=fixed.steps,
        width=fixed.width,
        height=fixed.height,
        dpi=fixed.dpi,
        quality=fixed.quality,
        bytes=None if data is None else len(data),
        sha256=None if data is None else hashlib.sha256(data).hexdigest(),
        jpeg_base64=None if data is None or href else base64.b64encode(data).decode(),
        href=href if data is not None else None,
        report=None if final is None else _check_report_out(final),
    )
    return out


def submission_out(submission: PhotoSubmission, history: list[TransitionOut] | None = None) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        student_no=submission.student_no,
        kind=submission.kind,
        source=submission.source,
        state=submission.state,
        sha256=submission.sha256,
        original_kept=submission.preview_sha256 is None,
        learning_centre=submission.learning_centre,
        qc=QcReportOut.model_validate(submission.qc_report),
        created_at=submission.created_at,
        updated_at=submission.updated_at,
        review_due_at=submission.review_due_at,
        overdue=submission.state == "pending_review"
        and submission.review_due_at is not None
        and submission.review_due_at < datetime.now(UTC),
        resubmit_by=submission.resubmit_by if submission.state == "rejected" else None,
        reviewer=submission.reviewer,
        review_reasons=submission.review_reasons,
        review_comment=submission.review_comment,
        proofread_state=submission.proofread_state,
        proofread_detail=submission.proofread_detail,
        history=history or [],
    )


def _decision_out(submission: PhotoSubmission) -> DecisionOut:
    return DecisionOut(
        id=submission.id,
        state=submission.state,
        student_no=submission.student_no,
        kind=submission.kind,
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["photo"], responses=PROBLEM_RESPONSES, lifespan=qc_lifespan)

    @api.post(
        "/photos/checks",
        response_model=QcReportOut,
        summary="Check a photo against a profile, explain failures, optionally standardise (stores nothing)",
        description=_CHECKS_DESCRIPTION,
    )
    async def check_photo(
        request: Request,
        file: Annotated[UploadFile, File(description="The photo (judged by its bytes, not its name)")],
        principal: Annotated[Principal, requires("photos:check")],
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
        settings = _settings(request)
        chosen = _profile(profile, settings)
        data = await _read_upload(file, settings.max_upload_bytes)
        admission = (
            await _read_upload(admission_photo, settings.max_upload_bytes, "admission_photo")
            if admission_photo is not None
            else None
        )
        outcome = await _run_qc(request, QcJob(data, chosen, admission, standardise))
        return _report_out(outcome)

    @api.post(
        "/students/{student_no}/photos",
        response_model=SubmissionOut,
        status_code=201,
        summary="Submit a student's photo: checked (optionally standardised), stored with its report",
    )
    async def submit_student_photo(
        student_no: StudentNo,
        request: Request,
        file: Annotated[UploadFile, File(description="The photo (JPEG)")],
        principal: Annotated[Principal, requires("photos:write")],
        kind: Annotated[PhotoKind, Form()] = "graduation",
        standardise: Annotated[
            bool,
            Form(description="Standardise the upload; the standardised photo is then judged and reviewed"),
        ] = False,
    ) -> SubmissionOut:
        settings = _settings(request)
        runtime = runtime_from(request)
        data = await _read_upload(file, settings.max_upload_bytes)
        outcome = await _run_qc(
            request,
            QcJob(
                data,
                _profile(None, settings),
                None,
                standardise,
                preview_above=settings.rejected_original_max_bytes,
            ),
        )
        assert outcome.report is not None
        fixed = outcome.standardised
        judged = outcome.standardised_report if fixed and fixed.data else outcome.report
        assert judged is not None
        service.check_upload(judged)
        student = await service.lookup_student(
            runtime.peer("registry", settings.registry_url),
            student_no,
            on_behalf_of(principal, "photo", ["registry:read"]),
            settings.principal_secret.get_secret_value(),
        )
        submission_id = str(uuid.uuid4())
        href = f"/api/v1/photo-submissions/{submission_id}/file?variant=standardised"
        async with runtime.db.transaction() as session:
            submission = await service.submit_photo(
                session,
                student_no=student_no,
                kind=kind,
                source="centre_upload",
                data=data,
                judged=judged,
                qc_report=_report_out(outcome, href=href).model_dump(mode="json"),
                actor=principal.subject,
                learning_centre=student.get("learning_centre"),
                deadlines=deadlines_of(settings),
                standardised=fixed.data if fixed else None,
                submission_id=submission_id,
                preview=outcome.preview,
            )
            return submission_out(submission)

    @api.get(
        "/photo-submissions/{submission_id}/file",
        response_class=Response,
        responses={
            200: {
                "content": {"image/jpeg": {}},
                "description": "The photo (JPEG bytes), as an attachment with nosniff: what was uploaded "
                "is handed back as a file, never rendered as whatever else its bytes may also be",
            }
        },
        summary="Download a submission's photo: the upload as it came, its standardised version, or the "
        "preview kept instead of a rejected oversize upload",
    )
    async def get_photo_submission_file(
        submission_id: SubmissionId,
        request: Request,
        principal: Annotated[Principal, requires("photos:read")],
        variant: Annotated[Literal["original", "standardised", "preview"], Query()] = "original",
    ) -> Response:
        async with runtime_from(request).db.session() as session:
            content = await service.submission_file(session, submission_id, variant, principal)
        return Response(
            content,
            media_type="image/jpeg",
            headers={
                # A polyglot (a JPEG that is also HTML or a zip) must never be sniffed into another type.
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'attachment; filename="{submission_id}-{variant}.jpg"',
                "Cache-Control": "private, no-store",  # a student's face is personal data
                "ETag": f'"{hashlib.sha256(content).hexdigest()}"',
            },
        )

    @api.get(
        "/students/{student_no}/photos",
        response_model=SubmissionPage,
        summary="Every photo submission of a student, oldest first, a page at a time "
        "({items, next_cursor, count}, like every list of the suite)",
    )
    async def list_student_photos(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("photos:read")],
        limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
        cursor: Annotated[str | None, Query(max_length=512, description=paging.CURSOR_DESCRIPTION)] = None,
    ) -> SubmissionPage:
        after = paging.read_position(cursor) if cursor else None
        size = limit
        async with runtime_from(request).db.session() as session:
            found, count = await PhotoRepository(session).submissions_page(
                student_no,
                centres=principal.centres,
                after=after,
                limit=size + 1,
            )
        if not count and not principal.is_hq:
            # A centre's key learns nothing from an empty answer: the registry (with the caller's
            # reach) says whether the student is theirs; another centre's or a missing one is 404.
            settings = _settings(request)
            with contextlib.suppress(Conflict):  # withdrawn or cancelled: theirs, just without photos
                await service.lookup_student(
                    runtime_from(request).peer("registry", settings.registry_url),
                    student_no,
                    on_behalf_of(principal, "photo", ["registry:read"]),
                    settings.principal_secret.get_secret_value(),
                )
        page = found[:size]
        next_cursor = paging.position_cursor(page[-1].created_at, page[-1].id) if len(found) > size else None
        return SubmissionPage(items=[submission_out(s) for s in page], next_cursor=next_cursor, count=count)

    @api.get(
        "/photo-submissions/{submission_id}",
        response_model=SubmissionOut,
        summary="A submission and its history",
    )
    async def get_photo_submission(
        submission_id: SubmissionId,
        request: Request,
        principal: Annotated[Principal, requires("photos:read")],
    ) -> SubmissionOut:
        async with runtime_from(request).db.session() as session:
            submission = await service.get_submission(session, submission_id, principal)
            history = [
                TransitionOut(
                    from_state=t.from_state,
                    to_state=t.to_state,
                    actor=t.actor,
                    reason=t.reason,
                    at=t.created_at,
                )
                for t in await PhotoRepository(session).transitions(submission_id)
            ]
            return submission_out(submission, history)

    @api.post(
        "/photo-submissions/{submission_id}/approve", response_model=DecisionOut, summary="Approve a photo"
    )
    async def approve_photo_submission(
        submission_id: SubmissionId,
        request: Request,
        principal: Annotated[Principal, requires("photos:review")],
        payload: ApproveIn | None = None,
    ) -> DecisionOut:
        async with runtime_from(request).db.transaction() as session:
            submission = await service.approve(
                session, submission_id, principal, comment=payload.comment if payload else None
            )
            return _decision_out(submission)

    @api.post(
        "/photo-submissions/{submission_id}/reject", response_model=DecisionOut, summary="Reject a photo"
    )
    async def reject_photo_submission(
        submission_id: SubmissionId,
        payload: RejectIn,
        request: Request,
        principal: Annotated[Principal, requires("photos:review")],
    ) -> DecisionOut:
        async with runtime_from(request).db.transaction() as session:
            submission = await service.reject(
                session,
                submission_id,
                principal,
                reasons=payload.reasons,
                comment=payload.comment,
                deadlines=deadlines_of(_settings(request)),
            )
            return _decision_out(submission)

    from gradops_photo.api_lifecycle import register  # the life-cycle endpoints reuse this module's helpers

    register(api)
    return api
