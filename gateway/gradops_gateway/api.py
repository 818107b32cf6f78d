"""The endpoints the gateway serves itself: API keys (scope `admin`). They appear in the merged
OpenAPI next to the services' operations. (Webhooks and the timeline are the notifications
service's, routed like every other service's.)"""

from __future__ import annotations

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
)
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


def gateway_openapi() -> dict[str, Any]:
    """The OpenAPI of the gateway's own operations (merged with the services' for partners)."""
    app = new_app(title="GradOps gateway", description="API keys, webhooks, timeline", docs=False)
    app.include_router(keys_router())
    return app.openapi()
