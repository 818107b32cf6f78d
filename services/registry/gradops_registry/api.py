from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, Response, UploadFile

from gradops_registry import collection, domain, imports, reviews, service
from gradops_registry.domain import prior_education as review_rules
from gradops_registry.models import (
    IdentityFlagChange,
    OrgUnit,
    PriorEducationReview,
    StatusChange,
    Student,
)
from gradops_registry.repository import StudentFilters, StudentRepository
from gradops_registry.schemas import (
    CollectionCodeDisplay,
    CollectionCodeOut,
    EvidenceOut,
    HistoryOut,
    IdentityFlagIn,
    IdentityFlagOut,
    ImportReport,
    Level,
    OrgUnitIn,
    OrgUnitOut,
    OverdueReviewOut,
    PriorEducationReviewOut,
    ReviewStepOut,
    Status,
    StatusChangeIn,
    StatusChangeOut,
    StatusChangePage,
    StudentIn,
    StudentOut,
    StudentPage,
)
from gradops_registry.settings import RegistrySettings
from gradops_shared.errors import PROBLEM_RESPONSES, InvalidInput, NotFound, PayloadTooLarge
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from
from gradops_shared.text import InvalidCursor, MultilineText, PlainText, decode_cursor, encode_cursor

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
OrgCode = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$", description="单位代码")
]
MaskNames = Annotated[
    bool, Query(description="Mask names as CHSI does (张**三), e.g. for lists shown on a screen.")
]
IfMatch = Annotated[
    str | None,
    Header(description="The version you read; a stale one gets 409 registry.version_conflict."),
]


def _settings(request: Request) -> RegistrySettings:
    settings: RegistrySettings = request.app.state.settings
    return settings


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise InvalidInput(
            "If-Match must carry the record's version, e.g. If-Match: 3.",
            code="registry.if_match_invalid",
            message_zh="If-Match 须为记录的版本号",
        )
    return int(raw)


def _student_out(
    student: Student, principal: Principal, settings: RegistrySettings, mask: bool
) -> StudentOut:
    clear = None
    if principal.has("pii:read"):
        clear = service.registry_cipher(settings).decrypt(student.id_number_encrypted)
    return StudentOut(
        student_no=student.student_no,
        name=domain.mask_name(student.name) if mask else student.name,
        gender=student.gender,
        birth_date=student.birth_date,
        id_type=student.id_type,
        id_number_masked=domain.mask_last4(student.id_number_last4),
        id_number=clear,
        learning_centre=student.learning_centre,
        branch=student.branch,
        level=student.level,
        category=student.category,
        major=student.major,
        enrolment_term=student.enrolment_term,
        study_form=student.study_form,
        status=student.status,
        status_label_zh=domain.STATUS_LABELS_ZH[student.status],
        former_name=(
            domain.mask_name(student.former_name) if mask and student.former_name else student.former_name
        ),
        ethnicity=student.ethnicity,
        political_status=student.political_status,
        exam_no=student.exam_no,
        class_code=student.class_code,
        duration_years=student.duration_years,
        education_type=student.education_type,
        expected_graduation_date=student.expected_graduation_date,
        mobile=student.mobile,
        email=student.email,
        work_unit=student.work_unit,
        certificate_number=student.certificate_number,
        course_selection_allowed=service.course_selection_allowed(student),
        prior_education_state=student.prior_education_state,
        prior_education_deadline=student.prior_education_deadline,
        identity_in_doubt=student.identity_in_doubt,
        identity_doubt_kind=student.identity_doubt_kind,
        version=student.version,
        created_at=student.created_at,
        updated_at=student.updated_at,
    )


def _org_out(unit: OrgUnit) -> OrgUnitOut:
    return OrgUnitOut(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent=unit.parent,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


def _change_out(change: StatusChange) -> StatusChangeOut:
    return StatusChangeOut(
        change_type=change.change_type,
        change_label_zh=domain.CHANGE_LABELS_ZH.get(change.change_type, change.change_type),
        from_status=change.from_status,
        to_status=change.to_status,
        reason=change.reason,
        details=change.details,
        effective_date=change.effective_date,
        actor=change.actor,
        created_at=change.created_at,
    )


def _step_out(step: PriorEducationReview) -> ReviewStepOut:
    return ReviewStepOut(
        stage=step.stage,
        outcome=step.outcome,
        state_after=step.state_after,
        evidence=[EvidenceOut.model_validate(e) for e in step.evidence],
        prior_graduation_year=step.prior_graduation_year,
        abroad=step.abroad,
        notes=step.notes,
        deadline=step.deadline,
        actor=step.actor,
        created_at=step.created_at,
    )


def _flag_out(flag: IdentityFlagChange) -> IdentityFlagOut:
    return IdentityFlagOut(
        in_doubt=flag.in_doubt,
        kind=flag.kind,
        reason=flag.reason,
        actor=flag.actor,
        created_at=flag.created_at,
    )


def _review_out(student: Student, steps: list[PriorEducationReview]) -> PriorEducationReviewOut:
    state = student.prior_education_state
    today = datetime.now(UTC).date()
    return PriorEducationReviewOut(
        student_no=student.student_no,
        state=state,
        state_label_zh=review_rules.REVIEW_STATE_LABELS_ZH[state],
        formal_status=state in ("none", "passed"),
        course_selection_allowed=service.course_selection_allowed(student),
        deadline=student.prior_education_deadline,
        overdue=review_rules.is_overdue(state, student.prior_education_deadline, today),
        required_evidence=reviews.required_evidence(student, steps[-1] if steps else None),
        steps=[_step_out(s) for s in steps],
    )


def _cursor_invalid() -> InvalidInput:
    return InvalidInput(
        "cursor is not one this API returned.",
        code="registry.cursor_invalid",
        message_zh="分页游标无效",
        extra={
            "errors": [{"field": "cursor", "in": "query", "type": "invalid", "message": "unknown cursor"}]
        },
    )


def _student_cursor(cursor: str) -> str:
    """The last student number of the previous page (anything else, non-ASCII included: 422)."""
    try:
        position = decode_cursor(cursor)
    except InvalidCursor:
        raise _cursor_invalid() from None
    if not position.isascii() or not position.isalnum() or len(position) > 32:
        raise _cursor_invalid()
    return position


def _change_cursor(cursor: str) -> int:
    """The id of the last status change of the previous page."""
    try:
        position = decode_cursor(cursor)
    except InvalidCursor:
        raise _cursor_invalid() from None
    if not position.isascii() or not position.isdigit() or len(position) > 18:
        raise _cursor_invalid()
    return int(position)


async def _read_limited(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The {what} exceeds {limit // (1024 * 1024)} MB.",
            code="registry.upload_too_large",
            message_zh=f"上传文件超过 {limit // (1024 * 1024)} MB",
        )
    return data


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["registry"], responses=PROBLEM_RESPONSES)

    # ---- organisation tree ----------------------------------------------------------------

    @api.put(
        "/learning-centres/{code}",
        response_model=OrgUnitOut,
        responses={201: {"model": OrgUnitOut, "description": "Created"}},
        summary="Create or update a unit of the organisation tree (学习中心, 分部/学院)",
    )
    async def put_learning_centre(
        code: OrgCode,
        payload: OrgUnitIn,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("registry:write")],
    ) -> OrgUnitOut:
        async with runtime_from(request).db.transaction() as session:
            unit, created = await service.put_org_unit(session, _settings(request), principal, code, payload)
            out = _org_out(unit)
        response.status_code = 201 if created else 200
        return out

    @api.get("/learning-centres/{code}", response_model=OrgUnitOut, summary="Read a unit of the tree")
    async def get_learning_centre(
        code: OrgCode, request: Request, principal: Annotated[Principal, requires("registry:read")]
    ) -> OrgUnitOut:
        async with runtime_from(request).db.session() as session:
            return _org_out(await service.get_org_unit(session, _settings(request), principal, code))

    # ---- students -------------------------------------------------------------------------

    @api.get("/students", response_model=StudentPage, summary="Search and list students (cursor pages)")
    async def list_students(
        request: Request,
        principal: Annotated[Principal, requires("registry:read")],
        centre: Annotated[
            list[Annotated[str, Query(max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]] | None,
            Query(description="Learning centre code(s)"),
        ] = None,
        status: Status | None = None,
        level: Level | None = None,
        major: Annotated[PlainText | None, Query(max_length=100)] = None,
        enrolment_term: Annotated[
            PlainText | None, Query(max_length=32, description="2021-spring or 2021春")
        ] = None,
        class_code: Annotated[
            PlainText | None, Query(alias="class", max_length=64, description="班级")
        ] = None,
        name_prefix: Annotated[PlainText | None, Query(min_length=1, max_length=100)] = None,
        student_no: Annotated[PlainText | None, Query(max_length=32)] = None,
        id_number: Annotated[
            PlainText | None, Query(max_length=32, description="Exact ID number (matched by keyed hash)")
        ] = None,
        mask_names: MaskNames = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[
            str | None,
            Query(
                max_length=512, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page"
            ),
        ] = None,
    ) -> StudentPage:
        settings = _settings(request)
        centres = principal.centre_filter(centre)
        id_hash = None
        if id_number:
            id_hash = service.registry_cipher(settings).lookup_hash(id_number.strip().upper())
        filters = StudentFilters(
            centres=centres,
            status=status,
            level=level,
            major=major,
            enrolment_term=domain.normalise_term(enrolment_term) if enrolment_term else None,
            class_code=class_code,
            name_prefix=name_prefix,
            student_no=student_no,
            id_number_hash=id_hash,
        )
        after = _student_cursor(cursor) if cursor is not None else None
        async with runtime_from(request).db.session() as session:
            repo = StudentRepository(session)
            found = await repo.search(filters, after=after, limit=limit + 1)
            count = await repo.count(filters)
            page = found[:limit]
            return StudentPage(
                items=[_student_out(s, principal, settings, mask_names) for s in page],
                next_cursor=encode_cursor(page[-1].student_no) if len(found) > limit else None,
                count=count,
            )

    @api.post(
        "/students/imports",
        response_model=ImportReport,
        summary="Import a roster (CSV/XLSX): per-row report; nothing half-imported",
        responses={
            422: {"description": "Invalid file, or invalid rows without partial=true (report inside)"}
        },
    )
    async def import_students(
        request: Request,
        file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX, header row first")],
        principal: Annotated[Principal, requires("registry:write")],
        dry_run: Annotated[bool, Query(description="Validate only; write nothing")] = False,
        partial: Annotated[
            bool, Query(description="Import the valid rows even if others are invalid")
        ] = False,
    ) -> ImportReport:
        settings = _settings(request)
        content = await _read_limited(file, settings.max_import_bytes, "roster file")
        async with runtime_from(request).db.transaction() as session:
            return await imports.import_roster(
                session, settings, principal, content, dry_run=dry_run, partial=partial
            )

    @api.put(
        "/students/{student_no}",
        response_model=StudentOut,
        status_code=200,
        responses={201: {"model": StudentOut, "description": "Created"}},
        summary="Create or update a student record (学籍)",
    )
    async def put_student(
        student_no: StudentNo,
        payload: StudentIn,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("registry:write")],
        if_match: IfMatch = None,
    ) -> StudentOut:
        settings = _settings(request)
        async with runtime_from(request).db.transaction() as session:
            student, created = await service.upsert_student(
                session, settings, principal, student_no, payload, expected_version=_version(if_match)
            )
            out = _student_out(student, principal, settings, False)
        response.status_code = 201 if created else 200
        response.headers["ETag"] = f'"{out.version}"'
        return out

    @api.get("/students/{student_no}", response_model=StudentOut, summary="Read a student record")
    async def get_student(
        student_no: StudentNo,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("registry:read")],
        mask_names: MaskNames = False,
    ) -> StudentOut:
        async with runtime_from(request).db.session() as session:
            student = await service.get_student(session, student_no, principal)
        response.headers["ETag"] = f'"{student.version}"'
        return _student_out(student, principal, _settings(request), mask_names)

    # ---- 学籍异动 ----------------------------------------------------------------------------

    @api.post(
        "/students/{student_no}/status-changes",
        response_model=StatusChangeOut,
        status_code=201,
        summary="Record a status change (学籍异动): suspend, resume, change_major, transfer_centre, ...",
    )
    async def post_status_change(
        student_no: StudentNo,
        body: StatusChangeIn,
        request: Request,
        principal: Annotated[Principal, requires("registry:write")],
        if_match: IfMatch = None,
    ) -> StatusChangeOut:
        async with runtime_from(request).db.transaction() as session:
            _student, change = await service.change_status(
                session, principal, student_no, body, _version(if_match)
            )
            return _change_out(change)

    @api.get(
        "/students/{student_no}/status-changes",
        response_model=StatusChangePage,
        summary="The student's status history (学籍异动), oldest first, in cursor pages",
    )
    async def list_status_changes(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("registry:read")],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[
            str | None,
            Query(
                max_length=512, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page"
            ),
        ] = None,
    ) -> StatusChangePage:
        after = _change_cursor(cursor) if cursor is not None else None
        async with runtime_from(request).db.session() as session:
            await service.get_student(session, student_no, principal)
            found = await StudentRepository(session).status_history(student_no, after=after, limit=limit + 1)
            page = found[:limit]
            return StatusChangePage(
                items=[_change_out(c) for c in page],
                next_cursor=encode_cursor(str(page[-1].id)) if len(found) > limit else None,
            )

    @api.get(
        "/students/{student_no}/history",
        response_model=HistoryOut,
        summary="Everything that happened to the record: status changes, reviews, identity flags",
    )
    async def get_student_history(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("registry:read")]
    ) -> HistoryOut:
        async with runtime_from(request).db.session() as session:
            await service.get_student(session, student_no, principal)
            repo = StudentRepository(session)
            return HistoryOut(
                student_no=student_no,
                status_changes=[_change_out(c) for c in await repo.status_history(student_no)],
                prior_education_reviews=[_step_out(s) for s in await repo.review_steps(student_no)],
                identity_flags=[_flag_out(f) for f in await repo.identity_flags(student_no)],
            )

    # ---- 前置学历复查 --------------------------------------------------------------------------

    @api.get(
        "/students/{student_no}/prior-education-review",
        response_model=PriorEducationReviewOut,
        summary="The prior-education review (前置学历复查): state, deadline, stages and evidence",
    )
    async def get_prior_education_review(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("registry:read")]
    ) -> PriorEducationReviewOut:
        async with runtime_from(request).db.session() as session:
            student = await service.get_student(session, student_no, principal)
            return _review_out(student, await StudentRepository(session).review_steps(student_no))

    @api.post(
        "/students/{student_no}/prior-education-review",
        response_model=PriorEducationReviewOut,
        summary="Flag (待查), first review (初审, HQ) or second review (复审, province), with evidence",
    )
    async def post_prior_education_review(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("registry:review")],
        action: Annotated[Literal["flag", "first_review", "second_review"], Form()],
        outcome: Annotated[Literal["passed", "failed"] | None, Form()] = None,
        prior_graduation_year: Annotated[int | None, Form(ge=1950, le=2100)] = None,
        abroad: Annotated[bool, Form(description="Prior diploma obtained abroad (留服认证)")] = False,
        notice_date: Annotated[
            date | None, Form(description="flag: date of HQ's notice (default today)")
        ] = None,
        notes: Annotated[MultilineText | None, Form(max_length=2000)] = None,
        evidence_type: Annotated[
            list[PlainText] | None,
            Form(
                description="One per evidence file, same order: registration_record, credential_report, "
                "overseas_credential, prior_diploma, id_card, identity_consistency_proof"
            ),
        ] = None,
        evidence: Annotated[list[UploadFile] | None, File(description="PDF, JPEG or PNG")] = None,
    ) -> PriorEducationReviewOut:
        settings = _settings(request)
        files = evidence or []
        types = evidence_type or []
        if len(types) != len(files):
            raise InvalidInput(
                "Send one evidence_type per evidence file, in the same order.",
                code="registry.prior_education_evidence_type",
                message_zh="每份证明材料须对应一个材料类型",
            )
        uploads = [
            reviews.EvidenceUpload(t, await _read_limited(f, settings.max_evidence_bytes, "evidence file"))
            for t, f in zip(types, files, strict=True)
        ]
        async with runtime_from(request).db.transaction() as session:
            student = await reviews.review_step(
                session,
                principal,
                student_no,
                action=action,
                outcome=outcome,
                evidence=uploads,
                prior_graduation_year=prior_graduation_year,
                abroad=abroad,
                notice_date=notice_date,
                notes=notes,
            )
            return _review_out(student, await StudentRepository(session).review_steps(student_no))

    @api.get(
        "/students/{student_no}/prior-education-review/evidence/{sha256}",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
        summary="Download one evidence file of the student's review",
    )
    async def get_prior_education_evidence(
        student_no: StudentNo,
        sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
        request: Request,
        principal: Annotated[Principal, requires("registry:read")],
    ) -> Response:
        async with runtime_from(request).db.session() as session:
            await service.get_student(session, student_no, principal)
            repo = StudentRepository(session)
            steps = await repo.review_steps(student_no)
            # Only evidence filed for this student: a digest alone opens nothing.
            blob = None
            if any(e["sha256"] == sha256 for step in steps for e in step.evidence):
                blob = await repo.evidence(sha256)
        if blob is None:
            raise NotFound(
                "No such evidence for this student.",
                code="registry.evidence_not_found",
                message_zh="该学生没有此证明材料",
            )
        return Response(blob.content, media_type=blob.media_type)

    @api.get(
        "/prior-education-reviews/overdue",
        response_model=list[OverdueReviewOut],
        summary="Prior-education reviews past their 3-month deadline",
    )
    async def list_overdue_prior_education_reviews(
        request: Request,
        principal: Annotated[Principal, requires("registry:read")],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[OverdueReviewOut]:
        async with runtime_from(request).db.session() as session:
            found = await StudentRepository(session).overdue_reviews(
                principal.centre_filter(), datetime.now(UTC).date(), limit
            )
            return [
                OverdueReviewOut(
                    student_no=s.student_no,
                    name=s.name,
                    learning_centre=s.learning_centre,
                    state=s.prior_education_state,
                    deadline=s.prior_education_deadline,
                )
                for s in found
            ]

    # ---- 身份存疑 ---------------------------------------------------------------------------

    @api.post(
        "/students/{student_no}/identity-flag",
        response_model=StudentOut,
        summary="Set identity in doubt (身份存疑) from CHSI feedback, or clear it after review",
    )
    async def post_identity_flag(
        student_no: StudentNo,
        body: IdentityFlagIn,
        request: Request,
        principal: Annotated[Principal, requires("registry:review")],
    ) -> StudentOut:
        settings = _settings(request)
        async with runtime_from(request).db.transaction() as session:
            student = await service.set_identity_flag(session, principal, student_no, body)
            return _student_out(student, principal, settings, False)

    # ---- 图像采集码 ---------------------------------------------------------------------------

    @api.post(
        "/students/{student_no}/collection-code",
        response_model=CollectionCodeOut,
        summary="Issue a signed, expiring collection code (图像采集码) and its QR image",
        responses={
            200: {"content": {"image/png": {}}, "description": "JSON, or the PNG with Accept: image/png"}
        },
    )
    async def post_collection_code(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("registry:write")],
    ) -> Response | CollectionCodeOut:
        settings = _settings(request)
        async with runtime_from(request).db.session() as session:
            issued = await collection.issue_collection_code(session, settings, principal, student_no)
        if "image/png" in request.headers.get("accept", ""):
            return Response(issued.png, media_type="image/png")
        return CollectionCodeOut(
            code=issued.code,
            student_no=student_no,
            expires_at=issued.expires_at,
            display=CollectionCodeDisplay(
                name_masked=issued.name_masked,
                id_number_masked=issued.id_number_masked,
                school=issued.school,
                level_label_zh=issued.level_label_zh,
                caption=collection.CAPTION_ZH,
            ),
            qr_png_base64=collection.png_base64(issued.png),
        )

    return api
