"""Every query of the audit service, behind one repository the use cases build from their session."""

from __future__ import annotations

from gradops_audit.repository.applications import ApplicationQueries
from gradops_audit.repository.facts import FactQueries


class AuditRepository(FactQueries, ApplicationQueries):
    """The audit's repository: facts (students, photos, transcripts, exceptions, rule sets) and
    batches, applications and audit runs."""


__all__ = ["AuditRepository"]
