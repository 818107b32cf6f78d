"""Request and response models of the audit API, one module per resource (the ORM models are in
`models.py`)."""

from __future__ import annotations

from gradops_audit.schemas.applications import (
    APPLICATION_EXAMPLE,
    ApplicationOut,
    ApplicationsIn,
    ApplicationsOut,
    AuditRunOut,
    BatchAuditItem,
    BatchAuditPage,
    SelectionIn,
    SignOffIn,
    SignOffOut,
    SkippedOut,
)
from gradops_audit.schemas.audits import (
    AuditCheckOut,
    AuditDiffOut,
    AuditOut,
    AuditPage,
    CheckChangeOut,
    ExceptionUseOut,
    RuleSetRef,
    WhatIfIn,
)
from gradops_audit.schemas.batches import (
    BATCH_EXAMPLE,
    BatchIn,
    BatchOut,
    BatchPage,
    RoundIn,
)
from gradops_audit.schemas.common import (
    BATCH_CODE_PATTERN,
    MAX_SIGN_OFF_WAIT,
    STUDENT_NO_PATTERN,
    ApplicationType,
    CourseCategory,
    StudentNo,
)
from gradops_audit.schemas.exceptions import (
    ExceptionIn,
    ExceptionOut,
    ExceptionPage,
)
from gradops_audit.schemas.rule_sets import (
    RuleSetIn,
    RuleSetOut,
    RuleSetPage,
)
from gradops_audit.schemas.transcripts import (
    TRANSCRIPT_EXAMPLE,
    CourseIn,
    DegreeEnglishIn,
    ThesisIn,
    TranscriptBulkIn,
    TranscriptBulkOut,
    TranscriptIn,
    TranscriptItemIn,
    TranscriptOut,
)

__all__ = [
    "APPLICATION_EXAMPLE",
    "BATCH_CODE_PATTERN",
    "BATCH_EXAMPLE",
    "MAX_SIGN_OFF_WAIT",
    "STUDENT_NO_PATTERN",
    "TRANSCRIPT_EXAMPLE",
    "ApplicationOut",
    "ApplicationType",
    "ApplicationsIn",
    "ApplicationsOut",
    "AuditCheckOut",
    "AuditDiffOut",
    "AuditOut",
    "AuditPage",
    "AuditRunOut",
    "BatchAuditItem",
    "BatchAuditPage",
    "BatchIn",
    "BatchOut",
    "BatchPage",
    "CheckChangeOut",
    "CourseCategory",
    "CourseIn",
    "DegreeEnglishIn",
    "ExceptionIn",
    "ExceptionOut",
    "ExceptionPage",
    "ExceptionUseOut",
    "RoundIn",
    "RuleSetIn",
    "RuleSetOut",
    "RuleSetPage",
    "RuleSetRef",
    "SelectionIn",
    "SignOffIn",
    "SignOffOut",
    "SkippedOut",
    "StudentNo",
    "ThesisIn",
    "TranscriptBulkIn",
    "TranscriptBulkOut",
    "TranscriptIn",
    "TranscriptItemIn",
    "TranscriptOut",
    "WhatIfIn",
]
