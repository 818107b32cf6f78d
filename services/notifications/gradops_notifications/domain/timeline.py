"""Timeline rules: which event types a reader may filter on, which student numbers can name a
timeline, and the shape of one entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gradops_notifications.domain.webhooks import escaped
from gradops_notifications.errors import TIMELINE_EVENT_TYPE_UNKNOWN, TIMELINE_STUDENT_NOT_FOUND
from gradops_shared.contracts import EVENT_TYPES
from gradops_shared.problems import GradOpsError
from gradops_shared.text import is_clean_identifier


def check_event_types(event_types: list[str] | None) -> None:
    unknown = [escaped(t, 100) for t in sorted(set(event_types or ()) - set(EVENT_TYPES))]
    if unknown:
        raise TIMELINE_EVENT_TYPE_UNKNOWN(
            f"Unknown event type(s): {', '.join(unknown)}; choose from {', '.join(sorted(EVENT_TYPES))}.",
            message_zh="事件类型无效",
            extra={"known_event_types": sorted(EVENT_TYPES)},
        )


def student_not_found(student_no: str) -> GradOpsError:
    return TIMELINE_STUDENT_NOT_FOUND(
        f"No timeline for student {student_no}: unknown, outside your learning centres, or no event "
        "of theirs has arrived yet.",
        message_zh="学生不存在或不在您的学习中心范围内",
    )


def names_a_student(student_no: str) -> bool:
    """A student number is short and printable; anything else names nobody."""
    return len(student_no) <= 64 and is_clean_identifier(student_no)


def entry_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """One stored entry as the API shows it."""
    return {
        "event_id": row["event_id"],
        "occurred_at": row["occurred_at"],
        "type": row["event_type"],
        "producer": row["producer"],
        "summary_zh": row["summary_zh"],
        "summary_en": row["summary_en"],
        "data": row["data"],
        "request_id": row["request_id"],
    }
