"""Rendering: the CHSI registration export (CSV with BOM for Excel, XLSX) and the PDFs.

The PDFs use reportlab's built-in CID font STSong-Light (Adobe-GB1): the viewer supplies the
glyphs, so no font file ships and nothing is fetched; the text stays extractable (tests read it
back with pypdf)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from gradops_certificates.domain.printout_text import (
    CHSI_COLUMNS,
    GENDER_ZH,
    LEVEL_ZH,
    STUDY_FORM_ZH,
    StudentFacts,
    duration_text,
    study_start,
)
from gradops_shared.text import export_cell

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
# Control characters have no glyph and no business on paper (records stored before the text guards
# may still hold some): they are dropped from what a PDF prints.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _printable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def _cells(row: dict[str, str]) -> list[object]:
    """One export row, each cell defused: a name typed as `=HYPERLINK(…)` stays text in Excel and
    in whatever opens the CSV, and a control character cannot break the file."""
    return [export_cell(row[field]) for field, _ in CHSI_COLUMNS]


def chsi_csv(rows: Sequence[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([zh for _, zh in CHSI_COLUMNS])
    for row in rows:
        writer.writerow(_cells(row))
    # The BOM makes Excel open UTF-8 Chinese correctly.
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def chsi_xlsx(rows: Sequence[dict[str, str]], batch_code: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"学历注册{batch_code}"
    sheet.append([zh for _, zh in CHSI_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # Every value as text: numbers like 证书编号 and 学号 must not become floats in Excel.
        sheet.append(_cells(row))
    for index, (field, _) in enumerate(CHSI_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 40 if field == "photo" else 16
        for cell in sheet[letter][1:]:
            cell.number_format = "@"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(canvas: Canvas, x: float, y: float, w: float, h: float, label: str, value: str = "") -> None:
    canvas.rect(x, y, w, h)
    canvas.setFont(FONT, 9)
    canvas.drawString(x + 2 * mm, y + h - 5 * mm, label)
    value = _printable(value)
    if value:
        canvas.setFont(FONT, 11)
        canvas.drawString(x + 2 * mm, y + 2.5 * mm, value)


def registration_form_pdf(
    facts: StudentFacts,
    *,
    certificate_number: str,
    school_name: str,
    issue_date: date,
    graduation_date: date,
    level: str,
    photo: bytes | None,
) -> bytes:
    """毕业生登记表, pre-filled. Without the photo the box stays empty with a label asking for the same
    print as the certificate's (the technical reason goes to the response header and the log, not
    on paper). The blank parts (study history, thesis, awards, self-appraisal ≥ 200
    characters, centre and HQ opinions) are written by hand; their date rules are printed."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"毕业生登记表 {_printable(facts.student_no)}")
    width, height = A4
    left, right = 15 * mm, width - 15 * mm
    canvas.setFont(FONT, 18)
    canvas.drawCentredString(width / 2, height - 20 * mm, "毕业生登记表")
    canvas.setFont(FONT, 10)
    canvas.drawString(left, height - 28 * mm, f"学校：{_printable(school_name)}")
    canvas.drawRightString(right, height - 28 * mm, f"电子注册号：{certificate_number}")

    photo_w, photo_h = 35 * mm, 47 * mm  # 二寸 (35 × 49 mm), within the grid's height
    photo_x = right - photo_w
    top = height - 32 * mm
    row_h = 12 * mm
    start = study_start(facts.enrolment_term)
    grid = [
        [
            ("姓名", facts.name),
            ("性别", GENDER_ZH.get(facts.gender, "")),
            ("出生日期", str(facts.birth_date or "")),
        ],
        [("学号", facts.student_no), ("考生号", facts.exam_no or ""), ("学习中心", facts.learning_centre)],
        [
            ("专业", facts.major),
            ("层次", LEVEL_ZH.get(level, level)),
            ("学制", duration_text(facts.duration_years)),
        ],
        [
            ("学习形式", STUDY_FORM_ZH.get(facts.study_form, facts.study_form)),
            ("入学时间", start.isoformat() if start else ""),
            ("毕业时间", graduation_date.isoformat()),
        ],
    ]
    grid_w = photo_x - left
    col_w = grid_w / 3
    for r, cells in enumerate(grid):
        y = top - (r + 1) * row_h
        for c, (label, value) in enumerate(cells):
            _cell(canvas, left + c * col_w, y, col_w, row_h, label, value)
    box_y = top - 4 * row_h
    canvas.rect(photo_x, box_y, photo_w, 4 * row_h)
    if photo is not None:
        canvas.drawImage(
            ImageReader(io.BytesIO(photo)),
            photo_x + 1 * mm,
            box_y + (4 * row_h - photo_h) / 2,
            photo_w - 2 * mm,
            photo_h,
            preserveAspectRatio=True,
        )
    else:
        canvas.setFont(FONT, 10)
        canvas.drawCentredString(photo_x + photo_w / 2, box_y + 2 * row_h + 2 * mm, "照片")
        canvas.setFont(FONT, 8)
        canvas.drawCentredString(
            photo_x + photo_w / 2, box_y + 2 * row_h - 3 * mm, "（未能获取毕业证书照片，"
        )
        canvas.drawCentredString(photo_x + photo_w / 2, box_y + 2 * row_h - 7 * mm, "请粘贴同版照片）")

    sections = [
        ("联系方式（手机、电子邮箱、工作单位）", 14 * mm, ""),
        ("学习经历", 22 * mm, ""),
        ("毕业论文（设计）题目", 12 * mm, ""),
        ("奖惩情况", 16 * mm, ""),
        ("自我鉴定（不少于200字）", 52 * mm, ""),
        (
            "学习中心意见",
            26 * mm,
            f"（盖章）    日期：            （须早于发证日期 {issue_date.isoformat()}）",
        ),
        ("总部意见", 26 * mm, f"（盖章）    日期：{issue_date.isoformat()}（即发证日期）"),
    ]
    y = box_y
    for label, h, footer in sections:
        y -= h
        canvas.rect(left, y, right - left, h)
        canvas.setFont(FONT, 10)
        canvas.drawString(left + 2 * mm, y + h - 5 * mm, label)
        if footer:
            canvas.setFont(FONT, 9)
            canvas.drawRightString(right - 3 * mm, y + 3 * mm, footer)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def proof_pdf(paragraphs: Sequence[str], *, title: str = "毕业证明书") -> bytes:
    """The 毕业证明书: title, the 补证号, the certifying text wrapped to the page, signature block."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(title)
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    canvas.setFont(FONT, 22)
    canvas.drawCentredString(width / 2, height - 35 * mm, title)
    paragraphs = [_printable(p) for p in paragraphs]
    number_line, body, signature = paragraphs[0], paragraphs[1:-3], paragraphs[-3:]
    canvas.setFont(FONT, 10)
    canvas.drawRightString(right, height - 45 * mm, number_line)
    y = height - 62 * mm
    size = 13
    canvas.setFont(FONT, size)
    for paragraph in body:
        for line in _wrap(paragraph, right - left - 2 * size, size, indent=2):
            canvas.drawString(left, y, line)
            y -= size * 1.9
        y -= size * 0.6
    y -= 12 * mm
    for line in signature:
        canvas.drawRightString(right, y, line)
        y -= size * 1.9
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _wrap(text: str, max_width: float, size: int, *, indent: int) -> list[str]:
    """Breaks Chinese text by width (any character may end a line); the first line is indented."""
    lines: list[str] = []
    current = "\u3000" * indent
    for char in text:
        if pdfmetrics.stringWidth(current + char, FONT, size) > max_width:
            lines.append(current)
            current = ""
        current += char
    if current:
        lines.append(current)
    return lines
