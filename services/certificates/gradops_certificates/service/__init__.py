"""Certificate use cases. Never commits: the consumer or the request owns the transaction."""

from gradops_certificates.service.issuance import (
    certificate_by_number,
    certificate_of_student,
    issue_for_audit,
    issue_many,
    record_graduation_photo,
    record_photo_reopened,
    record_student,
)

__all__ = [
    "certificate_by_number",
    "certificate_of_student",
    "issue_for_audit",
    "issue_many",
    "record_graduation_photo",
    "record_photo_reopened",
    "record_student",
]
