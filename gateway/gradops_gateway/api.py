"""The endpoints the gateway serves itself: API keys (scope `admin`) and webhooks
(scope `webhooks:manage`). They appear in the merged OpenAPI next to the services' operations."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from gradops_gateway import keys
from gradops_gateway.gate import gateway_requires
from gradops_gateway.idempotency import idempotent
from gradops_gateway.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    ApiKeyPage,
    DeliveryDetail,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPage,
)
from gradops_gateway.webhooks import store
from gradops_shared.db import Database
from gradops_shared.errors import PROBLEM_RESPONSES, Problem
from gradops_shared.http import new_app
from gradops_shared.principal import Principal

RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    401: {"model": Problem, "description": "No valid API key (problem+json)"},
    403: {"model": Problem, "description": "The key lacks the operation's scope (problem+json)"},
    429: {"model": Problem, "description": "Rate limit reached; see Retry-After (problem+json)"},
}
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
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
Admin = Annotated[Principal, gateway_requires("admin")]
Manager = Annotated[Principal, gateway_requires("webhooks:manage")]
HookCursor = Annotated[
    str | None, Query(pattern="^wh_[0-9a-f]{20}$", description="`next_cursor` of the previous page.")
]
DeliveryCursor = Annotated[
    str | None, Query(pattern="^dl_[0-9a-f]{20}$", description="`next_cursor` of the previous page.")
]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _json(model: type[BaseModel], payload: dict[str, Any], status: int) -> Response:
    """The answer FastAPI would render from `response_model`, as a Response the idempotency record
    can keep and replay byte for byte."""
    return JSONResponse(model.model_validate(payload).model_dump(mode="json", by_alias=True), status)


def _page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


def keys_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/admin/api-keys", tags=["gateway"], responses=RESPONSES)

    @router.post("", status_code=201, response_model=ApiKeyCreated)
    async def create_api_key(
        body: ApiKeyCreate, request: Request, principal: Admin, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """Creates a key. The key itself is in the answer and only there: store it now. With an
        `Idempotency-Key`, a retry gets the same key back instead of a second one."""

        async def create() -> Response:
            async with _db(request).transaction() as session:
                created = await keys.create_key(
                    session,
                    name=body.name,
                    scopes=body.scopes,
                    centres=body.centres,
                    expires_at=body.expires_at,
                    created_by=principal.subject,
                )
            return _json(ApiKeyCreated, {**created.record, "api_key": created.api_key}, 201)

        return await idempotent(request, principal, create)

    @router.get("", response_model=ApiKeyPage)
    async def list_api_keys(
        request: Request, principal: Admin, limit: Limit = 100, cursor: Cursor = None
    ) -> dict[str, Any]:
        async with _db(request).session() as session:
            return _page(await keys.list_keys(session, limit=limit, after=cursor), limit)

    @router.get("/{key_id}", response_model=ApiKeyOut)
    async def get_api_key(key_id: str, request: Request, principal: Admin) -> dict[str, Any]:
        async with _db(request).session() as session:
            return await keys.get_key(session, key_id)

    @router.post("/{key_id}/revoke", response_model=ApiKeyOut)
    async def revoke_api_key(key_id: str, request: Request, principal: Admin) -> dict[str, Any]:
        """Refused from then on (within the gateway's key cache window, a few seconds)."""
        async with _db(request).transaction() as session:
            record = await keys.revoke_key(session, key_id)
        request.app.state.gate.keys.forget()
        return record

    return router


def webhooks_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/webhooks", tags=["gateway"], responses=RESPONSES)

    def window(request: Request) -> timedelta:
        return timedelta(hours=request.app.state.settings.webhook_retry_hours)

    @router.post("", status_code=201, response_model=WebhookCreated)
    async def create_webhook(
        body: WebhookCreate, request: Request, principal: Manager, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """Registers a URL for event types. A key bound to centres gets only its centres' students'
        events. The signing secret is in the answer and only there."""

        await store.check_target(request.app.state, str(body.url))

        async def create() -> Response:
            async with _db(request).transaction() as session:
                created = await store.create_subscription(
                    session,
                    principal,
                    url=str(body.url),
                    event_types=body.event_types,
                    description=body.description,
                )
            return _json(WebhookCreated, created, 201)

        return await idempotent(request, principal, create)

    @router.get("", response_model=WebhookPage)
    async def list_webhooks(
        request: Request, principal: Manager, limit: Limit = 100, cursor: HookCursor = None
    ) -> dict[str, Any]:
        async with _db(request).session() as session:
            return _page(await store.list_subscriptions(session, principal, limit=limit, after=cursor), limit)

    @router.get("/{webhook_id}", response_model=WebhookOut)
    async def get_webhook(webhook_id: str, request: Request, principal: Manager) -> dict[str, Any]:
        async with _db(request).session() as session:
            return await store.get_subscription(session, principal, webhook_id)

    @router.delete("/{webhook_id}", status_code=204)
    async def delete_webhook(webhook_id: str, request: Request, principal: Manager) -> Response:
        """Stops deliveries; the subscription answers 404 from then on, its delivery log stays readable."""
        async with _db(request).transaction() as session:
            await store.deactivate_subscription(session, principal, webhook_id)
        return Response(status_code=204)

    @router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
    async def list_webhook_deliveries(
        webhook_id: str,
        request: Request,
        principal: Manager,
        status: Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")] = None,
        limit: Limit = 100,
        cursor: DeliveryCursor = None,
    ) -> dict[str, Any]:
        async with _db(request).session() as session:
            items = await store.list_deliveries(
                session, principal, webhook_id, status=status, limit=limit, after=cursor
            )
        return _page(items, limit)

    @router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
    async def get_webhook_delivery(
        webhook_id: str, delivery_id: str, request: Request, principal: Manager
    ) -> dict[str, Any]:
        """The delivery with every attempt: when, HTTP status or error, duration."""
        async with _db(request).session() as session:
            return await store.get_delivery(session, principal, webhook_id, delivery_id)

    @router.post(
        "/{webhook_id}/deliveries/{delivery_id}/replay", status_code=202, response_model=DeliveryDetail
    )
    async def replay_webhook_delivery(
        webhook_id: str,
        delivery_id: str,
        request: Request,
        principal: Manager,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        """Sends it again now (delivered or failed alike), with a fresh retry window."""

        async def replay() -> Response:
            async with _db(request).transaction() as session:
                detail = await store.replay_delivery(
                    session, principal, webhook_id, delivery_id, window(request)
                )
            wake = getattr(request.app.state, "wake_webhooks", None)
            if wake is not None:
                wake()
            return _json(DeliveryDetail, detail, 202)

        return await idempotent(request, principal, replay)

    return router


def gateway_openapi() -> dict[str, Any]:
    """The OpenAPI of the gateway's own operations (merged with the services' for partners)."""
    from gradops_gateway.timeline.api import timeline_router

    app = new_app(title="GradOps gateway", description="API keys, webhooks, timeline", docs=False)
    app.include_router(keys_router())
    app.include_router(webhooks_router())
    app.include_router(timeline_router())
    return app.openapi()
