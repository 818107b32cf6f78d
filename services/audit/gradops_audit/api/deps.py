"""What the audit's handlers receive: scoped principals, typed settings, the registry client, and
the path and query parameters every resource shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from gradops_audit.errors import HQ_ONLY, REGISTRY_UNAVAILABLE, STUDENT_NO_INVALID
from gradops_audit.schemas import BATCH_CODE_PATTERN
from gradops_audit.settings import AuditSettings
from gradops_shared.edge import cursor_query, settings_of
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from

Reader = Annotated[Principal, requires("audit:read")]
Writer = Annotated[Principal, requires("audit:write")]
Settings = Annotated[AuditSettings, Depends(settings_of)]


def _registry(request: Request) -> RegistryClient:
    settings: AuditSettings = settings_of(request)
    return RegistryClient(
        runtime_from(request).peer("registry", settings.registry_url),
        service="audit",
        secret=settings.principal_secret.get_secret_value(),
        unavailable=REGISTRY_UNAVAILABLE,
        invalid=STUDENT_NO_INVALID,
    )


# Asks the registry (the owner) about a student the audit has not heard of yet.
Registry = Annotated[RegistryClient, Depends(_registry)]


def ensure_hq(principal: Principal) -> None:
    """403 unless the key is HQ's (not bound to learning centres)."""
    if not principal.is_hq:
        raise HQ_ONLY("Only HQ (a key not bound to learning centres) may do this.")


StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
BatchCode = Annotated[
    str, Path(min_length=6, max_length=6, pattern=BATCH_CODE_PATTERN, description="YYYYMM, e.g. 202307")
]
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
AuditId = Annotated[str, Path(min_length=36, max_length=36, pattern=UUID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, cursor_query("`next_cursor` of the previous page (opaque)")]
CentreCodes = Annotated[
    list[Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]] | None,
    Query(description="Learning centre code(s)"),
]
