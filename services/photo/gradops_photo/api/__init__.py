"""The photo service's HTTP API: one module per resource, each a module-level `APIRouter`, included
here into the service's router (in the order the committed OpenAPI lists them)."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_photo.api import capture, checks, imports, proofreading, reviews, submissions
from gradops_shared.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["photo"], responses=PROBLEM_RESPONSES)
for _module in (checks, submissions, capture, imports, reviews, proofreading):
    router.include_router(_module.router)
