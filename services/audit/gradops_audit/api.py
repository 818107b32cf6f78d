"""HTTP layer of the audit: thin; the use cases live in service/records/applications."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import applications, records, schemas, service
from gradops_audit.domain import batches
from gradops_audit.domain.checks import CATALOGUE
from gradops_audit.domain.rules import SHIPPED_DEGREE, SHIPPED_GRADUATION, GraduationRules
from gradops_audit.models import Application, Audit, AuditException, Batch
from gradops_audit.repository import AuditRepository
from gradops_audit.schemas import BATCH_CODE_PATTERN
from gradops_audit.settings import AuditSettings
from gradops_shared.errors import PROBLEM_RESPONSES, GradOpsError, InvalidInput, NotFound, ServiceUnavailable
from gradops_shared.logging import current_request_id
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, on_behalf_of, requires, sign_principal
from gradops_shared.runtime import runtime_from
from gradops_shared.text import InvalidCursor, decode_cursor, encode_cursor

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
BatchCode = Annotated[
    str, Path(min_length=6, max_length=6, pattern=BATCH_CODE_PATTERN, description="YYYYMM, e.g. 202307")
]
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
AuditId = Annotated[str, Path(min_length=36, max_length=36, pattern=UUID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page (opaque)",
    ),
]
CentreCodes = Annotated[
    list[Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]] | None,
    Query(description="Learning centre code(s)"),
]


class HqOnly(GradOpsError):
    status = 403
    code = "audit.hq_only"
    title = "Forbidden"
    message_zh = "仅总部（不限学习中心的访问凭证）可执行此操作"


def _settings(request: Request) -> AuditSettings:
    settings: AuditSettings = request.app.state.settings
    return settings


def _hq(principal: Principal) -> None:
    if not principal.is_hq:
        raise HqOnly("Only HQ (a key not bound to learning centres) may do this.")


def _cursor_invalid() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this API gave.", code="audit.cursor_invalid", message_zh="分页游标无效"
    )


def _uncursor(cursor: str | None, shape: re.Pattern[str]) -> str | None:
    """The position a cursor names, which must have the shape this list's cursors have; 422 otherwise."""
    if cursor is None:
        return None
    try:
        position = decode_cursor(cursor)
    except InvalidCursor as exc:
        raise _cursor_invalid() from exc
    if not shape.fullmatch(position):
        raise _cursor_invalid()
    return position


def _time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """`{ISO time with offset}|{uuid}`: a position in a list ordered by time, then id."""
    position = _uncursor(cursor, _TIME_ID)
    if position is None:
        return None
    stamp, row_id = position.split("|", 1)
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise _cursor_invalid() from exc
    if at.tzinfo is None:
        raise _cursor_invalid()
    return at, row_id


_SEQ = re.compile(r"[0-9]{1,18}")  # fits a bigint
_BATCH = re.compile(BATCH_CODE_PATTERN.strip("^$"))
_TIME_ID = re.compile(r"[0-9T:.+\-]{10,40}\|[0-9a-fA-F-]{36}")
_RULE_SET_KEY = re.compile(r"[01]\|[a-z0-9][a-z0-9._-]{0,63}\|[0-9]{1,9}")


async def _registry_snapshot(
    request: Request, principal: Principal, student_no: str
) -> dict[str, Any] | None:
    """Asks the registry (the owner) about a student the audit has not heard of yet."""
    settings = _settings(request)
    client = runtime_from(request).peer("registry", settings.registry_url)
    headers = {
        "x-request-id": current_request_id() or uuid.uuid4().hex,
        PRINCIPAL_HEADER: sign_principal(
            on_behalf_of(principal, "audit", ["registry:read"]), settings.principal_secret.get_secret_value()
        ),
    }
    try:
        response = await client.get(f"/api/v1/students/{quote(student_no, safe='')}", headers=headers)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "The registry could not be reached to check the student.",
            code="audit.registry_unavailable",
            message_zh="暂时无法核对学籍信息，请稍后重试",
        ) from exc
    # The registry's answer about this input (unknown, out of reach, malformed) is the client's
    # business; only the registry failing to answer is an outage worth retrying.
    if response.status_code in (403, 404):
        return None
    if response.status_code in (400, 422):
        raise InvalidInput(
            f"The registry does not accept student number {student_no!r}.",
            code="audit.student_no_invalid",
            message_zh=f"学号 {student_no} 格式无效",
            extra={"student_no": student_no},
        )
    if response.status_code != 200:
        raise ServiceUnavailable(
            f"The registry answered {response.status_code}.",
            code="audit.registry_unavailable",
            message_zh="暂时无法核对学籍信息，请稍后重试",
        )
    snapshot: dict[str, Any] = response.json()
    snapshot["student_no"] = student_no
    return snapshot


async def _known_student(
    request: Request, session: AsyncSession, principal: Principal, student_no: str, *, ask_registry: bool
) -> None:
    """404 for a student outside the caller's centres (or unknown); learns of a new one from the registry."""
    student = await AuditRepository(session).student(student_no)
    if student is None and ask_registry:
        snapshot = await _registry_snapshot(request, principal, student_no)
        if snapshot is not None:
            student = await service.upsert_student(session, snapshot)
            await session.flush()
    if student is None:
        if principal.is_hq and not ask_registry:
            return
        raise service.student_not_found(student_no)
    principal.ensure_sees(student.learning_centre, service.student_not_found(student_no))


def batch_out(batch: Batch) -> schemas.BatchOut:
    return schemas.BatchOut(
        code=batch.code,
        name=batch.name,
        cohort_cutoff_term=batch.cohort_cutoff_term,
        rounds=[schemas.RoundIn.model_validate(r) for r in batch.rounds],
        issue_date=batch.issue_date,
        graduation_date_rule=batch.graduation_date_rule,
        graduation_date=batches.batch_graduation_date(batch.code, service.batch_date_rule(batch)),
        created_at=batch.created_at,
        updated_at=batch.updated_at,
    )


def audit_out(audit: Audit) -> schemas.AuditOut:
    checks = []
    for c in audit.checks:
        text = CATALOGUE[c["code"]]
        failed = c["outcome"] == "failed"
        checks.append(
            schemas.AuditCheckOut(
                code=c["code"],
                group=text.group,
                outcome=c["outcome"],
                passed=not failed,
                measured=c.get("measured"),
                expected=c.get("expected"),
                missing=c.get("missing"),
                exception_id=c.get("exception_id"),
                message_zh=text.title_zh if not failed else f"未通过：{text.title_zh}",
                message_en=text.title_en if not failed else f"Failed: {text.title_en}",
                hint_zh=text.hint_zh if failed else None,
                hint_en=text.hint_en if failed else None,
            )
        )
    return schemas.AuditOut(
        id=audit.id,
        student_no=audit.student_no,
        batch_code=audit.batch_code,
        application_id=audit.application_id,
        application_type=audit.application_type,
        what_if=audit.what_if,
        scenario=audit.scenario,
        result="passed" if audit.passed else "failed",
        passed=audit.passed,
        degree_eligible=audit.degree_eligible,
        failed_checks=[c.code for c in checks if c.outcome == "failed"],
        checks=checks,
        exceptions=[schemas.ExceptionUseOut.model_validate(e) for e in audit.exceptions or []],
        rule_set=schemas.RuleSetRef(code=audit.rule_set_code, version=audit.rule_set_version)
        if audit.rule_set_code and audit.rule_set_version
        else None,
        degree_rule_set=audit.degree_rule_set,
        inputs_digest=audit.inputs_digest,
        trigger=audit.trigger,
        actor=audit.actor,
        created_at=audit.created_at,
    )


def application_out(app: Application) -> schemas.ApplicationOut:
    return schemas.ApplicationOut(
        id=app.id,
        batch_code=app.batch_code,
        student_no=app.student_no,
        learning_centre=app.learning_centre,
        type=app.type,
        state=app.state,
        round=app.round_no,
        position=app.seq,
        result=None if app.passed is None else ("passed" if app.passed else "failed"),
        failed_checks=app.failed_checks,
        audit_id=app.last_audit_id,
        secondary_vocational_proof=app.secondary_vocational_proof,
        submitted_by=app.submitted_by,
        submitted_at=app.submitted_at,
        signed_off_by=app.signed_off_by,
        signed_off_at=app.signed_off_at,
    )


def exception_out(row: AuditException) -> schemas.ExceptionOut:
    return schemas.ExceptionOut.model_validate(row, from_attributes=True)


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEM_RESPONSES)

    # batches ----------------------------------------------------------------------------------
    @api.put(
        "/graduation-batches/{code}",
        response_model=schemas.BatchOut,
        responses={201: {"model": schemas.BatchOut, "description": "Created"}},
        summary="Create or replace a graduation batch",
    )
    async def put_graduation_batch(
        code: BatchCode,
        body: schemas.BatchIn,
        request: Request,
        response: Response,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.BatchOut:
        _hq(principal)
        async with runtime_from(request).db.transaction() as session:
            batch, created = await records.put_batch(session, code, body, principal.subject)
            response.status_code = 201 if created else 200
            return batch_out(batch)

    @api.get("/graduation-batches/{code}", response_model=schemas.BatchOut, summary="A graduation batch")
    async def get_graduation_batch(
        code: BatchCode, request: Request, principal: Annotated[Principal, requires("audit:read")]
    ) -> schemas.BatchOut:
        async with runtime_from(request).db.session() as session:
            return batch_out(await records.get_batch(session, code))

    @api.get(
        "/graduation-batches",
        response_model=schemas.BatchPage,
        summary="Graduation batches, newest first (cursor pages)",
    )
    async def list_graduation_batches(
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> schemas.BatchPage:
        before = _uncursor(cursor, _BATCH)
        async with runtime_from(request).db.session() as session:
            repo = AuditRepository(session)
            rows = await repo.batches(before=before, limit=limit + 1)
            count = await repo.count_batches()
        page = rows[:limit]
        return schemas.BatchPage(
            items=[batch_out(b) for b in page],
            next_cursor=encode_cursor(page[-1].code) if len(rows) > limit else None,
            count=count,
        )

    # transcripts ------------------------------------------------------------------------------
    @api.put(
        "/students/{student_no}/transcript",
        response_model=schemas.TranscriptOut,
        summary="The student's transcript from the LMS (replaces the previous one; re-audits)",
    )
    async def put_student_transcript(
        student_no: StudentNo,
        body: schemas.TranscriptIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.TranscriptOut:
        async with runtime_from(request).db.transaction() as session:
            await _known_student(request, session, principal, student_no, ask_registry=True)
            transcript = await records.put_transcript(
                session, student_no, body, principal.subject, _settings(request)
            )
            return records.transcript_out(transcript)

    @api.get(
        "/students/{student_no}/transcript",
        response_model=schemas.TranscriptOut,
        summary="The student's transcript",
    )
    async def get_student_transcript(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("audit:read")]
    ) -> schemas.TranscriptOut:
        async with runtime_from(request).db.session() as session:
            await _known_student(request, session, principal, student_no, ask_registry=False)
            transcript = await AuditRepository(session).transcript(student_no)
            if transcript is None:
                raise NotFound(
                    "No transcript yet.",
                    code="audit.transcript_not_found",
                    message_zh="尚未收到该学生的成绩单",
                )
            return records.transcript_out(transcript)

    @api.put(
        "/transcripts",
        response_model=schemas.TranscriptBulkOut,
        summary="Many transcripts at once (all or nothing); each student's open application is re-audited",
    )
    async def put_transcripts(
        body: schemas.TranscriptBulkIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.TranscriptBulkOut:
        settings = _settings(request)
        numbers = [t.student_no for t in body.transcripts]
        if len(set(numbers)) != len(numbers):
            raise InvalidInput(
                "A student appears twice.",
                code="audit.transcript_duplicate_student",
                message_zh="同一学生的成绩单重复出现",
            )
        async with runtime_from(request).db.transaction() as session:
            repo = AuditRepository(session)
            students = await repo.students_by_no(numbers)
            for number in numbers:
                student = students.get(number)
                if (student is None and not principal.is_hq) or (
                    student is not None and not principal.sees_centre(student.learning_centre)
                ):
                    raise service.student_not_found(number)
            for item in body.transcripts:
                await records.put_transcript(
                    session, item.student_no, item, principal.subject, settings, reaudit=False
                )
            await session.flush()
            open_apps = await repo.applications_of_students(numbers)
            todo = [a for apps in open_apps.values() for a in apps if a.state == "open"]
            stats = await service.audit_applications(
                session, todo, trigger="TranscriptUpdated", settings=settings
            )
            return schemas.TranscriptBulkOut(count=len(numbers), reaudited=stats.audited)

    # applications, runs, sign-off -------------------------------------------------------------
    @api.post(
        "/graduation-batches/{code}/applications",
        response_model=schemas.ApplicationsOut,
        status_code=201,
        summary="Apply (graduate | graduate_with_degree | defer) for students or a selection",
    )
    async def post_applications(
        code: BatchCode,
        body: schemas.ApplicationsIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.ApplicationsOut:
        async with runtime_from(request).db.transaction() as session:
            if body.student_nos:
                # Students whose StudentRegistered has not arrived yet are asked of the registry.
                known = await AuditRepository(session).students_by_no(body.student_nos)
                for number in dict.fromkeys(body.student_nos):
                    if number not in known:
                        await _known_student(request, session, principal, number, ask_registry=True)
            submitted = await applications.submit_applications(
                session, code, body, principal, _settings(request), today=service.today_utc()
            )
            return schemas.ApplicationsOut(
                batch_code=code,
                count=len(submitted.applications),
                items=[application_out(a) for a in submitted.applications],
                skipped=submitted.skipped,
            )

    @api.post(
        "/graduation-batches/{code}/audit-runs",
        response_model=schemas.AuditRunOut,
        summary="Re-audit every open application of the batch in submission order (e.g. after a rule change)",
    )
    async def post_audit_run(
        code: BatchCode, request: Request, principal: Annotated[Principal, requires("audit:write")]
    ) -> schemas.AuditRunOut:
        _hq(principal)
        began = time.perf_counter()
        async with runtime_from(request).db.transaction() as session:
            stats = await applications.run_batch(session, code, principal.subject, _settings(request))
        return schemas.AuditRunOut(
            batch_code=code, seconds=round(time.perf_counter() - began, 3), **stats.figures()
        )

    @api.post(
        "/graduation-batches/{code}/sign-offs",
        response_model=schemas.SignOffOut,
        summary="HQ sign-off: passing applications become AuditPassed (per student or every passing one)",
    )
    async def post_sign_offs(
        code: BatchCode,
        body: schemas.SignOffIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.SignOffOut:
        _hq(principal)
        if (body.student_nos is None) == (not body.all_passing):
            raise InvalidInput(
                "Give either student_nos or all_passing: true.",
                code="audit.sign_off_target",
                message_zh="请给出学号列表（student_nos）或 all_passing: true 之一",
            )
        if body.wait_seconds and body.student_nos is None:
            raise InvalidInput(
                "wait_seconds waits for named students: give student_nos with it.",
                code="audit.sign_off_wait_needs_students",
                message_zh="等待重新审核（wait_seconds）须与学号列表（student_nos）一起使用",
            )
        if body.wait_seconds and body.student_nos is not None:
            await applications.wait_for_newer_audits(
                runtime_from(request).db, code, body.student_nos, body.wait_seconds
            )
        async with runtime_from(request).db.transaction() as session:
            signed, skipped = await applications.sign_off(
                session, code, body.student_nos, principal.subject, _settings(request)
            )
            return schemas.SignOffOut(batch_code=code, count=len(signed), signed_off=signed, skipped=skipped)

    @api.get(
        "/graduation-batches/{code}/audits",
        response_model=schemas.BatchAuditPage,
        summary="The current audit of every application in the batch, in submission order",
    )
    async def list_batch_audits(
        code: BatchCode,
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
        result: Literal["passed", "failed", "deferred"] | None = None,
        learning_centre: CentreCodes = None,
        application_type: Literal["graduate", "graduate_with_degree", "defer"] | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> schemas.BatchAuditPage:
        after = _uncursor(cursor, _SEQ)
        async with runtime_from(request).db.session() as session:
            await records.get_batch(session, code)
            rows, count = await AuditRepository(session).list_batch_audits(
                code,
                result=result,
                centres=principal.centre_filter(learning_centre),
                application_type=application_type,
                after_seq=int(after or 0),
                limit=limit,
            )
        page = rows[:limit]
        return schemas.BatchAuditPage(
            items=[
                schemas.BatchAuditItem(
                    student_no=app.student_no,
                    learning_centre=app.learning_centre,
                    application_id=app.id,
                    application_type=app.type,
                    state=app.state,
                    position=app.seq,
                    result="deferred"
                    if app.state == "deferred"
                    else None
                    if app.passed is None
                    else ("passed" if app.passed else "failed"),
                    failed_checks=app.failed_checks or [],
                    degree_eligible=audit.degree_eligible if audit else None,
                    audit_id=app.last_audit_id,
                    audited_at=audit.created_at if audit else None,
                    submitted_at=app.submitted_at,
                )
                for app, audit in page
            ],
            next_cursor=encode_cursor(str(page[-1][0].seq)) if len(rows) > limit else None,
            count=count,
        )

    # a student's audits -----------------------------------------------------------------------
    @api.get(
        "/students/{student_no}/audit",
        response_model=schemas.AuditOut,
        summary="The current graduation audit: every check, outcome, what is missing, how to fix it",
    )
    async def get_student_audit(
        student_no: StudentNo, request: Request, principal: Annotated[Principal, requires("audit:read")]
    ) -> schemas.AuditOut:
        async with runtime_from(request).db.session() as session:
            await _known_student(request, session, principal, student_no, ask_registry=False)
            audit = await AuditRepository(session).latest_audit(student_no)
            if audit is None:
                raise NotFound(
                    f"Student {student_no} has not been audited yet.",
                    code="audit.not_found",
                    message_zh="该学生尚无毕业审核记录",
                )
            return audit_out(audit)

    @api.get(
        "/students/{student_no}/audits",
        response_model=schemas.AuditPage,
        summary="The student's audit history, newest first (what-if runs with kind=what_if)",
    )
    async def list_student_audits(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
        kind: Literal["application", "what_if", "all"] = "application",
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> schemas.AuditPage:
        before = _time_cursor(cursor)
        async with runtime_from(request).db.session() as session:
            await _known_student(request, session, principal, student_no, ask_registry=False)
            repo = AuditRepository(session)
            what_if = None if kind == "all" else kind == "what_if"
            rows = await repo.audits_of(student_no, what_if=what_if, before=before, limit=limit)
            count = await repo.count_audits_of(student_no, what_if=what_if)
        page = rows[:limit]
        return schemas.AuditPage(
            items=[audit_out(a) for a in page],
            next_cursor=encode_cursor(f"{page[-1].created_at.isoformat()}|{page[-1].id}")
            if len(rows) > limit
            else None,
            count=count,
        )

    async def _visible_audit(
        request: Request, session: AsyncSession, principal: Principal, audit_id: str
    ) -> Audit:
        audit = await AuditRepository(session).audit(audit_id)
        not_found = NotFound("No such audit.", code="audit.audit_not_found", message_zh="该审核记录不存在")
        if audit is None:
            raise not_found
        student = await AuditRepository(session).student(audit.student_no)
        if not principal.sees_centre(student.learning_centre if student else None):
            raise not_found
        return audit

    @api.get(
        "/audits/{audit_id}", response_model=schemas.AuditOut, summary="One stored audit run (immutable)"
    )
    async def get_audit(
        audit_id: AuditId, request: Request, principal: Annotated[Principal, requires("audit:read")]
    ) -> schemas.AuditOut:
        async with runtime_from(request).db.session() as session:
            return audit_out(await _visible_audit(request, session, principal, audit_id))

    @api.get(
        "/audits/{audit_id}/diff",
        response_model=schemas.AuditDiffOut,
        summary="What changed between an earlier run (`against`) and this one",
    )
    async def diff_audits(
        audit_id: AuditId,
        against: Annotated[str, Query(pattern=UUID_PATTERN, description="The earlier audit's id")],
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
    ) -> schemas.AuditDiffOut:
        from gradops_audit.domain.engine import diff_checks

        async with runtime_from(request).db.session() as session:
            after = await _visible_audit(request, session, principal, audit_id)
            before = await _visible_audit(request, session, principal, against)
        if before.student_no != after.student_no:
            raise InvalidInput(
                "Both audits must be of one student.",
                code="audit.diff_other_student",
                message_zh="只能比较同一学生的两次审核",
            )

        def ref(a: Audit) -> schemas.RuleSetRef | None:
            return (
                schemas.RuleSetRef(code=a.rule_set_code, version=a.rule_set_version)
                if a.rule_set_code and a.rule_set_version
                else None
            )

        return schemas.AuditDiffOut(
            from_audit=before.id,
            to_audit=after.id,
            result_before="passed" if before.passed else "failed",
            result_after="passed" if after.passed else "failed",
            digest_changed=before.inputs_digest != after.inputs_digest,
            rule_set_before=ref(before),
            rule_set_after=ref(after),
            changes=[
                schemas.CheckChangeOut.model_validate(c) for c in diff_checks(before.checks, after.checks)
            ],
        )

    @api.post(
        "/students/{student_no}/what-if-audits",
        response_model=schemas.AuditOut,
        status_code=201,
        summary="What-if audit (another major, future grades): stored with its inputs, emits nothing",
    )
    async def post_what_if(
        student_no: StudentNo,
        body: schemas.WhatIfIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
    ) -> schemas.AuditOut:
        async with runtime_from(request).db.transaction() as session:
            await _known_student(request, session, principal, student_no, ask_registry=True)
            return audit_out(
                await records.what_if(session, student_no, body, principal.subject, _settings(request))
            )

    # exceptions -------------------------------------------------------------------------------
    @api.post(
        "/students/{student_no}/exceptions",
        response_model=schemas.ExceptionOut,
        status_code=201,
        summary="Grant an exception (waive a check / substitute a course); re-audits",
    )
    async def post_exception(
        student_no: StudentNo,
        body: schemas.ExceptionIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.ExceptionOut:
        _hq(principal)
        async with runtime_from(request).db.transaction() as session:
            await _known_student(request, session, principal, student_no, ask_registry=True)
            row = await records.grant_exception(
                session, student_no, body, principal.subject, _settings(request)
            )
            await session.flush()
            return exception_out(row)

    @api.get(
        "/students/{student_no}/exceptions",
        response_model=schemas.ExceptionPage,
        summary="The student's exceptions, revoked ones included, oldest first (cursor pages)",
    )
    async def list_exceptions(
        student_no: StudentNo,
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> schemas.ExceptionPage:
        after = _time_cursor(cursor)
        async with runtime_from(request).db.session() as session:
            await _known_student(request, session, principal, student_no, ask_registry=False)
            repo = AuditRepository(session)
            rows = await repo.exceptions_page(student_no, after=after, limit=limit + 1)
            count = await repo.count_exceptions_of(student_no)
        page = rows[:limit]
        return schemas.ExceptionPage(
            items=[exception_out(e) for e in page],
            next_cursor=encode_cursor(f"{page[-1].granted_at.isoformat()}|{page[-1].id}")
            if len(rows) > limit
            else None,
            count=count,
        )

    @api.delete(
        "/students/{student_no}/exceptions/{exception_id}",
        response_model=schemas.ExceptionOut,
        summary="Revoke an exception (kept, marked revoked); re-audits",
    )
    async def revoke_exception(
        student_no: StudentNo,
        exception_id: AuditId,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.ExceptionOut:
        _hq(principal)
        async with runtime_from(request).db.transaction() as session:
            row = await records.revoke_exception(
                session, student_no, exception_id, principal.subject, _settings(request)
            )
            await session.flush()
            return exception_out(row)

    # rule sets --------------------------------------------------------------------------------
    @api.get(
        "/rule-sets",
        response_model=schemas.RuleSetPage,
        summary="Graduation rule sets, then degree rule sets, every version, by code and version "
        "(cursor pages)",
    )
    async def list_rule_sets(
        request: Request,
        principal: Annotated[Principal, requires("audit:read")],
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> schemas.RuleSetPage:
        after = _uncursor(cursor, _RULE_SET_KEY)
        settings = _settings(request)
        async with runtime_from(request).db.session() as session:
            stored = await AuditRepository(session).rule_set_versions()
        graduation = [
            *SHIPPED_GRADUATION,
            *(GraduationRules.from_data(r.code, r.version, r.data) for r in stored),
        ]
        latest: dict[str, int] = {}
        for rules in graduation:
            latest[rules.code] = max(latest.get(rules.code, 0), rules.version)
        shipped_codes = {r.code for r in SHIPPED_GRADUATION}
        out = [
            schemas.RuleSetOut(
                code=r.code,
                version=r.version,
                kind="graduation",
                source="shipped" if r.code in shipped_codes else "stored",
                in_use=latest[r.code] == r.version,
                data=r.as_data(),
            )
            for r in graduation
        ]
        from dataclasses import asdict

        out += [
            schemas.RuleSetOut(
                code=d.code,
                version=d.version,
                kind="degree",
                source="shipped",
                in_use=d.code == settings.degree_rule_set,
                data={k: v for k, v in asdict(d).items() if k not in ("code", "version")},
            )
            for d in SHIPPED_DEGREE
        ]

        def key(r: schemas.RuleSetOut) -> tuple[int, str, int]:
            return (0 if r.kind == "graduation" else 1, r.code, r.version)

        def spelled(k: tuple[int, str, int]) -> str:
            return f"{k[0]}|{k[1]}|{k[2]}"

        ordered = sorted(out, key=key)
        if after is not None:
            kind, code, version = after.split("|")
            ordered = [r for r in ordered if key(r) > (int(kind), code, int(version))]
        page = ordered[:limit]
        return schemas.RuleSetPage(
            items=page,
            next_cursor=encode_cursor(spelled(key(page[-1]))) if len(ordered) > limit else None,
            count=len(out),
        )

    @api.put(
        "/rule-sets/{code}",
        response_model=schemas.RuleSetOut,
        status_code=201,
        summary="Store a new version of a graduation rule set (earlier versions stay)",
    )
    async def put_rule_set(
        code: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")],
        body: schemas.RuleSetIn,
        request: Request,
        principal: Annotated[Principal, requires("audit:write")],
    ) -> schemas.RuleSetOut:
        _hq(principal)
        async with runtime_from(request).db.transaction() as session:
            row = await records.put_rule_set(session, code, body, principal.subject)
            rules = GraduationRules.from_data(row.code, row.version, row.data)
            return schemas.RuleSetOut(
                code=row.code,
                version=row.version,
                kind="graduation",
                source="stored",
                in_use=True,
                data=rules.as_data(),
            )

    return api
