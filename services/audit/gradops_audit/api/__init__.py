"""The audit's HTTP edge: one module per resource, each a module-level `router`, gathered here under
`/api/v1`. Handlers parse, call one use case (`gradops_audit.service`) and shape the answer; the
session and principal arrive as dependencies and the write session commits at the edge."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_audit.api import applications, audits, batches, exceptions, rule_sets, transcripts
from gradops_shared.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEM_RESPONSES)
for resource in (batches, transcripts, applications, audits, exceptions, rule_sets):
    router.include_router(resource.router)

__all__ = ["router"]
