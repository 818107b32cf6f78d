"""Certificate use cases, one module per topic: issuance (and reading certificates), distribution,
replacement (and revocation), verification (and share codes), printouts, scans. They take the
session of the edge's unit of work and flush, never commit; the two that need a transaction of their
own (a logged public lookup, a form that fetches a photo) take the `Database` and say why."""

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
