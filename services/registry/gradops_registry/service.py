"""Registry use cases: load, apply the rules, write the record and its events. Never commits."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry import domain
from gradops_registry.domain import prior_education as review_rules
from gradops_registry.domain.org import check_kind_unchanged, check_placement
from gradops_registry.models import IdentityFlagChange, OrgUnit, StatusChange, Student, outbox
from gradops_registry.pii import PiiCipher
from gradops_registry.repository import OrgRepository, StudentRepository
from gradops_registry.schemas import IdentityFlagIn, OrgUnitIn, StatusChangeIn, StudentIn
from gradops_registry.settings import RegistrySettings
from gradops_registry.validation import validate_record
from gradops_shared.contracts import (
    IdentityFlagChanged,
    StudentRegistered,
    StudentSnapshot,
    StudentStatusChanged,
    StudentUpdated,
)
from gradops_shared.errors import Conflict, InvalidInput, NotFound
from gradops_shared.outbox import add_event
from gradops_shared.principal import Principal

_SNAPSHOT_FIELDS = (
    "name",
    "gender",
    "learning_centre",
    "level",
    "category",
    "major",
    "enrolment_term",
    "study_form",
    "status",
    "branch",
    "class_code",
    "education_type",
    "birth_date",
    "duration_years",
    "exam_no",
)


@functools.lru_cache(maxsize=8)
def cipher_for(secret: str) -> PiiCipher:
    return PiiCipher(secret)


def registry_cipher(settings: RegistrySettings) -> PiiCipher:
    return cipher_for(settings.pii_key.get_secret_value())


def course_selection_allowed(student: Student) -> bool:
    return review_rules.course_selection_allowed(student.prior_education_state, student.status)


def snapshot_data(cls: type[StudentSnapshot], student: Student) -> StudentSnapshot:
    return cls(
        student_no=student.student_no,
        course_selection_allowed=course_selection_allowed(student),
        **{f: getattr(student, f) for f in _SNAPSHOT_FIELDS},
    )


def snapshot_from_row(cls: type[StudentSnapshot], row: dict[str, Any]) -> StudentSnapshot:
    """The same snapshot from a row about to be bulk-inserted (no ORM object per row)."""
    return cls(
        student_no=row["student_no"],
        course_selection_allowed=review_rules.course_selection_allowed(
            row["prior_education_state"], row["status"]
        ),
        **{f: row.get(f) for f in _SNAPSHOT_FIELDS},
    )


def student_not_found(student_no: str) -> NotFound:
    return NotFound(
        f"No student with number {student_no}.",
        code="registry.student_not_found",
        message_zh=f"学号 {student_no} 的学生不存在",
    )


def centre_not_found(code: str) -> InvalidInput:
    """Also for a centre outside the caller's reach: existence does not leak."""
    return InvalidInput(
        f"Learning centre {code} does not exist (create it with PUT /learning-centres/{code}).",
        code="registry.learning_centre_not_found",
        message_zh=f"学习中心 {code} 不存在",
        extra={
            "errors": [{"field": "learning_centre", "in": "body", "type": "not_found", "message": "unknown"}]
        },
    )


def check_version(student: Student, expected: int | None) -> None:
    if expected is not None and expected != student.version:
        raise Conflict(
            f"The record changed since you read it (your version {expected}, now {student.version}).",
            code="registry.version_conflict",
            message_zh="学籍记录已被他人修改，请重新读取后再提交",
            extra={"current_version": student.version},
        )


async def get_student(session: AsyncSession, student_no: str, principal: Principal | None = None) -> Student:
    student = await StudentRepository(session).get(student_no)
    if student is None or (principal is not None and not principal.sees_centre(student.learning_centre)):
        raise student_not_found(student_no)
    return student


async def locked_student(
    session: AsyncSession, student_no: str, principal: Principal, expected_version: int | None
) -> Student:
    student = await StudentRepository(session).get(student_no, for_update=True)
    if student is None or not principal.sees_centre(student.learning_centre):
        raise student_not_found(student_no)
    check_version(student, expected_version)
    return student


# ---- organisation tree ----------------------------------------------------------------------


async def ensure_root(session: AsyncSession, settings: RegistrySettings) -> OrgUnit:
    repo = OrgRepository(session)
    root = await repo.get(settings.school_code)
    if root is None:
        now = datetime.now(UTC)
        root = OrgUnit(
            code=settings.school_code,
            name=settings.school_name,
            kind="university",
            parent=None,
            created_at=now,
            updated_at=now,
        )
        repo.add(root)
        await session.flush()
    return root


async def put_org_unit(
    session: AsyncSession, settings: RegistrySettings, principal: Principal, code: str, payload: OrgUnitIn
) -> tuple[OrgUnit, bool]:
    """A centre-bound key may only rename its own centres; the tree's shape belongs to HQ."""
    if not principal.is_hq and code not in (principal.centres or frozenset()):
        raise org_not_found(code)
    await ensure_root(session, settings)
    repo = OrgRepository(session)
    parent_kind = None
    if payload.parent:
        parent = await repo.get(payload.parent)
        parent_kind = parent.kind if parent else None
    check_placement(
        code=code,
        kind=payload.kind,
        parent_code=payload.parent,
        parent_kind=parent_kind,
        school_code=settings.school_code,
    )
    now = datetime.now(UTC)
    unit = await repo.get(code)
    if unit is None:
        unit = OrgUnit(
            code=code,
            name=payload.name,
            kind=payload.kind,
            parent=payload.parent,
            created_at=now,
            updated_at=now,
        )
        repo.add(unit)
        await session.flush()
        return unit, True
    check_kind_unchanged(unit.kind, payload.kind)
    if (unit.name, unit.parent) != (payload.name, payload.parent):
        unit.name, unit.parent, unit.updated_at = payload.name, payload.parent, now
    return unit, False


def org_not_found(code: str) -> NotFound:
    return NotFound(
        f"No organisation unit with code {code}.",
        code="registry.org_unit_not_found",
        message_zh=f"组织单位 {code} 不存在",
    )


async def get_org_unit(
    session: AsyncSession, settings: RegistrySettings, principal: Principal, code: str
) -> OrgUnit:
    unit = await OrgRepository(session).get(code)
    if unit is None and code == settings.school_code:
        now = datetime.now(UTC)
        unit = OrgUnit(
            code=code,
            name=settings.school_name,
            kind="university",
            parent=None,
            created_at=now,
            updated_at=now,
        )
    if unit is None or not (principal.is_hq or code in (principal.centres or frozenset())):
        raise org_not_found(code)
    return unit


async def resolve_centre(session: AsyncSession, principal: Principal, code: str) -> tuple[str, str | None]:
    """The learning centre (must exist, be a centre, be within reach) and its branch, if any."""
    repo = OrgRepository(session)
    centre = await repo.get(code)
    if centre is None or centre.kind != "learning_centre" or not principal.sees_centre(code):
        raise centre_not_found(code)
    branch = None
    if centre.parent:
        parent = await repo.get(centre.parent)
        branch = parent.code if parent is not None and parent.kind == "branch" else None
    return code, branch


# ---- the student record ---------------------------------------------------------------------


async def upsert_student(
    session: AsyncSession,
    settings: RegistrySettings,
    principal: Principal,
    student_no: str,
    payload: StudentIn,
    *,
    expected_version: int | None = None,
) -> tuple[Student, bool]:
    """Creates or replaces the record. Returns (student, created). Status, major and centre
    changes made through PUT are recorded as the matching 学籍异动, under the same rules."""
    now = datetime.now(UTC)
    record = validate_record(payload, today=now.date())
    record.raise_if_invalid()
    expected = payload.version if payload.version is not None else expected_version
    repo = StudentRepository(session)
    student = await repo.get(student_no, for_update=True)
    if student is not None:
        if not principal.sees_centre(student.learning_centre):
            raise student_not_found(student_no)
        check_version(student, expected)
    fields = record.fields
    fields["learning_centre"], fields["branch"] = await resolve_centre(
        session, principal, payload.learning_centre
    )
    cipher = registry_cipher(settings)
    id_hash = cipher.lookup_hash(record.id_number)

    if student is None:
        status = payload.status or "enrolled"
        domain.check_status_via_record_update(None, status)
        student = Student(
            student_no=student_no,
            status=status,
            id_number_encrypted=cipher.encrypt(record.id_number),
            id_number_hash=id_hash,
            id_number_last4=record.id_number[-4:],
            prior_education_state="none",
            identity_in_doubt=False,
            version=1,
            created_at=now,
            updated_at=now,
            **fields,
        )
        repo.add(student)
        repo.add_status_change(
            StatusChange(
                student_no=student_no,
                change_type="registered",
                from_status=None,
                to_status=status,
                reason="registered",
                effective_date=now.date(),
                actor=principal.subject,
                created_at=now,
            )
        )
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict(
                f"Student {student_no} was created by another request at the same time; read it and retry.",
                code="registry.version_conflict",
                message_zh="该学生刚被另一请求创建，请重新读取后再提交",
            ) from None
        await add_event(session, outbox, snapshot_data(StudentRegistered, student))
        return student, True

    changes: list[tuple[str, dict[str, Any] | None]] = []
    if fields["major"] != student.major:
        domain.apply_change(student.status, "change_major")
        changes.append(("change_major", {"major": {"from": student.major, "to": fields["major"]}}))
    if fields["learning_centre"] != student.learning_centre:
        domain.apply_change(student.status, "transfer_centre")
        changes.append(
            (
                "transfer_centre",
                {"learning_centre": {"from": student.learning_centre, "to": fields["learning_centre"]}},
            )
        )
    # A status change goes last, so a major or centre change is logged under the status it was made in.
    if payload.status is not None and payload.status != student.status:
        changes.append((domain.change_for_status(student.status, payload.status), None))
    changed = {k: v for k, v in fields.items() if getattr(student, k) != v}
    if id_hash != student.id_number_hash:
        changed.update(
            id_number_encrypted=cipher.encrypt(record.id_number),
            id_number_hash=id_hash,
            id_number_last4=record.id_number[-4:],
        )
    if not changed and not changes:
        return student, False
    for key, value in changed.items():
        setattr(student, key, value)
    student.version += 1
    student.updated_at = now
    for change_type, details in changes:
        before = student.status
        student.status = domain.apply_change(before, change_type)
        await record_status_change(
            session,
            student,
            before,
            change_type=change_type,
            reason="record updated (PUT)",
            actor=principal.subject,
            details=details,
        )
    await add_event(session, outbox, snapshot_data(StudentUpdated, student))
    await session.flush()
    return student, False


async def change_status(
    session: AsyncSession,
    principal: Principal,
    student_no: str,
    body: StatusChangeIn,
    expected_version: int | None,
) -> tuple[Student, StatusChange]:
    student = await locked_student(
        session, student_no, principal, body.version if body.version is not None else expected_version
    )
    previous = student.status
    to_status = domain.apply_change(previous, body.change_type)
    details: dict[str, Any] | None = None
    if body.change_type == "change_major":
        if not body.major or body.major == student.major:
            raise _change_needs("major", "a new major", "新的专业")
        details = {"major": {"from": student.major, "to": body.major}}
        student.major = body.major
    elif body.change_type == "transfer_centre":
        if not body.learning_centre or body.learning_centre == student.learning_centre:
            raise _change_needs("learning_centre", "a new learning centre", "新的学习中心")
        code, branch = await resolve_centre(session, principal, body.learning_centre)
        details = {"learning_centre": {"from": student.learning_centre, "to": code}}
        student.learning_centre, student.branch = code, branch
    student.status = to_status
    student.version += 1
    student.updated_at = datetime.now(UTC)
    change = await record_status_change(
        session,
        student,
        previous,
        change_type=body.change_type,
        reason=body.reason,
        actor=principal.subject,
        on=body.effective_date,
        details=details,
    )
    await add_event(session, outbox, snapshot_data(StudentUpdated, student))
    await session.flush()
    return student, change


def _change_needs(field: str, what_en: str, what_zh: str) -> InvalidInput:
    return InvalidInput(
        f"This change needs {what_en} ({field}), different from the current one.",
        code="registry.status_change_field_missing",
        message_zh=f"该异动需要填写{what_zh}（且与当前不同）",
        extra={
            "errors": [{"field": field, "in": "body", "type": "missing", "message": f"{what_en} required"}]
        },
    )


async def record_status_change(
    session: AsyncSession,
    student: Student,
    previous: str,
    *,
    change_type: str,
    reason: str,
    actor: str,
    on: date | None = None,
    details: dict[str, Any] | None = None,
) -> StatusChange:
    now = datetime.now(UTC)
    effective = on or now.date()
    change = StatusChange(
        student_no=student.student_no,
        change_type=change_type,
        from_status=previous,
        to_status=student.status,
        reason=reason,
        details=details,
        effective_date=effective,
        actor=actor,
        created_at=now,
    )
    StudentRepository(session).add_status_change(change)
    await add_event(
        session,
        outbox,
        StudentStatusChanged(
            student_no=student.student_no,
            from_status=previous,
            to_status=student.status,
            reason=f"{change_type}: {reason}",
            effective_date=effective,
        ),
    )
    return change


async def mark_graduated(
    session: AsyncSession, student_no: str, *, certificate_number: str, on: date
) -> None:
    """Applies CertificateIssued: the certificates flow is the only way to 毕业."""
    repo = StudentRepository(session)
    student = await repo.get(student_no, for_update=True)
    if student is None or student.status == "graduated":
        return
    previous = student.status
    student.status = "graduated"
    student.certificate_number = certificate_number
    student.version += 1
    student.updated_at = datetime.now(UTC)
    await record_status_change(
        session,
        student,
        previous,
        change_type="graduate",
        reason=f"certificate {certificate_number} issued",
        actor="certificates",
        on=on,
    )


# ---- identity in doubt (身份存疑) ----------------------------------------------------------


async def set_identity_flag(
    session: AsyncSession, principal: Principal, student_no: str, body: IdentityFlagIn
) -> Student:
    student = await locked_student(session, student_no, principal, None)
    if body.in_doubt and body.kind is None:
        raise InvalidInput(
            "Setting the flag needs the kind CHSI reported: failed, uncertain or abnormal.",
            code="registry.identity_doubt_kind_missing",
            message_zh="设置身份存疑须注明类型：未通过、不确定或异常",
            extra={"errors": [{"field": "kind", "in": "body", "type": "missing", "message": "required"}]},
        )
    if not body.in_doubt and not student.identity_in_doubt:
        raise Conflict(
            "The student's identity is not in doubt; there is nothing to clear.",
            code="registry.identity_not_in_doubt",
            message_zh="该学生未被标记为身份存疑",
        )
    now = datetime.now(UTC)
    kind = body.kind if body.in_doubt else None
    student.identity_in_doubt, student.identity_doubt_kind = body.in_doubt, kind
    student.version += 1
    student.updated_at = now
    session.add(
        IdentityFlagChange(
            student_no=student_no,
            in_doubt=body.in_doubt,
            kind=kind,
            reason=body.reason,
            actor=principal.subject,
            created_at=now,
        )
    )
    await add_event(
        session,
        outbox,
        IdentityFlagChanged(student_no=student_no, in_doubt=body.in_doubt, kind=kind, reason=body.reason),
    )
    await session.flush()
    return student
