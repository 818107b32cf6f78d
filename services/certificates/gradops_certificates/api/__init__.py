"""HTTP: thin handlers that open one transaction per request and call the use cases."""

from __future__ import annotations

from fastapi import APIRouter

from gradops_certificates.api import certificates, distribution, documents, replacements, verification
from gradops_shared.errors import PROBLEM_RESPONSES


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["certificates"], responses=PROBLEM_RESPONSES)
    for module in (certificates, distribution, replacements, documents, verification):
        api.include_router(module.router())
    return api
