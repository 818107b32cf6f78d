"""Submitting photos and reading them back: a centre's upload (checked, optionally standardised,
stored with its report), a student's submissions, one submission with its history, its files.
Never commits: the edge owns the transaction."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain
from gradops_photo.errors import CURSOR_INVALID, FILE_NOT_FOUND, LOCKED, ORIGINAL_NOT_KEPT
from gradops_photo.models import PhotoSubmission, SubmissionTransition, outbox
from gradops_photo.qc import QcReport
from gradops_photo.qc.pool import QcJob, QcOutcome, QcPool
from gradops_photo.repository import PhotoRepository
from gradops_photo.schemas import QcReportOut
from gradops_photo.service.history import Deadlines, deadlines_of, get_submission, log, move
from gradops_photo.service.qc import judged_report, profile_of, run_qc
from gradops_photo.service.registry import lookup_student
from gradops_photo.settings import PhotoSettings
from gradops_shared.contracts import PhotoSubmitted
from gradops_shared.db import sha256_hex
from gradops_shared.errors import Conflict
from gradops_shared.outbox import add_event
from gradops_shared.paging import position_cursor, read_position
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


def standardised_href(submission_id: str) -> str:
    return f"/api/v1/photo-submissions/{submission_id}/file?variant=standardised"


async def ensure_not_locked(session: AsyncSession, student_no: str, kind: str) -> None:
    """An approved photo (or one on CHSI) stays the student's photo until an operator re-opens it."""
    for existing in await PhotoRepository(session).submissions_of(student_no, kind=kind):
        if existing.state in domain.LOCKED_STATES:
            raise LOCKED(
                f"Student {student_no} already has an approved {kind} photo; it must be re-opened first.",
                message_zh="该学生的照片已审核通过并锁定，需由管理员重新开放采集后才能重新上传",
                extra={"submission_id": existing.id, "state": existing.state},
            )


async def submit_photo(
    session: AsyncSession,
    *,
    student_no: str,
    kind: str,
    source: str,
    data: bytes,
    judged: QcReport,
    qc_report: dict[str, Any],
    actor: str,
    learning_centre: str | None,
    deadlines: Deadlines,
    standardised: bytes | None = None,
    submission_id: str | None = None,
    first_of_student: bool = False,
    preview: bytes | None = None,
) -> PhotoSubmission:
    """Stores the upload (and its standardised photo) with the report; `judged` is the report that
    decides the state: the standardised photo's when there is one, else the upload's. A photo still
    waiting for review is superseded by the new one; an approved photo refuses it (photo.locked).
    An auto-rejected upload that came with a `preview` (it was over the keep limit) is not stored:
    the preview is, and the upload's digest stays on the submission."""
    if not first_of_student:  # the bulk import knows a student without any photo: no queries needed
        await ensure_not_locked(session, student_no, kind)
    now = datetime.now(UTC)
    sha256 = sha256_hex(data)
    repo = PhotoRepository(session)
    state = domain.state_after_qc(judged)
    preview_sha256 = None
    if state == "auto_rejected" and preview is not None:
        preview_sha256 = sha256_hex(preview)
        await repo.store_blob(preview)
    else:
        await repo.store_blob(data)
    standardised_sha256 = None
    if standardised is not None:
        standardised_sha256 = sha256_hex(standardised)
        await repo.store_blob(standardised)
    submission = PhotoSubmission(
        id=submission_id or str(uuid.uuid4()),
        student_no=student_no,
        kind=kind,
        source=source,
        state=state,
        sha256=sha256,
        standardised_sha256=standardised_sha256,
        preview_sha256=preview_sha256,
        learning_centre=learning_centre,
        qc_report=qc_report,
        created_at=now,
        updated_at=now,
        review_due_at=deadlines.calendar.deadline(now, deadlines.review_sla_workdays)
        if state == "pending_review"
        else None,
    )
    older_ones = [] if first_of_student else await repo.submissions_of(student_no, kind=kind, for_update=True)
    for older in older_ones:
        if older.state == "pending_review":
            move(repo, older, "superseded", actor, f"replaced by submission {submission.id}")
    repo.add_submission(submission)
    log(repo, submission, None, "submitted", actor, f"uploaded via {source}", now)
    log(
        repo,
        submission,
        "submitted",
        state,
        "qc",
        "QC failed: " + ", ".join(judged.failed_codes("error")) if state == "auto_rejected" else None,
        now,
    )
    await add_event(
        session,
        outbox,
        PhotoSubmitted(
            student_no=student_no,
            submission_id=uuid.UUID(submission.id),
            kind=kind,
            state=state,
            sha256=sha256,
        ),
    )
    return submission


@dataclass(frozen=True)
class Checked:
    """An upload after QC: the outcome and the report that decides its state."""

    data: bytes
    outcome: QcOutcome
    judged: QcReport


async def check_upload(pool: QcPool, settings: PhotoSettings, data: bytes, *, standardise: bool) -> Checked:
    """QC (and standardisation) on the pool; an upload that is no decodable JPEG is refused here."""
    job = QcJob(
        data,
        profile_of(None, settings),
        None,
        standardise,
        preview_above=settings.rejected_original_max_bytes,
    )
    outcome = await run_qc(pool, job, settings)
    return Checked(data, outcome, judged_report(outcome))


async def store_checked(
    session: AsyncSession,
    settings: PhotoSettings,
    checked: Checked,
    *,
    student_no: str,
    kind: str,
    source: str,
    actor: str,
    learning_centre: str | None,
) -> PhotoSubmission:
    """The submission of a checked upload, with its report (linking the standardised file)."""
    submission_id = str(uuid.uuid4())
    fixed = checked.outcome.standardised
    report = QcReportOut.of(checked.outcome, href=standardised_href(submission_id))
    return await submit_photo(
        session,
        student_no=student_no,
        kind=kind,
        source=source,
        data=checked.data,
        judged=checked.judged,
        qc_report=report.model_dump(mode="json"),
        actor=actor,
        learning_centre=learning_centre,
        deadlines=deadlines_of(settings),
        standardised=fixed.data if fixed else None,
        submission_id=submission_id,
        preview=checked.outcome.preview,
    )


async def submit_centre_photo(
    session: AsyncSession,
    pool: QcPool,
    registry: RegistryClient,
    settings: PhotoSettings,
    principal: Principal,
    *,
    student_no: str,
    kind: str,
    data: bytes,
    standardise: bool,
) -> PhotoSubmission:
    """A centre's upload for a student the registry knows within the caller's reach (QC first)."""
    checked = await check_upload(pool, settings, data, standardise=standardise)
    student = await lookup_student(registry, principal, student_no)
    return await store_checked(
        session,
        settings,
        checked,
        student_no=student_no,
        kind=kind,
        source="centre_upload",
        actor=principal.subject,
        learning_centre=student.get("learning_centre"),
    )


async def submission_file(
    session: AsyncSession, submission_id: str, variant: str, principal: Principal
) -> bytes:
    """The stored photo of a submission: the upload as it came, its standardised version, or the
    preview kept instead of a rejected oversize upload."""
    repo = PhotoRepository(session)
    submission = await get_submission(session, submission_id, principal)
    if variant == "original" and submission.preview_sha256 is not None:
        raise ORIGINAL_NOT_KEPT(
            f"Submission {submission_id} was rejected by QC and its upload was not kept "
            "(only a preview: variant=preview).",
            message_zh="该照片未通过检测且文件过大，原文件未保存（可查看预览：variant=preview）",
        )
    sha256 = {
        "original": submission.sha256,
        "standardised": submission.standardised_sha256,
        "preview": submission.preview_sha256,
    }.get(variant)
    blob = await repo.get_blob(sha256) if sha256 else None
    if blob is None:
        raise FILE_NOT_FOUND(
            f"Submission {submission_id} has no {variant} photo.",
            message_zh={
                "standardised": "该提交没有此版本的照片（未做标准化）",
                "preview": "该提交没有预览（原文件已保存）",
            }.get(variant, "照片文件不存在"),
        )
    return blob.content


async def submission_with_history(
    session: AsyncSession, submission_id: str, principal: Principal
) -> tuple[PhotoSubmission, list[SubmissionTransition]]:
    repo = PhotoRepository(session)
    submission = await get_submission(session, submission_id, principal)
    return submission, await repo.transitions(submission_id)


async def student_submissions(
    session: AsyncSession,
    registry: RegistryClient,
    principal: Principal,
    student_no: str,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[PhotoSubmission], str | None, int]:
    """A page of a student's submissions (oldest first), the next cursor and the count of all."""
    after = read_position(cursor, CURSOR_INVALID) if cursor else None
    found, count = await PhotoRepository(session).submissions_page(
        student_no, centres=principal.centres, after=after, limit=limit + 1
    )
    if not count and not principal.is_hq:
        # A centre's key learns nothing from an empty answer: the registry (with the caller's
        # reach) says whether the student is theirs; another centre's or a missing one is 404.
        with contextlib.suppress(Conflict):  # withdrawn or cancelled: theirs, just without photos
            await lookup_student(registry, principal, student_no)
    page = found[:limit]
    next_cursor = position_cursor(page[-1].created_at, page[-1].id) if len(found) > limit else None
    return page, next_cursor, count


async def current_photo(
    session: AsyncSession, student_no: str, kind: str, *, for_update: bool = False
) -> PhotoSubmission | None:
    """The student's approved (or on-CHSI) photo of that kind, if any."""
    for submission in reversed(
        await PhotoRepository(session).submissions_of(student_no, kind=kind, for_update=for_update)
    ):
        if submission.state in domain.LOCKED_STATES:
            return submission
    return None
