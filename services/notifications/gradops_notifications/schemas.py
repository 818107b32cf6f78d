"""Request and response bodies of the notifications service: webhooks and the student timeline.
(The names are the ones the gateway used: the merged OpenAPI keeps them.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from gradops_shared.contracts import EVENT_TYPES
from gradops_shared.text import PlainText


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://lms.example.edu.cn/gradops/hooks",
                    "event_types": ["PhotoApproved", "PhotoRejected", "CertificateIssued"],
                    "description": "LMS: photo and certificate status",
                }
            ]
        },
    )

    url: HttpUrl = Field(
        description="https (http only where the operator allows it, e.g. the embedded default); no "
        "user:pass@; the host must resolve to public addresses: loopback, private, link-local, "
        "multicast, reserved and unspecified ones are refused (422 `webhook.url_not_https`, "
        "`webhook.url_has_credentials`, `webhook.target_forbidden`) unless the operator allow-lists them."
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=100,
        description='Event types (see openapi/events), or ["*"] for every event.',
        json_schema_extra={"items": {"type": "string", "enum": ["*", *sorted(EVENT_TYPES)]}},
    )
    description: PlainText | None = Field(None, max_length=500)


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    centres: list[str] | None = Field(description="Only events of these centres' students; null = all.")
    description: str | None
    active: bool
    created_at: datetime
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="HMAC-SHA256 signing secret. Shown only now.")


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryAttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None = Field(
        description="Why it failed: `HTTP <status>`, `timeout after <n> s`, `ConnectError`, "
        "`refused: webhook.target_forbidden (<class>)`... Never the target's answer."
    )
    duration_ms: int
    next_attempt_at: datetime | None = Field(
        None, description="The retry this attempt scheduled (backoff); null when delivered or given up."
    )


class DeliveryOut(BaseModel):
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    student_no: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    give_up_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    attempt_log: list[DeliveryAttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


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
