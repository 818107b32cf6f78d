"""HTTP of the photo life-cycle: capture sessions, bulk import, review queue, re-open, CHSI states,
proofreading and the figures. Registered on the service router by `api.router()`."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, Response, UploadFile
from pydantic import Field, ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from gradops_photo import capture, domain, imports, paging, proofreading, service
from gradops_photo.api import (
    StudentNo,
    SubmissionId,
    _profile,
    _read_upload,
    _report_out,
    _run_qc,
    _settings,
    deadlines_of,
    submission_out,
)
from gradops_photo.models import PhotoImport, PhotoSubmission
from gradops_photo.qc.pool import QcJob
from gradops_photo.repository import NO_DUE_TIME, PhotoRepository
from gradops_photo.schemas import (
    NO_CONTROL_LINE,
    BulkApproveIn,
    BulkApproveOut,
    BulkRefusal,
    CapturePhotoIn,
    CaptureSessionIn,
    CaptureSessionOut,
    ChsiImportOut,
    ChsiRowResult,
    ChsiStateIn,
    CompletionOut,
    CompletionRow,
    DecisionOut,
    FeeOut,
    ImportFileOut,
    ImportOut,
    PhotoKind,
    ProofreadIn,
    ProofreadOut,
    ReopenIn,
    ReviewItemOut,
    ReviewPage,
    SubmissionOut,
)
from gradops_shared.errors import GradOpsError, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from gradops_shared.principal import Principal, on_behalf_of, requires
from gradops_shared.runtime import runtime_from
from gradops_shared.text import control_character

CaptureSessionId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")]
ImportId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")]
Level = Literal["junior_college", "bachelor_from_junior_college", "bachelor"]


def _decision_out(submission: PhotoSubmission) -> DecisionOut:
    return DecisionOut(
        id=submission.id, state=submission.state, student_no=submission.student_no, kind=submission.kind
    )


def _import_out(job: PhotoImport, files: list[ImportFileOut] | None = None) -> ImportOut:
    return ImportOut(
        id=job.id,
        status=job.status,
        options=job.options,
        total=job.total,
        processed=job.processed,
        counts=job.counts,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        href=f"/api/v1/photo-imports/{job.id}",
        files=files or [],
    )


def _capture_upload_body() -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
                "application/json": {"schema": CapturePhotoIn.model_json_schema()},
            },
        }
    }


def register(api: APIRouter) -> None:
    @api.post(
        "/capture-sessions",
        response_model=CaptureSessionOut,
        status_code=201,
        summary="Open a mini-program capture session: collection code + last 4 ID digits "
        "(5 wrong tries lock the code for 15 minutes)",
    )
    async def open_capture_session(
        payload: CaptureSessionIn,
        request: Request,
        principal: Annotated[Principal, requires("photos:capture")],
    ) -> CaptureSessionOut:
        settings = _settings(request)
        runtime = runtime_from(request)
        now = datetime.now(UTC)
        student_no = capture.verify_collection_code(
            payload.collection_code, settings.collection_code_key.get_secret_value(), now
        )
        async with runtime.db.session() as session:
            await capture.ensure_not_locked(session, payload.collection_code, now)
        student = await service.lookup_student(
            runtime.peer("registry", settings.registry_url),
            student_no,
            on_behalf_of(principal, "photo", ["registry:read"]),
            settings.principal_secret.get_secret_value(),
        )
        if not capture.digits_match(student, payload.id_last4):
            async with runtime.db.transaction() as session:
                left, locked_until = await capture.record_wrong_digits(
                    session,
                    payload.collection_code,
                    now,
                    max_failures=settings.collection_code_max_failures,
                    lock_minutes=settings.collection_code_lock_minutes,
                )
            if locked_until is not None:
                raise capture.CodeLocked(
                    f"Too many wrong digits; the code is locked until {locked_until.isoformat()}.",
                    extra={"locked_until": locked_until.isoformat()},
                )
            raise InvalidInput(
                f"The last 4 ID digits do not match; {left} tries left.",
                code="photo.id_digits_mismatch",
                message_zh=f"身份证号后4位不正确，还可尝试 {left} 次",
                extra={"tries_left": left},
            )
        fee = payload.fee
        async with runtime.db.transaction() as session:
            session_row, token = await capture.open_session(
                session,
                code=payload.collection_code,
                student=student,
                principal=principal,
                minutes=settings.capture_session_minutes,
                fee_paid=bool(fee and fee.paid),
                fee_amount_cents=int(fee.amount * 100) if fee else None,
                fee_provider_reference=fee.provider_reference if fee else None,
            )
        return CaptureSessionOut(
            id=session_row.id,
            student_no=session_row.student_no,
            token=token,
            expires_at=session_row.expires_at,
            upload_href=f"/api/v1/capture-sessions/{session_row.id}/photo",
            fee=FeeOut(
                paid=session_row.fee_paid,
                amount=None
                if session_row.fee_amount_cents is None
                else Decimal(session_row.fee_amount_cents) / 100,
                provider_reference=session_row.fee_provider_reference,
            ),
        )

    @api.post(
        "/capture-sessions/{session_id}/photo",
        response_model=SubmissionOut,
        status_code=201,
        summary="Upload the session's graduation photo (multipart `file` or JSON `image_base64`); "
        "answers the QC report with Chinese hints at once",
        openapi_extra=_capture_upload_body(),
    )
    async def upload_capture_photo(
        session_id: CaptureSessionId,
        request: Request,
        principal: Annotated[Principal, requires("photos:capture")],
        x_capture_token: Annotated[str | None, Header(description="The session's token")] = None,
    ) -> SubmissionOut:
        settings = _settings(request)
        runtime = runtime_from(request)
        async with runtime.db.session() as session:
            capture_session = await capture.authorise_upload(session, session_id, x_capture_token, principal)
        data = await _capture_bytes(request, settings.max_upload_bytes)
        outcome = await _run_qc(
            request,
            QcJob(
                data, _profile(None, settings), None, True, preview_above=settings.rejected_original_max_bytes
            ),
        )
        assert outcome.report is not None
        fixed = outcome.standardised
        judged = outcome.standardised_report if fixed and fixed.data else outcome.report
        assert judged is not None
        service.check_upload(judged)
        submission_id = str(uuid.uuid4())
        href = f"/api/v1/photo-submissions/{submission_id}/file?variant=standardised"
        async with runtime.db.transaction() as session:
            submission = await service.submit_photo(
                session,
                student_no=capture_session.student_no,
                kind="graduation",
                source="capture_session",
                data=data,
                judged=judged,
                qc_report=_report_out(outcome, href=href).model_dump(mode="json"),
                actor=f"capture:{capture_session.id}",
                learning_centre=capture_session.learning_centre,
                deadlines=deadlines_of(settings),
                standardised=fixed.data if fixed else None,
                submission_id=submission_id,
                preview=outcome.preview,
            )
            row = await session.get(type(capture_session), capture_session.id)
            if row is not None:
                row.last_submission_id = submission.id
            return submission_out(submission)

    @api.post(
        "/photo-imports",
        response_model=ImportOut,
        status_code=202,
        summary="Bulk import a zip of <student_no>.jpg pictures (≤ 40 MB) as a background job",
    )
    async def create_photo_import(
        request: Request,
        file: Annotated[UploadFile, File(description="The zip: pictures at the top level, named 学号.jpg")],
        principal: Annotated[Principal, requires("photos:write")],
        kind: Annotated[PhotoKind, Form()] = "graduation",
        level: Annotated[Level | None, Form(description="Only students of this level")] = None,
        overwrite: Annotated[bool, Form(description="Replace a photo still waiting for review")] = False,
        dry_run: Annotated[bool, Form(description="Check every picture, store nothing")] = False,
        profile: Annotated[str | None, Form(description="QC profile; default from settings")] = None,
    ) -> ImportOut:
        settings = _settings(request)
        runtime = runtime_from(request)
        chosen = _profile(profile, settings)
        data = await file.read(settings.import_max_zip_bytes + 1)
        if len(data) > settings.import_max_zip_bytes:
            raise PayloadTooLarge(
                f"The zip exceeds {settings.import_max_zip_bytes // (1024 * 1024)} MB.",
                code="photo_import.too_large",
                message_zh=f"压缩包超过 {settings.import_max_zip_bytes // (1024 * 1024)} MB",
            )
        options = imports.ImportOptions(kind, level, overwrite, dry_run, chosen.name)
        async with runtime.db.transaction() as session:
            job = await imports.create_import(
                session, data=data, options=options, principal=principal, limits=imports.limits_of(settings)
            )
            out = _import_out(job)
        request.app.state.import_runner.start(job.id, data)
        return out

    @api.get(
        "/photo-imports/{import_id}",
        response_model=ImportOut,
        summary="An import job: status, progress, counts and every file's outcome",
    )
    async def get_photo_import(
        import_id: ImportId, request: Request, principal: Annotated[Principal, requires("photos:read")]
    ) -> ImportOut:
        async with runtime_from(request).db.session() as session:
            job = await imports.get_import(session, import_id, principal)
            files = [
                ImportFileOut.model_validate(f, from_attributes=True)
                for f in await imports.import_files(session, import_id)
            ]
            return _import_out(job, files)

    @api.get(
        "/photo-reviews",
        response_model=ReviewPage,
        summary="The review queue by due time (SLA in working days), with the QC report and admission photo",
    )
    async def list_photo_reviews(
        request: Request,
        principal: Annotated[Principal, requires("photos:review")],
        status: Annotated[Literal["pending", "overdue"], Query()] = "pending",
        centre: Annotated[list[str] | None, Query(description="Learning centre code(s)")] = None,
        kind: PhotoKind | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=512, description=paging.CURSOR_DESCRIPTION)] = None,
        offset: Annotated[
            int, Query(ge=0, le=100_000, description="Deprecated: pass cursor=next_cursor instead")
        ] = 0,
    ) -> ReviewPage:
        settings = _settings(request)
        centres = principal.centre_filter(centre)
        after = paging.read_position(cursor) if cursor else None
        async with runtime_from(request).db.session() as session:
            repo = PhotoRepository(session)
            found, count = await repo.review_queue(
                centres=centres,
                overdue_at=datetime.now(UTC) if status == "overdue" else None,
                kind=kind,
                limit=limit + 1,
                offset=offset,
                after=after,
            )
            page = found[:limit]
            admissions = await repo.submissions_of_many([s.student_no for s in page], "admission")
        admission_of: dict[str, str] = {}
        for admission in admissions:  # oldest first: the last approved (else latest) wins
            if admission.state in domain.LOCKED_STATES or admission.student_no not in admission_of:
                variant = "" if admission.preview_sha256 is None else "?variant=preview"
                admission_of[admission.student_no] = f"{admission.id}/file{variant}"
        items = [
            ReviewItemOut(
                **submission_out(s).model_dump(),
                photo_href=f"/api/v1/photo-submissions/{s.id}/file",
                admission_photo_href=f"/api/v1/photo-submissions/{admission_of[s.student_no]}"
                if s.student_no in admission_of
                else None,
            )
            for s in page
        ]
        last = page[-1] if page else None
        next_cursor = (
            paging.position_cursor(last.review_due_at or NO_DUE_TIME, last.id)
            if last is not None and len(found) > limit
            else None
        )
        return ReviewPage(
            items=items, next_cursor=next_cursor, count=count, sla_workdays=settings.review_sla_workdays
        )

    @api.post(
        "/photo-reviews/approvals",
        response_model=BulkApproveOut,
        summary="Approve a page of reviews at once; each refusal is reported, the rest are approved",
    )
    async def bulk_approve_photos(
        payload: BulkApproveIn, request: Request, principal: Annotated[Principal, requires("photos:review")]
    ) -> BulkApproveOut:
        approved: list[str] = []
        refused: list[BulkRefusal] = []
        async with runtime_from(request).db.transaction() as session:
            for submission_id in dict.fromkeys(payload.submission_ids):
                try:
                    async with session.begin_nested():
                        await service.approve(session, submission_id, principal, comment=payload.comment)
                    approved.append(submission_id)
                except GradOpsError as exc:
                    refused.append(BulkRefusal(id=submission_id, code=exc.code, message_zh=exc.message_zh))
        return BulkApproveOut(approved=approved, refused=refused)

    @api.post(
        "/photo-submissions/{submission_id}/reopen",
        response_model=DecisionOut,
        summary="Re-open an approved photo for a free re-take (补拍/重拍), with a reason",
    )
    async def reopen_photo_submission(
        submission_id: SubmissionId,
        payload: ReopenIn,
        request: Request,
        principal: Annotated[Principal, requires("photos:review")],
    ) -> DecisionOut:
        async with runtime_from(request).db.transaction() as session:
            submission = await service.reopen(session, submission_id, principal, reason=payload.reason)
            return _decision_out(submission)

    @api.post(
        "/photo-submissions/{submission_id}/chsi-status",
        response_model=DecisionOut,
        summary="Record what CHSI holds: on_chsi, or chsi_rejected (face comparison failed: re-take)",
    )
    async def record_photo_chsi_status(
        submission_id: SubmissionId,
        payload: ChsiStateIn,
        request: Request,
        principal: Annotated[Principal, requires("photos:review")],
    ) -> DecisionOut:
        async with runtime_from(request).db.transaction() as session:
            submission = await service.get_submission(session, submission_id, principal, for_update=True)
            await service.record_chsi_state(
                session, submission, payload.chsi_state, actor=principal.subject, reason=payload.reason
            )
            return _decision_out(submission)

    @api.post(
        "/photo-chsi-statuses",
        response_model=ChsiImportOut,
        summary="CHSI states in bulk (CSV: student_no,chsi_state[,kind][,reason]); all rows or none",
    )
    async def import_photo_chsi_statuses(
        request: Request,
        file: Annotated[UploadFile, File(description="UTF-8 CSV with a header row")],
        principal: Annotated[Principal, requires("photos:review")],
    ) -> ChsiImportOut:
        data = await _read_upload(file, 5 * 1024 * 1024)
        rows = _chsi_rows(data)
        results: list[ChsiRowResult] = []
        async with runtime_from(request).db.transaction() as session:
            for number, row in rows:
                student_no = (row.get("student_no") or "").strip()
                result = ChsiRowResult(row=number, student_no=student_no or None)
                try:
                    target = ChsiStateIn(
                        chsi_state=(row.get("chsi_state") or "").strip(), reason=row.get("reason") or None
                    )
                except ValidationError as exc:
                    fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
                    result.code, result.message_zh = (
                        ("photo.chsi_state_invalid", "chsi_state 应为 on_chsi 或 chsi_rejected")
                        if "chsi_state" in fields
                        else ("photo.chsi_reason_invalid", "reason 含有控制字符或超过 1000 字")
                    )
                    results.append(result)
                    continue
                kind = (row.get("kind") or "graduation").strip()
                current = (
                    await service.current_photo(session, student_no, kind, for_update=True)
                    if student_no
                    else None
                )
                if current is None or not principal.sees_centre(current.learning_centre):
                    result.code, result.message_zh = "photo.no_approved_photo", "该学生没有已审核的照片"
                    results.append(result)
                    continue
                try:
                    await service.record_chsi_state(
                        session, current, target.chsi_state, actor=principal.subject, reason=target.reason
                    )
                    result.submission_id, result.state = current.id, current.state
                except GradOpsError as exc:
                    result.code, result.message_zh = exc.code, exc.message_zh
                results.append(result)
            refused = [r for r in results if r.code]
            if refused:
                # All or nothing: the registrar fixes the file and sends it again.
                raise InvalidInput(
                    f"{len(refused)} row(s) cannot be applied; nothing was changed.",
                    code="photo.chsi_rows_invalid",
                    message_zh=f"{len(refused)} 行无法处理，未做任何更改",
                    extra={"rows": [r.model_dump() for r in refused]},
                )
        return ChsiImportOut(applied=len(results), refused=0, rows=results)

    @api.post(
        "/students/{student_no}/photo-proofreading",
        response_model=ProofreadOut,
        summary="图像校对: confirm (asked twice; the first alone changes nothing) or report what is wrong",
    )
    async def proofread_photo(
        student_no: StudentNo,
        payload: ProofreadIn,
        request: Request,
        principal: Annotated[Principal, requires("photos:write")],
    ) -> ProofreadOut:
        async with runtime_from(request).db.transaction() as session:
            submission, final = await proofreading.proofread(
                session, student_no, principal, action=payload.action, detail=payload.detail
            )
            state = submission.proofread_state
            assert state is not None
            message = {
                "confirm_requested": domain.PROOFREAD_CONFIRM_PROMPT_ZH,
                "confirmed": "已确认无误",
                "error_reported": "已记录校对错误，请向教务部门提交更正材料",
            }[state]
            return ProofreadOut(
                submission_id=submission.id,
                student_no=student_no,
                proofread_state=state,
                final=final,
                message_zh=message,
            )

    @api.get(
        "/photo-proofreading/feedback-sheet",
        response_class=Response,
        responses={
            200: {
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                    "text/csv": {},
                },
                "description": "图像信息校对反馈表: 序号, 学号, 姓名, 校对结果, 本人签名; by 学号 descending",
            }
        },
        summary="The class proofreading feedback sheet (图像信息校对反馈表), XLSX or CSV",
    )
    async def get_proofreading_feedback_sheet(
        request: Request,
        principal: Annotated[Principal, requires("photos:read")],
        class_code: Annotated[
            str,
            Query(
                alias="class",
                min_length=1,
                max_length=64,
                description="班级",
                json_schema_extra={"pattern": NO_CONTROL_LINE},
            ),
        ],
        format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx",
    ) -> Response:
        _clean_query("class", class_code)
        settings = _settings(request)
        runtime = runtime_from(request)
        students = await proofreading.registry_students(
            runtime.peer("registry", settings.registry_url),
            on_behalf_of(principal, "photo", ["registry:read"]),
            settings.principal_secret.get_secret_value(),
            {"class": class_code},
        )
        async with runtime.db.session() as session:
            photos = await proofreading.current_photos(session, [s["student_no"] for s in students])
        title = proofreading.sheet_title(class_code)
        rows = proofreading.sheet_rows(students, photos)
        # RFC 6266: an ASCII fallback and the UTF-8 name (class codes are often Chinese).
        disposition = (
            f'attachment; filename="feedback-sheet.{format}"; '
            f"filename*=UTF-8''{quote(f'图像信息校对反馈表-{class_code}.{format}')}"
        )
        if format == "csv":
            return Response(
                proofreading.sheet_csv(title, rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": disposition},
            )
        return Response(
            proofreading.sheet_xlsx(title, rows),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": disposition},
        )

    @api.get(
        "/photo-completion",
        response_model=CompletionOut,
        summary="Completion figures per centre or class: without graduation photo, pending, rejected, "
        "expired, approved, on CHSI (students in 在籍)",
    )
    async def get_photo_completion(
        request: Request,
        principal: Annotated[Principal, requires("photos:read")],
        centre: Annotated[
            list[Annotated[str, Field(json_schema_extra={"pattern": NO_CONTROL_LINE})]] | None,
            Query(description="Learning centre code(s)"),
        ] = None,
        class_code: Annotated[
            str | None, Query(alias="class", max_length=64, json_schema_extra={"pattern": NO_CONTROL_LINE})
        ] = None,
        group_by: Annotated[Literal["centre", "class"], Query()] = "centre",
    ) -> CompletionOut:
        for value in centre or []:
            _clean_query("centre", value)
        if class_code is not None:
            _clean_query("class", class_code)
        settings = _settings(request)
        runtime = runtime_from(request)
        params: dict[str, object] = {"status": "enrolled"}
        if centre:
            params["centre"] = centre
        if class_code:
            params["class"] = class_code
        students = await proofreading.registry_students(
            runtime.peer("registry", settings.registry_url),
            on_behalf_of(principal, "photo", ["registry:read"]),
            settings.principal_secret.get_secret_value(),
            params,
        )
        async with runtime.db.session() as session:
            photos = await proofreading.current_photos(session, [s["student_no"] for s in students])
        rows = proofreading.completion_rows(students, photos, group_by)
        return CompletionOut(group_by=group_by, rows=[CompletionRow(**row) for row in rows])


def _clean_query(name: str, value: str) -> None:
    """A filter passed on to the registry: a control character is the caller's mistake (422 naming
    the parameter), not a registry outage."""
    if control_character(value) is not None:
        raise InvalidInput(
            f"{name} must be printable text without control characters.",
            code="photo.filter_invalid",
            message_zh=f"{name} 含有控制字符或不可见字符",
            extra={
                "errors": [
                    {
                        "field": name,
                        "in": "query",
                        "type": "control_character",
                        "message": "含有控制字符 / contains a control character",
                    }
                ]
            },
        )


async def _capture_bytes(request: Request, limit: int) -> bytes:
    """The photo as multipart `file` or JSON `image_base64` (what a mini-program backend finds easier)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        raw = await request.body()
        if len(raw) > limit * 4 // 3 + 1024:
            raise PayloadTooLarge(
                "The upload is too large.", code="photo.upload_too_large", message_zh="上传文件过大"
            )
        try:
            body = CapturePhotoIn.model_validate_json(raw)
            data = base64.b64decode(body.image_base64, validate=True)
        except (ValidationError, binascii.Error, ValueError) as exc:
            raise InvalidInput(
                "image_base64 must be a base64 JPEG.",
                code="photo.base64_invalid",
                message_zh="image_base64 不是有效的 base64 图片",
            ) from exc
        if not data:
            raise InvalidInput(
                "The uploaded file is empty.", code="photo.empty_file", message_zh="上传的文件为空"
            )
        if len(data) > limit:
            raise PayloadTooLarge(
                "The upload is too large.", code="photo.upload_too_large", message_zh="上传文件过大"
            )
        return data
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, StarletteUpload):
            raise InvalidInput(
                "Send the photo as the multipart field `file`.",
                code="photo.file_missing",
                message_zh="缺少照片文件（file 字段）",
            )
        return await _read_upload(upload, limit)
    raise UnsupportedMediaType(
        "Send multipart/form-data (file) or application/json (image_base64).",
        code="photo.unsupported_media_type",
        message_zh="请以 multipart/form-data 或 JSON(base64) 上传照片",
    )


def _chsi_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "The CSV must be UTF-8.", code="photo.csv_encoding", message_zh="CSV 文件须为 UTF-8 编码"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
        if not fieldnames or not {"student_no", "chsi_state"} <= {f.strip() for f in fieldnames}:
            raise InvalidInput(
                "The CSV needs the columns student_no and chsi_state.",
                code="photo.csv_columns",
                message_zh="CSV 需包含 student_no 与 chsi_state 列",
            )
        rows = [
            (n, {k.strip(): v if isinstance(v, str) else "" for k, v in row.items() if isinstance(k, str)})
            for n, row in enumerate(reader, start=2)
        ]
    except csv.Error as exc:  # a NUL byte, a bare CR inside an unquoted field, ...
        raise InvalidInput(
            f"The CSV cannot be read (line {reader.line_num}): {exc}.",
            code="photo.csv_malformed",
            message_zh=f"CSV 文件格式错误（第 {reader.line_num} 行）",
        ) from exc
    if not rows:
        raise InvalidInput("The CSV has no rows.", code="photo.csv_empty", message_zh="CSV 文件没有数据行")
    return rows
