"""`GET /api/v1/students/{student_no}/timeline`, served by the gateway itself (the read model lives
in the gateway's schema, next to the student -> centre projection that decides who may see it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from gradops_gateway.gate import gateway_requires
from gradops_gateway.timeline import store
from gradops_shared.contracts import EVENT_TYPES
from gradops_shared.db import Database
from gradops_shared.errors import PROBLEM_RESPONSES, Problem
from gradops_shared.principal import Principal

RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    401: {"model": Problem, "description": "No valid API key (problem+json)"},
    403: {"model": Problem, "description": "The key lacks the operation's scope (problem+json)"},
    429: {"model": Problem, "description": "Rate limit reached; see Retry-After (problem+json)"},
}
Reader = Annotated[Principal, gateway_requires("registry:read")]


class TimelineEntry(BaseModel):
    event_id: str
    occurred_at: datetime
    type: str = Field(description=f"The event type: {', '.join(EVENT_TYPES)}.")
    producer: str = Field(description="The service that emitted it.")
    summary_zh: str
    summary_en: str
    data: dict[str, Any] = Field(
        description="The event's data, without the student number or anything sensitive."
    )
    request_id: str | None = Field(None, description="The request that caused it (X-Request-ID).")


class TimelinePage(BaseModel):
    student_no: str
    learning_centre: str | None
    items: list[TimelineEntry]
    next_cursor: str | None


def timeline_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/students", tags=["gateway"], responses=RESPONSES)

    @router.get("/{student_no}/timeline", response_model=TimelinePage)
    async def get_student_timeline(
        student_no: str,
        request: Request,
        principal: Reader,
        limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
        cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
        type: Annotated[
            list[str] | None,
            Query(
                description="Only these event types (repeat).",
                json_schema_extra={"items": {"type": "string", "enum": sorted(EVENT_TYPES)}},
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Everything that happened to the student across services, oldest first: registration,
        status changes, prior-education reviews, identity flags, photos and their reviews, audits,
        certificates. Built from the services' events, so it follows them by a moment."""
        db: Database = request.app.state.db
        async with db.session() as session:
            return await store.page(
                session, principal, student_no, limit=limit, cursor=cursor, event_types=type
            )

    return router
