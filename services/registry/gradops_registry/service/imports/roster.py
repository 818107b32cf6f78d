"""Roster import (名单导入): every row validated with the same rules as PUT; the report lists every
row with its outcome and every error with row, column and reason. A file with any invalid row
writes nothing unless `partial` is asked; `dry_run` validates only. Writes are set-based (COPY /
multi-row INSERT, executemany UPDATE, batched outbox rows in chunks of `import_batch_rows`), so
100,000 rows fit in one transaction in well under a minute.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry import domain
from gradops_registry.errors import (
    IMPORT_STATUS_CHANGE,
    LEARNING_CENTRE_NOT_FOUND,
    STATUS_GRADUATED_RESERVED,
    STUDENT_NOT_FOUND,
    ImportRejected,
)
from gradops_registry.models import OrgUnit, StatusChange, Student, outbox
from gradops_registry.repository import OrgRepository, StudentRepository
from gradops_registry.schemas import ImportReport, ImportRowOutcome
from gradops_registry.service.imports.table import Row, checked_rows, limits_of
from gradops_registry.service.pii import PiiCipher, registry_cipher
from gradops_registry.service.record import snapshot_from_row
from gradops_registry.settings import RegistrySettings
from gradops_shared.contracts import EventData, StudentRegistered, StudentStatusChanged, StudentUpdated
from gradops_shared.errors import GradOpsError
from gradops_shared.outbox import notify_relay, outbox_rows
from gradops_shared.principal import Principal

# (row, current columns, changed columns, typed changes with their details)
_Update = tuple[Row, dict[str, Any], dict[str, Any], list[tuple[str, dict[str, Any]]]]
RowOutcome = Literal["created", "updated", "unchanged", "invalid", "would_create", "would_update"]


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
    creates: list[Row] = []
    updates: list[_Update] = []
    unchanged: list[Row] = []
    for row in rows:
        if row.errors:
            continue
        centre_code = row.fields["learning_centre"]
        centre = units.get(centre_code)
        if centre is None or centre.kind != "learning_centre" or not principal.sees_centre(centre_code):
            row.error(
                shown["learning_centre"],
                LEARNING_CENTRE_NOT_FOUND.code,
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
                    STATUS_GRADUATED_RESERVED.code,
                    "graduated is set only when a certificate is issued.",
                    "毕业状态只能由证书发放流程设置",
                )
                continue
            creates.append(row)
            continue
        if not principal.sees_centre(current["learning_centre"]):
            row.error(
                shown["student_no"],
                STUDENT_NOT_FOUND.code,
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


def _branch_of(centre: OrgUnit, units: dict[str, OrgUnit]) -> str | None:
    parent = units.get(centre.parent) if centre.parent else None
    return parent.code if parent is not None and parent.kind == "branch" else None


def _diff_existing(
    row: Row,
    current: dict[str, Any],
    shown: dict[str, str],
    id_hash: str,
    updates: list[_Update],
    unchanged: list[Row],
) -> None:
    requested_status = row.fields.pop("status")
    if requested_status is not None and requested_status != current["status"]:
        row.error(
            shown.get("status"),
            IMPORT_STATUS_CHANGE.code,
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
    creates: list[Row],
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
