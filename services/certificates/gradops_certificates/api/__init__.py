"""HTTP: one module per resource, each a module-level router of thin handlers (parse, call one use
case, shape the answer). The session and the principal arrive as dependencies; the edge commits."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_certificates.api import certificates, distribution, printouts, replacements, verification
from gradops_shared.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["certificates"], responses=PROBLEM_RESPONSES)
for _module in (certificates, distribution, replacements, printouts, verification):
    router.include_router(_module.router)
