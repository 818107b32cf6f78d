"""`/api/v1/webhooks`: partners' subscriptions (scope `webhooks:manage`; `admin` sees every
partner's) and their delivery logs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Response

from gradops_notifications.api.deps import (
    RESPONSES,
    TAG,
    DeliveryCursor,
    DeliveryStatus,
    Guard,
    HookCursor,
    IdempotencyKey,
    Limit,
    Manager,
    Settings,
    WakeDispatcher,
)
from gradops_notifications.schemas import (
    DeliveryDetail,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPage,
)
from gradops_notifications.service import webhooks
from gradops_notifications.service.targets import check_target
from gradops_shared.edge import SessionDep, WriteSessionDep
from gradops_shared.text import PlainText

# Ids this API issued (wh_…, dl_…); the schema says a control character is never one (the gateway
# refuses such a path with 400 request.invalid_path); any other unknown id is a 404.
WebhookId = Annotated[PlainText, Path(description="The subscription's id (wh_…)")]
DeliveryId = Annotated[PlainText, Path(description="The delivery's id")]

router = APIRouter(prefix="/api/v1/webhooks", tags=[TAG], responses=RESPONSES)


def _page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.post("", status_code=201, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate,
    session: WriteSessionDep,
    principal: Manager,
    guard: Guard,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Registers a URL for event types. A key bound to centres gets only its centres' students'
    events. The signing secret is in the answer and only there."""
    await check_target(guard, str(body.url))
    return await webhooks.create_subscription(
        session, principal, url=str(body.url), event_types=body.event_types, description=body.description
    )


@router.get("", response_model=WebhookPage)
async def list_webhooks(
    session: SessionDep, principal: Manager, limit: Limit = 100, cursor: HookCursor = None
) -> dict[str, Any]:
    return _page(await webhooks.list_subscriptions(session, principal, limit=limit, after=cursor), limit)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: WebhookId, session: SessionDep, principal: Manager) -> dict[str, Any]:
    return await webhooks.get_subscription(session, principal, webhook_id)


@router.delete("/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: WebhookId, session: WriteSessionDep, principal: Manager) -> Response:
    """Stops deliveries; the subscription answers 404 from then on, its delivery log stays readable."""
    await webhooks.deactivate_subscription(session, principal, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_webhook_deliveries(
    webhook_id: WebhookId,
    session: SessionDep,
    principal: Manager,
    status: DeliveryStatus = None,
    limit: Limit = 100,
    cursor: DeliveryCursor = None,
) -> dict[str, Any]:
    items = await webhooks.list_deliveries(
        session, principal, webhook_id, status=status, limit=limit, after=cursor
    )
    return _page(items, limit)


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def get_webhook_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, session: SessionDep, principal: Manager
) -> dict[str, Any]:
    """The delivery with every attempt: when, HTTP status or error, duration."""
    return await webhooks.get_delivery(session, principal, webhook_id, delivery_id)


@router.post("/{webhook_id}/deliveries/{delivery_id}/replay", status_code=202, response_model=DeliveryDetail)
async def replay_webhook_delivery(
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
    session: WriteSessionDep,
    principal: Manager,
    settings: Settings,
    wake: WakeDispatcher,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Sends it again now (delivered or failed alike), with a fresh retry window."""
    window = timedelta(hours=settings.webhook_retry_hours)
    detail = await webhooks.replay_delivery(session, principal, webhook_id, delivery_id, window)
    background.add_task(wake)  # after the commit: the dispatcher then finds it due
    return detail
