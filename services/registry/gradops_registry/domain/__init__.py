"""Rules of the student record. Pure functions, no I/O (split by topic; re-exported here)."""

from gradops_registry.domain.identity import (
    ResidentId,
    check_identity_consistency,
    mask_id_number,
    mask_last4,
    mask_name,
    normalise_other_id,
    parse_resident_id,
    resident_id_check_char,
)
from gradops_registry.domain.record import (
    CATEGORIES,
    EDUCATION_TYPES,
    LEVELS,
    STUDY_FORMS,
    check_term_plausible,
    normalise_code,
    normalise_term,
    term_key,
)
from gradops_registry.domain.status import (
    CHANGE_LABELS_ZH,
    STATUS_LABELS_ZH,
    TRANSITIONS,
    ChangeType,
    StudentStatus,
    apply_change,
    change_for_status,
    check_status_via_record_update,
)

__all__ = [
    "CATEGORIES",
    "CHANGE_LABELS_ZH",
    "EDUCATION_TYPES",
    "LEVELS",
    "STATUS_LABELS_ZH",
    "STUDY_FORMS",
    "TRANSITIONS",
    "ChangeType",
    "ResidentId",
    "StudentStatus",
    "apply_change",
    "change_for_status",
    "check_identity_consistency",
    "check_status_via_record_update",
    "check_term_plausible",
    "mask_id_number",
    "mask_last4",
    "mask_name",
    "normalise_code",
    "normalise_other_id",
    "normalise_term",
    "parse_resident_id",
    "resident_id_check_char",
    "term_key",
]
