from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile

from gradops_photo import domain, service
from gradops_photo.models import PhotoSubmission
from gradops_photo.repository import PhotoRepository
from gradops_photo.schemas import (
    ApproveIn,
    DecisionOut,
    PhotoKind,
    QcReportOut,
    RejectIn,
    SubmissionOut,
    TransitionOut,
)
from gradops_photo.settings import PhotoSettings
from gradops_shared.errors import PROBLEM_RESPONSES, InvalidInput, PayloadTooLarge
from gradops_shared.principal import Principal, on_behalf_of, requires
from gradops_shared.runtime import runtime_from

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
SubmissionId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")]


def _settings(request: Request) -> PhotoSettings:
    settings: PhotoSettings = request.app.state.settings
    return settings


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The upload exceeds {limit // 1024} KB.",
            code="photo.upload_too_large",
            message_zh=f"上传文件超过 {limit // 1024} KB",
        )
    return data


def _profile(name: str | None, settings: PhotoSettings) -> domain.Profile:
    chosen = name or settings.qc_profile
    profile = domain.PROFILES.get(chosen)
    if profile is None:
        raise InvalidInput(
            f"Unknown QC profile {chosen!r}; known: {', '.join(domain.PROFILES)}.",
            code="photo.unknown_profile",
            message_zh="未知的照片规格配置",
        )
    return profile


def _submission_out(submission: PhotoSubmission, history: list[TransitionOut] | None = None) -> SubmissionOut:
    return SubmissionOut(
        id=submission.id,
        student_no=submission.student_no,
        kind=submission.kind,
        source=submission.source,
        state=submission.state,
        sha256=submission.sha256,
        qc=QcReportOut.model_validate(submission.qc_report),
        created_at=submission.created_at,
        updated_at=submission.updated_at,
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
    api = APIRouter(prefix="/api/v1", tags=["photo"], responses=PROBLEM_RESPONSES)

    @api.post(
        "/photos/checks",
        response_model=QcReportOut,
        summary="Check a photo against a profile (stores nothing)",
    )
    async def check_photo(
        request: Request,
        file: Annotated[UploadFile, File(description="The photo (JPEG)")],
        principal: Annotated[Principal, requires("photos:check")],
        profile: Annotated[str | None, Form(description="QC profile; default from settings")] = None,
    ) -> QcReportOut:
        settings = _settings(request)
        data = await _read_upload(file, settings.max_upload_bytes)
        report = domain.run_qc(data, _profile(profile, settings))
        return QcReportOut.model_validate(report.as_dict())

    @api.post(
        "/students/{student_no}/photos",
        response_model=SubmissionOut,
        status_code=201,
        summary="Submit a student's photo: stored with its QC report, then reviewed",
    )
    async def submit_student_photo(
        student_no: StudentNo,
        request: Request,
        file: Annotated[UploadFile, File(description="The photo (JPEG)")],
        principal: Annotated[Principal, requires("photos:write")],
        kind: Annotated[PhotoKind, Form()] = "graduation",
    ) -> SubmissionOut:
        settings = _settings(request)
        runtime = runtime_from(request)
        data = await _read_upload(file, settings.max_upload_bytes)
        report = domain.run_qc(data, _profile(None, settings))
        service.check_upload(data, report)
        await service.lookup_student(
            runtime.peer("registry", settings.registry_url),
            student_no,
            on_behalf_of(principal, "photo", ["registry:read"]),
            settings.principal_secret.get_secret_value(),
        )
        async with runtime.db.transaction() as session:
            submission = await service.submit_photo(
                session,
                student_no=student_no,
                kind=kind,
                source="centre_upload",
                data=data,
                report=report,
                actor=principal.subject,
            )
            return _submission_out(submission)

    @api.get(
        "/students/{student_no}/photos",
        response_model=list[SubmissionOut],
        summary="Every photo submission of a student, oldest first",
    )
    async def list_student_photos(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("photos:read")]
    ) -> list[SubmissionOut]:
        async with runtime_from(request).db.session() as session:
            return [_submission_out(s) for s in await PhotoRepository(session).submissions_of(student_no)]

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
            submission = await service.get_submission(session, submission_id)
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
            return _submission_out(submission, history)

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
                session, submission_id, actor=principal.subject, comment=payload.comment if payload else None
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
                actor=principal.subject,
                reasons=payload.reasons,
                comment=payload.comment,
            )
            return _decision_out(submission)

    return api
