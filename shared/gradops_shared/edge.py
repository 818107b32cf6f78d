"""What a request gets at the edge: its unit of work and its principal, as `Annotated` dependencies.

The edge owns the transaction (as Polar's server does): a handler that writes declares
`session: WriteSessionDep`; the session commits after the handler returns and *before* the answer is
sent, so a failed commit is the answer (a 409/500 problem), never a 201 for nothing. Use cases
`flush()`, never `commit()`. A handler that only reads declares `SessionDep` (nothing is committed).

    @router.post("/things", status_code=201)
    async def create_thing(payload: ThingIn, session: WriteSessionDep, principal: Writer) -> ThingOut:
        return ThingOut.of(await things.create(session, principal, payload))

Scoped principals are aliases a service declares once in `api/deps.py`:

    Reader = Annotated[Principal, requires("registry:read")]
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import Runtime, runtime_from


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_from(request).db.session() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    # Commits when the handler returns, rolls back when it raises (the error handler then answers).
    async with runtime_from(request).db.transaction() as session:
        yield session


def _runtime(request: Request) -> Runtime:
    return runtime_from(request)


# scope="function": the commit runs before the answer is sent, so its failure is the answer.
SessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSessionDep = Annotated[AsyncSession, Depends(_write_session, scope="function")]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
# Authenticated, any scope; services declare scoped aliases with `requires(...)`.
PrincipalDep = Annotated[Principal, requires()]


def settings_of(request: Request) -> Any:
    """The service's settings (typed by each service's `api/deps.py` alias)."""
    return request.app.state.settings


def cursor_query(description: str) -> Any:
    """`?cursor=`: the opaque `next_cursor` of the previous page, as every cursor page takes it
    (URL-safe base64, 1 to 512 characters); `description` says it in the service's words.

        Cursor = Annotated[str | None, cursor_query("next_cursor of the previous page")]
    """
    return Query(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_-]+$", description=description)
