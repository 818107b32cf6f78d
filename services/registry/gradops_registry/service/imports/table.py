"""Reading a roster file (名单): CSV or XLSX, UTF-8 or GB18030, Chinese or English headers, into
rows validated with the same rules as PUT. No database: runs in a worker thread."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from gradops_registry import domain
from gradops_registry.errors import (
    IMPORT_DUPLICATE_COLUMN,
    IMPORT_DUPLICATE_STUDENT_NO,
    IMPORT_EMPTY,
    IMPORT_ENCODING,
    IMPORT_MALFORMED,
    IMPORT_MISSING_COLUMN,
    IMPORT_TOO_MANY_COLUMNS,
    IMPORT_TOO_MANY_ROWS,
    IMPORT_UNKNOWN_COLUMN,
    STUDENT_NO_FORMAT,
)
from gradops_registry.schemas import ImportRowError, StudentIn
from gradops_registry.service.imports.xlsx import SheetLimits, read_first_sheet
from gradops_registry.service.validation import validate_record
from gradops_registry.settings import RegistrySettings
from gradops_shared.errors import GradOpsError

# Header (English field name or the Chinese column names registrars use) -> field.
HEADERS: dict[str, str] = {
    "student_no": "student_no", "学号": "student_no",
    "name": "name", "姓名": "name",
    "gender": "gender", "性别": "gender",
    "birth_date": "birth_date", "出生日期": "birth_date",
    "id_type": "id_type", "证件类型": "id_type",
    "id_number": "id_number", "证件号码": "id_number", "证件号": "id_number", "身份证号": "id_number",
    "身份证号码": "id_number",
    "learning_centre": "learning_centre", "学习中心": "learning_centre", "学习中心代码": "learning_centre",
    "level": "level", "层次": "level", "学历层次": "level",
    "category": "category", "学生类别": "category",
    "major": "major", "专业": "major",
    "enrolment_term": "enrolment_term", "入学年度学期": "enrolment_term", "入学学期": "enrolment_term",
    "study_form": "study_form", "学习形式": "study_form",
    "status": "status", "学籍状态": "status",
    "former_name": "former_name", "曾用名": "former_name",
    "ethnicity": "ethnicity", "民族": "ethnicity",
    "political_status": "political_status", "政治面貌": "political_status",
    "exam_no": "exam_no", "考生号": "exam_no",
    "class_code": "class_code", "班级": "class_code",
    "duration_years": "duration_years", "学制": "duration_years",
    "education_type": "education_type", "学历类别": "education_type",
    "expected_graduation_date": "expected_graduation_date", "预计毕业日期": "expected_graduation_date",
    "mobile": "mobile", "手机": "mobile", "手机号": "mobile",
    "email": "email", "电子邮箱": "email", "邮箱": "email",
    "work_unit": "work_unit", "工作单位": "work_unit",
}  # fmt: skip
REQUIRED = ("student_no", "name", "gender", "id_number", "learning_centre", "level", "category", "major",
            "enrolment_term", "study_form")  # fmt: skip
# Chinese values of the closed lists the API takes as codes.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "gender": {"男": "male", "女": "female"},
    "id_type": {"居民身份证": "resident_id", "身份证": "resident_id", "护照": "passport",
                "军官证": "military_officer", "士兵证": "soldier", "其他": "other"},
    "status": {label: code for code, label in domain.STATUS_LABELS_ZH.items()},
    "level": {label: code for code, label in domain.LEVELS.items()},
}  # fmt: skip
# SheetLimits' fields, as settings `import_max_<name>` (rows, columns, xlsx_entries, ...).
_LIMIT_SETTINGS = ("rows", "columns", "xlsx_entries", "xlsx_part_bytes", "xlsx_total_bytes", "shared_strings")
_STUDENT_NO = re.compile(r"^[0-9A-Za-z]{1,32}$")
_XLSX_MAGIC = b"PK\x03\x04"


def limits_of(settings: RegistrySettings) -> SheetLimits:
    """The roster bounds the settings name, in the order SheetLimits declares them."""
    return SheetLimits(*(getattr(settings, f"import_max_{name}") for name in _LIMIT_SETTINGS))


def _too_many_rows(limits: SheetLimits) -> GradOpsError:
    return IMPORT_TOO_MANY_ROWS(
        f"The roster has more than {limits.max_rows} rows; split it into several files.",
        message_zh=f"名单超过 {limits.max_rows} 行，请拆分为多个文件",
    )


def read_table(content: bytes, limits: SheetLimits | None = None) -> list[list[str]]:
    """Rows of cells as text (header first, blank rows dropped), from XLSX (by its magic bytes) or
    CSV, refused (413) beyond the row and column limits before they are all held."""
    limits = limits or SheetLimits()
    if content.startswith(_XLSX_MAGIC):
        rows = [row for row in read_first_sheet(content, limits) if any(cell.strip() for cell in row)]
        if len(rows) > limits.max_rows + 1:
            raise _too_many_rows(limits)
        return rows
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string
        raise IMPORT_ENCODING("The file is neither UTF-8 nor GB18030 text.", message_zh="文件编码无法识别")
    table: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) > limits.max_columns:
                raise IMPORT_TOO_MANY_COLUMNS(
                    f"A row of the roster has more than {limits.max_columns} columns.",
                    message_zh=f"名单的列数超过 {limits.max_columns} 列",
                )
            if any(cell.strip() for cell in row):
                table.append(row)
                if len(table) > limits.max_rows + 1:
                    raise _too_many_rows(limits)
    except csv.Error as exc:
        raise IMPORT_MALFORMED(f"The CSV file is malformed: {exc}.", message_zh="CSV 文件格式错误") from None
    return table


@dataclass
class Row:
    line: int
    student_no: str | None
    values: dict[str, Any]
    errors: list[ImportRowError] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    id_number: str = ""

    def error(self, column: str | None, code: str, reason: str, reason_zh: str) -> None:
        self.errors.append(
            ImportRowError(row=self.line, column=column, code=code, reason=reason, reason_zh=reason_zh)
        )


def _columns(header: list[str]) -> tuple[list[str | None], dict[str, str]]:
    """Field per column position, and field -> the header as written (for the report)."""
    fields: list[str | None] = []
    shown: dict[str, str] = {}
    unknown = []
    for raw in header:
        name = raw.strip()
        mapped = HEADERS.get(name) or HEADERS.get(name.lower())
        if mapped is None and name:
            unknown.append(name)
        if mapped is not None and mapped in shown:
            raise IMPORT_DUPLICATE_COLUMN(f"Column {name} appears twice.", message_zh=f"列“{name}”重复")
        if mapped is not None:
            shown[mapped] = name
        fields.append(mapped)
    if unknown:
        raise IMPORT_UNKNOWN_COLUMN(
            f"Unknown column(s): {', '.join(unknown)}.",
            message_zh=f"无法识别的列：{'、'.join(unknown)}",
            extra={"unknown_columns": unknown},
        )
    missing = [f for f in REQUIRED if f not in shown]
    if missing:
        raise IMPORT_MISSING_COLUMN(
            f"Missing column(s): {', '.join(missing)}.",
            message_zh=f"缺少必填列：{'、'.join(missing)}",
            extra={"missing_columns": missing},
        )
    return fields, shown


def parse_rows(table: list[list[str]]) -> tuple[list[Row], dict[str, str]]:
    if not table:
        raise IMPORT_EMPTY("The file has no header row.", message_zh="文件为空")
    columns, shown = _columns(table[0])
    rows = []
    for offset, cells in enumerate(table[1:], start=2):
        values: dict[str, Any] = {}
        for position, cell in enumerate(cells):
            name = columns[position] if position < len(columns) else None
            text = cell.strip()
            if name is None or not text:
                continue
            values[name] = VALUE_LABELS.get(name, {}).get(text, text)
        rows.append(Row(line=offset, student_no=values.pop("student_no", None), values=values))
    return rows, shown


def _validate(row: Row, shown: dict[str, str], today: date) -> None:
    if row.student_no is None or not _STUDENT_NO.match(row.student_no):
        row.error(
            shown["student_no"],
            STUDENT_NO_FORMAT.code,
            "student_no: 1-32 letters or digits.",
            "学号应为 1 至 32 位字母或数字",
        )
    try:
        payload = StudentIn.model_validate(row.values)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            row.error(shown.get(name or "", name), "request.validation_failed", error["msg"], "字段取值无效")
        return
    record = validate_record(payload, today=today)
    for problem in record.problems:
        row.error(
            shown.get(problem.field, problem.field), problem.code, problem.message_en, problem.message_zh
        )
    row.fields, row.id_number = record.fields, record.id_number
    row.fields["status"] = payload.status


def checked_rows(content: bytes, limits: SheetLimits, today: date) -> tuple[list[Row], dict[str, str]]:
    """The file's rows, each validated with the PUT rules (no database): runs in a worker thread."""
    rows, shown = parse_rows(read_table(content, limits))
    seen: dict[str, int] = {}
    for row in rows:
        _validate(row, shown, today)
        if row.student_no is not None:
            if row.student_no in seen:
                row.error(
                    shown["student_no"],
                    IMPORT_DUPLICATE_STUDENT_NO.code,
                    f"student_no also on row {seen[row.student_no]}.",
                    f"学号与第 {seen[row.student_no]} 行重复",
                )
            else:
                seen[row.student_no] = row.line
    return rows, shown
