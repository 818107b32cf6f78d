"""The notifications service's Annotated dependencies: scoped principals, its settings, the target
guard, the webhook paging parameters and the partner-facing problem responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from gradops_notifications.service.targets import TargetGuard, guard_of
from gradops_notifications.settings import NotificationsSettings
from gradops_shared.edge import settings_of
from gradops_shared.errors import PROBLEM_RESPONSES, Problem
from gradops_shared.principal import Principal, requires

# What partners read (unchanged since the gateway served these endpoints itself).
RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    401: {"model": Problem, "description": "No valid API key (problem+json)"},
    403: {"model": Problem, "description": "The key lacks the operation's scope (problem+json)"},
    429: {"model": Problem, "description": "Rate limit reached; see Retry-After (problem+json)"},
}
# Partner-facing operations keep the tag they had on the gateway (generated clients group by it).
TAG = "gateway"

Manager = Annotated[Principal, requires("webhooks:manage")]
Reader = Annotated[Principal, requires("registry:read")]
Settings = Annotated[NotificationsSettings, Depends(settings_of)]


def _guard(request: Request) -> TargetGuard:
    return guard_of(request.app.state)


def _wake(request: Request) -> Callable[[], None]:
    wake: Callable[[], None] | None = getattr(request.app.state, "wake_webhooks", None)
    return wake or (lambda: None)


Guard = Annotated[TargetGuard, Depends(_guard)]
# Wakes the dispatcher (call it after the commit: as a background task of the answer).
WakeDispatcher = Annotated[Callable[[], None], Depends(_wake)]

# The gateway replays a retried write with the same key; declared here so partners read it.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Any unique string (a UUID): a retry with the same key and body within 24 h "
        "returns the first answer instead of creating again.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
HookCursor = Annotated[
    str | None, Query(pattern="^wh_[0-9a-f]{20}$", description="`next_cursor` of the previous page.")
]
DeliveryCursor = Annotated[
    str | None, Query(pattern="^dl_[0-9a-f]{20}$", description="`next_cursor` of the previous page.")
]
DeliveryStatus = Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")]
