"""图像校对 rules: the class feedback sheet (图像信息校对反馈表) and the completion figures, from the
registry's students and our submissions. Pure (the sheet is built in memory), no I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from gradops_photo.domain import LOCKED_STATES, PROOFREAD_CONFIRM_PROMPT_ZH
from gradops_shared.text import export_cell

SHEET_COLUMNS = ("序号", "学号", "姓名", "校对结果", "本人签名")
CORRECT = "无误"
NOT_DONE = "未校对"
PROOFREAD_MESSAGES_ZH = {
    "confirm_requested": PROOFREAD_CONFIRM_PROMPT_ZH,
    "confirmed": "已确认无误",
    "error_reported": "已记录校对错误，请向教务部门提交更正材料",
}


class Submission(Protocol):
    """What the rules read of a submission (the ORM model has it)."""

    @property
    def state(self) -> str: ...
    @property
    def proofread_state(self) -> str | None: ...
    @property
    def proofread_detail(self) -> str | None: ...


def sheet_result(submission: Submission | None) -> str:
    if submission is None:
        return NOT_DONE
    if submission.proofread_state == "confirmed":
        return CORRECT
    if submission.proofread_detail:
        return submission.proofread_detail
    return NOT_DONE


def locked_photo(submissions: Sequence[Submission]) -> Submission | None:
    for submission in reversed(submissions):
        if submission.state in LOCKED_STATES:
            return submission
    return None


def sheet_rows(students: list[dict[str, Any]], photos: Mapping[str, Sequence[Submission]]) -> list[list[str]]:
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


def completion_status(submissions: Sequence[Submission]) -> str:
    """One word per student: on_chsi, approved, pending_review, rejected, expired or none."""
    states = [s.state for s in submissions]
    for wanted in ("on_chsi", "approved", "pending_review"):
        if wanted in states:
            return wanted
    latest = submissions[-1].state if submissions else None
    return latest if latest in ("rejected", "expired") else "none"


def completion_rows(
    students: list[dict[str, Any]], photos: Mapping[str, Sequence[Submission]], group_by: str
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
