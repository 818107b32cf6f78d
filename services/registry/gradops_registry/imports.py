"""Roster import (名单导入): CSV or XLSX, UTF-8 or GB18030, Chinese or English headers.

Every row is validated with the same rules as PUT; the report lists every row with its outcome and
every error with row, column and reason. A file with any invalid row writes nothing unless
`partial` is asked; `dry_run` validates only. Writes are set-based (multi-row INSERT/UPDATE and
batched outbox rows), so 100,000 rows fit in one transaction in well under a minute.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry import domain
from gradops_registry.models import OrgUnit, StatusChange, Student, outbox
from gradops_registry.pii import PiiCipher
from gradops_registry.repository import OrgRepository, StudentRepository
from gradops_registry.schemas import ImportReport, ImportRowError, ImportRowOutcome, StudentIn
from gradops_registry.service import registry_cipher, snapshot_from_row
from gradops_registry.settings import RegistrySettings
from gradops_registry.validation import validate_record
from gradops_registry.xlsx import SheetLimits, read_first_sheet
from gradops_shared.contracts import EventData, StudentRegistered, StudentStatusChanged, StudentUpdated
from gradops_shared.errors import GradOpsError, InvalidInput, PayloadTooLarge
from gradops_shared.outbox import notify_relay, outbox_rows
from gradops_shared.principal import Principal

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
# (row, current columns, changed columns, typed changes with their details)
_Update = tuple["_Row", dict[str, Any], dict[str, Any], list[tuple[str, dict[str, Any]]]]
RowOutcome = Literal["created", "updated", "unchanged", "invalid", "would_create", "would_update"]
_STUDENT_NO = re.compile(r"^[0-9A-Za-z]{1,32}$")
_XLSX_MAGIC = b"PK\x03\x04"


def _refused(detail: str, code: str, zh: str) -> InvalidInput:
    return InvalidInput(detail, code=code, message_zh=zh)


def limits_of(settings: RegistrySettings) -> SheetLimits:
    return SheetLimits(
        max_rows=settings.import_max_rows,
        max_columns=settings.import_max_columns,
        max_entries=settings.import_max_xlsx_entries,
        max_part_bytes=settings.import_max_xlsx_part_bytes,
        max_total_bytes=settings.import_max_xlsx_total_bytes,
        max_shared_strings=settings.import_max_shared_strings,
    )


def _too_many_rows(limits: SheetLimits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The roster has more than {limits.max_rows} rows; split it into several files.",
        code="registry.import_too_many_rows",
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
        raise _refused(
            "The file is neither UTF-8 nor GB18030 text.", "registry.import_encoding", "文件编码无法识别"
        )
    table: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) > limits.max_columns:
                raise PayloadTooLarge(
                    f"A row of the roster has more than {limits.max_columns} columns.",
                    code="registry.import_too_many_columns",
                    message_zh=f"名单的列数超过 {limits.max_columns} 列",
                )
            if any(cell.strip() for cell in row):
                table.append(row)
                if len(table) > limits.max_rows + 1:
                    raise _too_many_rows(limits)
    except csv.Error as exc:
        raise _refused(
            f"The CSV file is malformed: {exc}.", "registry.import_malformed", "CSV 文件格式错误"
        ) from None
    return table


@dataclass
class _Row:
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
            raise _refused(
                f"Column {name} appears twice.", "registry.import_duplicate_column", f"列“{name}”重复"
            )
        if mapped is not None:
            shown[mapped] = name
        fields.append(mapped)
    if unknown:
        raise InvalidInput(
            f"Unknown column(s): {', '.join(unknown)}.",
            code="registry.import_unknown_column",
            message_zh=f"无法识别的列：{'、'.join(unknown)}",
            extra={"unknown_columns": unknown},
        )
    missing = [f for f in REQUIRED if f not in shown]
    if missing:
        raise InvalidInput(
            f"Missing column(s): {', '.join(missing)}.",
            code="registry.import_missing_column",
            message_zh=f"缺少必填列：{'、'.join(missing)}",
            extra={"missing_columns": missing},
        )
    return fields, shown


def parse_rows(table: list[list[str]]) -> tuple[list[_Row], dict[str, str]]:
    if not table:
        raise _refused("The file has no header row.", "registry.import_empty", "文件为空")
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
        rows.append(_Row(line=offset, student_no=values.pop("student_no", None), values=values))
    return rows, shown


def _validate(row: _Row, shown: dict[str, str], today: date) -> None:
    if row.student_no is None or not _STUDENT_NO.match(row.student_no):
        row.error(
            shown["student_no"],
            "registry.student_no_format",
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


def checked_rows(content: bytes, limits: SheetLimits, today: date) -> tuple[list[_Row], dict[str, str]]:
    """The file's rows, each validated with the PUT rules (no database): runs in a worker thread."""
    rows, shown = parse_rows(read_table(content, limits))
    seen: dict[str, int] = {}
    for row in rows:
        _validate(row, shown, today)
        if row.student_no is not None:
            if row.student_no in seen:
                row.error(
                    shown["student_no"],
                    "registry.import_duplicate_student_no",
                    f"student_no also on row {seen[row.student_no]}.",
                    f"学号与第 {seen[row.student_no]} 行重复",
                )
            else:
                seen[row.student_no] = row.line
    return rows, shown


async def import_roster(
    session: AsyncSession,
    settings: RegistrySettings,
    principal: Principal,
    content: bytes,
    *,
    dry_run: bool,
    partial: bool,
) -> ImportReport:
    now = datetime.now(UTC)
    # Parsing and validating 100,000 rows is seconds of CPU: a worker thread, so the event loop
    # (every API of the embedded suite) keeps answering meanwhile.
    rows, shown = await asyncio.to_thread(checked_rows, content, limits_of(settings), now.date())

    units = await OrgRepository(session).all_units()
    existing = await StudentRepository(session).get_rows(
        [r.student_no for r in rows if r.student_no and not r.errors]
    )
    cipher = registry_cipher(settings)
    creates: list[_Row] = []
    updates: list[_Update] = []
    unchanged: list[_Row] = []
    for row in rows:
        if row.errors:
            continue
        centre_code = row.fields["learning_centre"]
        centre = units.get(centre_code)
        if centre is None or centre.kind != "learning_centre" or not principal.sees_centre(centre_code):
            row.error(
                shown["learning_centre"],
                "registry.learning_centre_not_found",
                f"Learning centre {centre_code} does not exist.",
                f"学习中心 {centre_code} 不存在",
            )
            continue
        row.fields["branch"] = _branch_of(centre, units)
        assert row.student_no is not None
        current = existing.get(row.student_no)
        if current is None:
            if row.fields["status"] == "graduated":
                row.error(
                    shown.get("status"),
                    "registry.status_graduated_reserved",
                    "graduated is set only when a certificate is issued.",
                    "毕业状态只能由证书发放流程设置",
                )
                continue
            creates.append(row)
            continue
        if not principal.sees_centre(current["learning_centre"]):
            row.error(
                shown["student_no"],
                "registry.student_not_found",
                f"No student with number {row.student_no}.",
                f"学号 {row.student_no} 的学生不存在",
            )
            continue
        _diff_existing(row, current, shown, cipher.lookup_hash(row.id_number), updates, unchanged)

    invalid = [r for r in rows if r.errors]
    write = not dry_run and (partial or not invalid)
    if write:
        await _write(session, principal, creates, updates, now, cipher, settings)

    results: list[ImportRowOutcome] = []
    created_lines = {r.line for r in creates}
    updated_lines = {u[0].line for u in updates}
    for row in rows:
        outcome: RowOutcome
        if row.errors:
            outcome = "invalid"
        elif row.line in created_lines:
            outcome = "created" if write else "would_create"
        elif row.line in updated_lines:
            outcome = "updated" if write else "would_update"
        else:
            outcome = "unchanged"
        # Built from checked values: no need to validate 100,000 of them again.
        results.append(
            ImportRowOutcome.model_construct(
                row=row.line, student_no=row.student_no, outcome=outcome, errors=row.errors
            )
        )
    report = ImportReport(
        dry_run=dry_run,
        partial=partial,
        imported=write and bool(creates or updates),
        rows=len(rows),
        created=len(creates),
        updated=len(updates),
        unchanged=len(unchanged),
        invalid=len(invalid),
        results=results,
    )
    if invalid and not partial and not dry_run:
        raise ImportRejected(report)
    return report


class ImportRejected(GradOpsError):
    status = 422
    code = "registry.import_rejected"
    title = "Import rejected"
    message_zh = "导入文件中有无效行，未导入任何数据（可改正后重新导入，或使用 partial=true 只导入有效行）"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.invalid} of {report.rows} rows are invalid; nothing was imported "
            "(see the report, or import the valid rows with partial=true).",
            extra={"report": report.model_dump(mode="json")},
        )


def _branch_of(centre: OrgUnit, units: dict[str, OrgUnit]) -> str | None:
    parent = units.get(centre.parent) if centre.parent else None
    return parent.code if parent is not None and parent.kind == "branch" else None


def _diff_existing(
    row: _Row,
    current: dict[str, Any],
    shown: dict[str, str],
    id_hash: str,
    updates: list[_Update],
    unchanged: list[_Row],
) -> None:
    requested_status = row.fields.pop("status")
    if requested_status is not None and requested_status != current["status"]:
        row.error(
            shown.get("status"),
            "registry.import_status_change",
            "An import does not change a status; use POST /students/{student_no}/status-changes.",
            "导入不能变更学籍状态，请办理学籍异动",
        )
        return
    changes: list[tuple[str, dict[str, Any]]] = []
    for field_name, change_type in (("major", "change_major"), ("learning_centre", "transfer_centre")):
        if row.fields[field_name] != current[field_name]:
            try:
                domain.apply_change(current["status"], change_type)
            except GradOpsError as exc:
                row.error(shown.get(field_name), exc.code, exc.detail, exc.message_zh)
                return
            changes.append(
                (
                    change_type,
                    {field_name: {"from": current[field_name], "to": row.fields[field_name]}},
                )
            )
    changed = {k: v for k, v in row.fields.items() if current[k] != v}
    if id_hash != current["id_number_hash"]:
        changed["id_number_hash"] = id_hash
    if not changed:
        unchanged.append(row)
        return
    updates.append((row, current, changed, changes))


async def _write(
    session: AsyncSession,
    principal: Principal,
    creates: list[_Row],
    updates: list[_Update],
    now: datetime,
    cipher: PiiCipher,
    settings: RegistrySettings,
) -> None:
    repo = StudentRepository(session)
    batch = settings.import_batch_rows
    events: list[EventData] = []
    change_rows: list[dict[str, Any]] = []
    student_rows: list[dict[str, Any]] = []
    for row in creates:
        status = row.fields.pop("status") or "enrolled"
        values = {
            **row.fields,
            "student_no": row.student_no,
            "status": status,
            "id_number_encrypted": cipher.encrypt(row.id_number),
            "id_number_hash": cipher.lookup_hash(row.id_number),
            "id_number_last4": row.id_number[-4:],
            "prior_education_state": "none",
            "identity_in_doubt": False,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        student_rows.append(values)
        change_rows.append(
            _change_row(
                values["student_no"],
                "registered",
                None,
                status,
                "registered (import)",
                None,
                principal.subject,
                now,
            )
        )
        events.append(snapshot_from_row(StudentRegistered, values))
    await repo.copy_rows(Student, student_rows, batch)

    update_rows: list[dict[str, Any]] = []
    for row, current, changed, changes in updates:
        if "id_number_hash" in changed:
            changed["id_number_encrypted"] = cipher.encrypt(row.id_number)
            changed["id_number_last4"] = row.id_number[-4:]
        update_rows.append(
            {
                "student_no": current["student_no"],
                **changed,
                "version": current["version"] + 1,
                "updated_at": now,
            }
        )
        current = {**current, **changed}  # the snapshot after the UPDATE below
        for change_type, details in changes:
            change_rows.append(
                _change_row(
                    current["student_no"],
                    change_type,
                    current["status"],
                    current["status"],
                    "roster import",
                    details,
                    principal.subject,
                    now,
                )
            )
            events.append(
                StudentStatusChanged.model_validate(
                    {
                        "student_no": current["student_no"],
                        "from_status": current["status"],
                        "to_status": current["status"],
                        "reason": f"{change_type}: roster import",
                        "effective_date": now.date(),
                    }
                )
            )
        events.append(snapshot_from_row(StudentUpdated, current))
    await repo.bulk_update_students(update_rows, batch)
    await repo.copy_rows(StatusChange, change_rows, batch)
    await repo.copy_rows(outbox, outbox_rows(events), batch)
    await notify_relay(session, outbox)


def _change_row(
    student_no: str | None,
    change_type: str,
    from_status: str | None,
    to_status: str,
    reason: str,
    details: dict[str, Any] | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "student_no": student_no,
        "change_type": change_type,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": details,
        "effective_date": now.date(),
        "actor": actor,
        "created_at": now,
    }
