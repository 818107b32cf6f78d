"""Output shaping: the registry's models as the API's schemas (names masked, ID numbers only in
clear for `pii:read`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from gradops_registry import domain
from gradops_registry.domain import prior_education as review_rules
from gradops_registry.models import (
    IdentityFlagChange,
    OrgUnit,
    PriorEducationReview,
    StatusChange,
    Student,
)
from gradops_registry.schemas import (
    CollectionCodeDisplay,
    CollectionCodeOut,
    EvidenceOut,
    IdentityFlagOut,
    OrgUnitOut,
    OverdueReviewOut,
    PriorEducationReviewOut,
    ReviewStepOut,
    StatusChangeOut,
    StudentOut,
)
from gradops_registry.service.collection import CAPTION_ZH, IssuedCode, png_base64
from gradops_registry.service.pii import registry_cipher
from gradops_registry.service.record import course_selection_allowed
from gradops_registry.settings import RegistrySettings
from gradops_shared.principal import Principal


def _columns(row: object, schema: type[BaseModel]) -> dict[str, Any]:
    """The row's attributes the schema names the same (the rest the caller computes)."""
    return {name: getattr(row, name) for name in schema.model_fields if hasattr(row, name)}


def student_out(student: Student, principal: Principal, settings: RegistrySettings, mask: bool) -> StudentOut:
    clear = None
    if principal.has("pii:read"):
        clear = registry_cipher(settings).decrypt(student.id_number_encrypted)
    values = _columns(student, StudentOut)
    if mask:
        values["name"] = domain.mask_name(student.name)
        values["former_name"] = (
            domain.mask_name(student.former_name) if student.former_name else student.former_name
        )
    return StudentOut(
        **values,
        id_number_masked=domain.mask_last4(student.id_number_last4),
        id_number=clear,
        status_label_zh=domain.STATUS_LABELS_ZH[student.status],
        course_selection_allowed=course_selection_allowed(student),
    )


def org_out(unit: OrgUnit) -> OrgUnitOut:
    return OrgUnitOut(**_columns(unit, OrgUnitOut))


def change_out(change: StatusChange) -> StatusChangeOut:
    label = domain.CHANGE_LABELS_ZH.get(change.change_type, change.change_type)
    return StatusChangeOut(**_columns(change, StatusChangeOut), change_label_zh=label)


def step_out(step: PriorEducationReview) -> ReviewStepOut:
    values = _columns(step, ReviewStepOut)
    values["evidence"] = [EvidenceOut.model_validate(e) for e in step.evidence]
    return ReviewStepOut(**values)


def flag_out(flag: IdentityFlagChange) -> IdentityFlagOut:
    return IdentityFlagOut(**_columns(flag, IdentityFlagOut))


def review_out(student: Student, steps: list[PriorEducationReview]) -> PriorEducationReviewOut:
    state = student.prior_education_state
    last = steps[-1] if steps else None
    today = datetime.now(UTC).date()
    return PriorEducationReviewOut(
        student_no=student.student_no,
        state=state,
        state_label_zh=review_rules.REVIEW_STATE_LABELS_ZH[state],
        formal_status=state in ("none", "passed"),
        course_selection_allowed=course_selection_allowed(student),
        deadline=student.prior_education_deadline,
        overdue=review_rules.is_overdue(state, student.prior_education_deadline, today),
        required_evidence=review_rules.required_evidence(
            state,
            abroad=last.abroad if last is not None else False,
            prior_graduation_year=last.prior_graduation_year if last is not None else None,
        ),
        steps=[step_out(s) for s in steps],
    )


def overdue_out(student: Student) -> OverdueReviewOut:
    return OverdueReviewOut(
        **_columns(student, OverdueReviewOut),
        state=student.prior_education_state,
        deadline=student.prior_education_deadline,
    )


def collection_code_out(issued: IssuedCode) -> CollectionCodeOut:
    return CollectionCodeOut(
        **_columns(issued, CollectionCodeOut),
        display=CollectionCodeDisplay(**_columns(issued, CollectionCodeDisplay), caption=CAPTION_ZH),
        qr_png_base64=png_base64(issued.png),
    )
