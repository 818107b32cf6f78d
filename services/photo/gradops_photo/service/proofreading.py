"""图像校对 (the student confirms the photo, asked twice, or says what is wrong), the class feedback
sheet (图像信息校对反馈表) and the completion figures.

Students' names and classes come from the registry over HTTP when the sheet is asked for (the
owner's current data; no projection to keep in step). The photo side is ours. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.domain.proofreading import (
    completion_rows,
    sheet_csv,
    sheet_rows,
    sheet_title,
    sheet_xlsx,
)
from gradops_photo.errors import NOTHING_TO_PROOFREAD, PROOFREAD_DETAIL_REQUIRED, PROOFREAD_FINAL
from gradops_photo.models import PhotoSubmission, outbox
from gradops_photo.repository import PhotoRepository
from gradops_photo.service.submissions import current_photo
from gradops_shared.contracts import PhotoProofread
from gradops_shared.outbox import add_event
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal


async def proofread(
    session: AsyncSession, student_no: str, principal: Principal, *, action: str, detail: str | None
) -> tuple[PhotoSubmission, bool]:
    """Returns the submission and whether the answer is final. "Correct" must be said twice: the
    first confirmation only asks again and changes nothing of the result; confirmed is final."""
    submission = await current_photo(session, student_no, "graduation", for_update=True)
    not_found = NOTHING_TO_PROOFREAD(
        f"Student {student_no} has no approved graduation photo to proofread.",
        message_zh="该学生没有可校对的已审核毕业照片",
    )
    if submission is None:
        raise not_found
    principal.ensure_sees(submission.learning_centre, not_found)
    if submission.proofread_state == "confirmed":
        raise PROOFREAD_FINAL(
            "The student already confirmed the photo and data; a confirmation is final.",
            message_zh="已确认无误，确认后不能更改",
        )
    now = datetime.now(UTC)
    if action == "report_error":
        if not detail or not detail.strip():
            raise PROOFREAD_DETAIL_REQUIRED(
                "Say what is wrong.",
                message_zh="请填写错误内容",
                extra={
                    "errors": [
                        {
                            "field": "detail",
                            "in": "body",
                            "type": "missing",
                            "message": "请填写错误内容 / detail is required",
                        }
                    ]
                },
            )
        submission.proofread_state, submission.proofread_detail, submission.proofread_at = (
            "error_reported",
            detail.strip(),
            now,
        )
        await _emit(session, submission, "error_reported", detail.strip())
        return submission, True
    if submission.proofread_state != "confirm_requested":
        submission.proofread_state = "confirm_requested"  # the result itself is unchanged
        return submission, False
    submission.proofread_state, submission.proofread_at = "confirmed", now
    submission.proofread_detail = None
    await _emit(session, submission, "confirmed", None)
    return submission, True


async def _emit(session: AsyncSession, submission: PhotoSubmission, outcome: str, detail: str | None) -> None:
    await add_event(
        session,
        outbox,
        PhotoProofread(
            student_no=submission.student_no,
            submission_id=uuid.UUID(submission.id),
            outcome="confirmed" if outcome == "confirmed" else "error_reported",
            detail=detail,
        ),
    )


async def current_photos(
    session: AsyncSession, student_nos: Iterable[str]
) -> dict[str, list[PhotoSubmission]]:
    by_student: dict[str, list[PhotoSubmission]] = {}
    for submission in await PhotoRepository(session).submissions_of_many(student_nos, "graduation"):
        by_student.setdefault(submission.student_no, []).append(submission)
    return by_student


@dataclass(frozen=True)
class Sheet:
    content: bytes
    media_type: str


async def feedback_sheet(
    session: AsyncSession, registry: RegistryClient, principal: Principal, *, class_code: str, format: str
) -> Sheet:
    """The class's feedback sheet, by 学号 descending, as XLSX or CSV."""
    students = await registry.students(principal, {"class": class_code})
    photos = await current_photos(session, [s["student_no"] for s in students])
    title = sheet_title(class_code)
    rows = sheet_rows(students, photos)
    if format == "csv":
        return Sheet(sheet_csv(title, rows), "text/csv; charset=utf-8")
    return Sheet(sheet_xlsx(title, rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


async def completion(
    session: AsyncSession,
    registry: RegistryClient,
    principal: Principal,
    *,
    centre: list[str] | None,
    class_code: str | None,
    group_by: str,
) -> list[dict[str, Any]]:
    """Completion figures of the students in 在籍, per centre or class."""
    params: dict[str, object] = {"status": "enrolled"}
    if centre:
        params["centre"] = centre
    if class_code:
        params["class"] = class_code
    students = await registry.students(principal, params)
    photos = await current_photos(session, [s["student_no"] for s in students])
    return completion_rows(students, photos, group_by)
