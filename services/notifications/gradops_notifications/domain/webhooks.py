"""Webhook rules: which event types a subscription may name, which subscriptions hear of an event,
what an id looks like, and what follows an attempt (delivered, retried later, or given up)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gradops_notifications.errors import EVENT_TYPE_UNKNOWN
from gradops_shared.contracts import EVENT_TYPES
from gradops_shared.text import is_clean_identifier

ALL_EVENTS = "*"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def escaped(value: str, limit: int) -> str:
    """A value quoted back to the caller: printable, bounded."""
    return value.encode("unicode_escape").decode()[:limit]


def validate_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted(set(event_types))
    # Checked before "*" widens the list: a typo beside "*" is still a typo the partner should hear of.
    unknown = [escaped(t, 100) for t in chosen if t not in EVENT_TYPES and t != ALL_EVENTS][:20]
    if unknown:
        raise EVENT_TYPE_UNKNOWN(
            f"Unknown event type(s): {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(EVENT_TYPES))} or *.",
            message_zh="事件类型无效",
            extra={"known_event_types": sorted(EVENT_TYPES)},
        )
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def clean_id(value: str) -> bool:
    """Ids we hand out are short ASCII (`wh_…`, `dl_…`): anything else (a NUL that PostgreSQL
    refuses, a control character, megabytes) names nothing and must not reach the database."""
    return len(value) <= 64 and value.isascii() and is_clean_identifier(value)


def wants(subscription: Mapping[str, Any], event_type: str, centre: str | None) -> bool:
    """Whether an active subscription hears of an event of this type about a student of `centre`.
    A centre's subscription never hears of another centre's (or an unknown centre's) student."""
    event_types: Sequence[str] = subscription["event_types"]
    if ALL_EVENTS not in event_types and event_type not in event_types:
        return False
    centres = subscription["centres"]
    return centres is None or (centre is not None and centre in centres)


@dataclass(frozen=True)
class Outcome:
    """What follows an attempt: the delivery's new status, when it is next due (the row's
    `next_attempt_at`), and the retry the attempt scheduled (null: delivered or given up)."""

    status: str
    due_at: datetime
    scheduled_retry: datetime | None


def attempt_outcome(
    status_code: int | None, retry_in: timedelta | None, now: datetime, give_up_at: datetime
) -> Outcome:
    """Delivered on 2xx; otherwise retried `retry_in` after this attempt while that is within the
    delivery's retry window; failed when it is not or when `retry_in` is None (a refused target)."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome("delivered", now, None)
    if retry_in is not None and now + retry_in < give_up_at:
        return Outcome("pending", now + retry_in, now + retry_in)
    return Outcome("failed", now, None)
