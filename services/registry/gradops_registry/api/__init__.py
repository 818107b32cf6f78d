"""HTTP: one module per resource, each a module-level router of thin handlers (parse, call one use
case, shape the answer). The session and principal arrive as `Annotated` dependencies; a write
session commits at the edge. Included in this order (the order of the committed OpenAPI paths)."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_registry.api import (
    collection_codes,
    history,
    identity,
    org_units,
    reviews,
    status_changes,
    students,
)
from gradops_shared.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["registry"], responses=PROBLEM_RESPONSES)
for _module in (org_units, students, status_changes, history, reviews, identity, collection_codes):
    router.include_router(_module.router)
