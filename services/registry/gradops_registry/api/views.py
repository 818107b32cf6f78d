"""Output shaping: the registry's models as the API's schemas (names masked, ID numbers only in
clear for `pii:read`)."""

from __future__ import annotations

from datetime import UTC, datetime

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


def student_out(student: Student, principal: Principal, settings: RegistrySettings, mask: bool) -> StudentOut:
    clear = None
    if principal.has("pii:read"):
        clear = registry_cipher(settings).decrypt(student.id_number_encrypted)
    return StudentOut(
        student_no=student.student_no,
        name=domain.mask_name(student.name) if mask else student.name,
        gender=student.gender,
        birth_date=student.birth_date,
        id_type=student.id_type,
        id_number_masked=domain.mask_last4(student.id_number_last4),
        id_number=clear,
        learning_centre=student.learning_centre,
        branch=student.branch,
        level=student.level,
        category=student.category,
        major=student.major,
        enrolment_term=student.enrolment_term,
        study_form=student.study_form,
        status=student.status,
        status_label_zh=domain.STATUS_LABELS_ZH[student.status],
        former_name=(
            domain.mask_name(student.former_name) if mask and student.former_name else student.former_name
        ),
        ethnicity=student.ethnicity,
        political_status=student.political_status,
        exam_no=student.exam_no,
        class_code=student.class_code,
        duration_years=student.duration_years,
        education_type=student.education_type,
        expected_graduation_date=student.expected_graduation_date,
        mobile=student.mobile,
        email=student.email,
        work_unit=student.work_unit,
        certificate_number=student.certificate_number,
        course_selection_allowed=course_selection_allowed(student),
        prior_education_state=student.prior_education_state,
        prior_education_deadline=student.prior_education_deadline,
        identity_in_doubt=student.identity_in_doubt,
        identity_doubt_kind=student.identity_doubt_kind,
        version=student.version,
        created_at=student.created_at,
        updated_at=student.updated_at,
    )


def org_out(unit: OrgUnit) -> OrgUnitOut:
    return OrgUnitOut(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent=unit.parent,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


def change_out(change: StatusChange) -> StatusChangeOut:
    return StatusChangeOut(
        change_type=change.change_type,
        change_label_zh=domain.CHANGE_LABELS_ZH.get(change.change_type, change.change_type),
        from_status=change.from_status,
        to_status=change.to_status,
        reason=change.reason,
        details=change.details,
        effective_date=change.effective_date,
        actor=change.actor,
        created_at=change.created_at,
    )


def step_out(step: PriorEducationReview) -> ReviewStepOut:
    return ReviewStepOut(
        stage=step.stage,
        outcome=step.outcome,
        state_after=step.state_after,
        evidence=[EvidenceOut.model_validate(e) for e in step.evidence],
        prior_graduation_year=step.prior_graduation_year,
        abroad=step.abroad,
        notes=step.notes,
        deadline=step.deadline,
        actor=step.actor,
        created_at=step.created_at,
    )


def flag_out(flag: IdentityFlagChange) -> IdentityFlagOut:
    return IdentityFlagOut(
        in_doubt=flag.in_doubt,
        kind=flag.kind,
        reason=flag.reason,
        actor=flag.actor,
        created_at=flag.created_at,
    )


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
        student_no=student.student_no,
        name=student.name,
        learning_centre=student.learning_centre,
        state=student.prior_education_state,
        deadline=student.prior_education_deadline,
    )


def collection_code_out(issued: IssuedCode) -> CollectionCodeOut:
    return CollectionCodeOut(
        code=issued.code,
        student_no=issued.student_no,
        expires_at=issued.expires_at,
        display=CollectionCodeDisplay(
            name_masked=issued.name_masked,
            id_number_masked=issued.id_number_masked,
            school=issued.school,
            level_label_zh=issued.level_label_zh,
            caption=CAPTION_ZH,
        ),
        qr_png_base64=png_base64(issued.png),
    )
