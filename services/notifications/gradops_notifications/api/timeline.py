"""`GET /api/v1/students/{student_no}/timeline`: everything that happened to a student across
services (the read model lives here, next to the student -> centre projection that decides who
may see it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gradops_notifications.api.deps import RESPONSES, TAG, Reader
from gradops_notifications.schemas import TimelinePage
from gradops_notifications.service import timeline
from gradops_shared.contracts import EVENT_TYPES
from gradops_shared.edge import SessionDep

router = APIRouter(prefix="/api/v1/students", tags=[TAG], responses=RESPONSES)

EventTypes = Annotated[
    list[str] | None,
    Query(
        description="Only these event types (repeat).",
        json_schema_extra={"items": {"type": "string", "enum": sorted(EVENT_TYPES)}},
    ),
]


@router.get("/{student_no}/timeline", response_model=TimelinePage)
async def get_student_timeline(
    student_no: str,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    type: EventTypes = None,
) -> dict[str, Any]:
    """Everything that happened to the student across services, oldest first: registration,
    status changes, prior-education reviews, identity flags, photos and their reviews, audits,
    certificates. Built from the services' events, so it follows them by a moment."""
    return await timeline.page(session, principal, student_no, limit=limit, cursor=cursor, event_types=type)
