"""图像校对, the class feedback sheet (图像信息校对反馈表) and the completion figures.

Students' names and classes come from the registry over HTTP when the sheet is asked for (the
owner's current data; no projection to keep in step). The photo side is ours.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain, service
from gradops_photo.models import PhotoSubmission, outbox
from gradops_photo.repository import PhotoRepository
from gradops_shared.contracts import PhotoProofread
from gradops_shared.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from gradops_shared.logging import current_request_id
from gradops_shared.outbox import add_event
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, sign_principal
from gradops_shared.text import export_cell

SHEET_COLUMNS = ("序号", "学号", "姓名", "校对结果", "本人签名")
CORRECT = "无误"
NOT_DONE = "未校对"


async def proofread(
    session: AsyncSession, student_no: str, principal: Principal, *, action: str, detail: str | None
) -> tuple[PhotoSubmission, bool]:
    """Returns the submission and whether the answer is final. "Correct" must be said twice: the
    first confirmation only asks again and changes nothing of the result; confirmed is final."""
    submission = await service.current_photo(session, student_no, "graduation", for_update=True)
    not_found = NotFound(
        f"Student {student_no} has no approved graduation photo to proofread.",
        code="photo.nothing_to_proofread",
        message_zh="该学生没有可校对的已审核毕业照片",
    )
    if submission is None:
        raise not_found
    principal.ensure_sees(submission.learning_centre, not_found)
    if submission.proofread_state == "confirmed":
        raise Conflict(
            "The student already confirmed the photo and data; a confirmation is final.",
            code="photo.proofread_final",
            message_zh="已确认无误，确认后不能更改",
        )
    now = datetime.now(UTC)
    if action == "report_error":
        if not detail or not detail.strip():
            raise InvalidInput(
                "Say what is wrong.",
                code="photo.proofread_detail_required",
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


def sheet_result(submission: PhotoSubmission | None) -> str:
    if submission is None:
        return NOT_DONE
    if submission.proofread_state == "confirmed":
        return CORRECT
    if submission.proofread_detail:
        return submission.proofread_detail
    return NOT_DONE


async def registry_students(
    registry: httpx.AsyncClient, principal: Principal, secret: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every student matching the filters, page by page (the caller's reach applies)."""
    students: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        headers = {
            "x-request-id": current_request_id() or uuid.uuid4().hex,
            PRINCIPAL_HEADER: sign_principal(principal, secret),
        }
        try:
            response = await registry.get("/api/v1/students", params=query, headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "The registry could not be reached.",
                code="photo.registry_unavailable",
                message_zh="暂时无法读取学籍信息，请稍后重试",
            ) from exc
        if response.status_code in (400, 422):
            # The caller's filter (a class code, a centre) is not one the registry accepts: the
            # caller's mistake, not an outage to retry.
            raise InvalidInput(
                "The registry refused the filter.",
                code="photo.filter_invalid",
                message_zh="筛选条件无效",
                extra={"filters": sorted(params)},
            )
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"The registry answered {response.status_code}.",
                code="photo.registry_unavailable",
                message_zh="暂时无法读取学籍信息，请稍后重试",
            )
        page = response.json()
        students.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return students


async def current_photos(
    session: AsyncSession, student_nos: Iterable[str]
) -> dict[str, list[PhotoSubmission]]:
    by_student: dict[str, list[PhotoSubmission]] = {}
    for submission in await PhotoRepository(session).submissions_of_many(student_nos, "graduation"):
        by_student.setdefault(submission.student_no, []).append(submission)
    return by_student


def locked_photo(submissions: list[PhotoSubmission]) -> PhotoSubmission | None:
    for submission in reversed(submissions):
        if submission.state in domain.LOCKED_STATES:
            return submission
    return None


def sheet_rows(students: list[dict[str, Any]], photos: dict[str, list[PhotoSubmission]]) -> list[list[str]]:
    ordered = sorted(students, key=lambda s: str(s["student_no"]), reverse=True)
    return [
        [
            str(n),
            str(s["student_no"]),
            str(s.get("name") or ""),
            sheet_result(locked_photo(photos.get(s["student_no"], []))),
            "",
        ]
        for n, s in enumerate(ordered, start=1)
    ]


def sheet_title(class_code: str) -> str:
    return f"图像信息校对反馈表（班级：{class_code}）"


def _cells(row: Iterable[str]) -> list[str]:
    """Every cell as a spreadsheet must show it: a name typed as `=HYPERLINK(…)` stays text (OWASP's
    CSV-injection advice), control characters (which openpyxl refuses with a 500) are dropped."""
    return [export_cell(value) for value in row]


def sheet_csv(title: str, rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_cells([title]))
    writer.writerow(SHEET_COLUMNS)
    writer.writerows(_cells(row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode()  # BOM: Excel on Chinese Windows opens it right


def sheet_xlsx(title: str, rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "校对反馈表"
    sheet.append(_cells([title]))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(SHEET_COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(list(SHEET_COLUMNS))
    for row in rows:
        sheet.append(_cells(row))
    for column, width in zip("ABCDE", (6, 16, 12, 30, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def completion_status(submissions: list[PhotoSubmission]) -> str:
    """One word per student: on_chsi, approved, pending_review, rejected, expired or none."""
    states = [s.state for s in submissions]
    for wanted in ("on_chsi", "approved", "pending_review"):
        if wanted in states:
            return wanted
    latest = submissions[-1].state if submissions else None
    return latest if latest in ("rejected", "expired") else "none"


def completion_rows(
    students: list[dict[str, Any]], photos: dict[str, list[PhotoSubmission]], group_by: str
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for student in students:
        group = str(student.get("learning_centre" if group_by == "centre" else "class_code") or "")
        row = rows.setdefault(
            group,
            {
                "group": group,
                "students": 0,
                "without_graduation_photo": 0,
                "pending_review": 0,
                "rejected": 0,
                "expired": 0,
                "approved": 0,
                "on_chsi": 0,
            },
        )
        status = completion_status(photos.get(student["student_no"], []))
        row["students"] += 1
        if status not in ("approved", "on_chsi"):
            row["without_graduation_photo"] += 1
        if status != "none":
            row[status] += 1
    return [rows[key] for key in sorted(rows)]
