"""Rule sets: the graduation and degree rules in force, and the versions a university stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gradops_audit import schemas
from gradops_audit.api.deps import Cursor, Limit, Reader, Settings, Writer, ensure_hq
from gradops_audit.api.views import rule_set_out
from gradops_audit.service import rule_sets
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.get(
    "/rule-sets",
    response_model=schemas.RuleSetPage,
    summary="Graduation rule sets, then degree rule sets, every version, by code and version (cursor pages)",
)
async def list_rule_sets(
    principal: Reader, session: SessionDep, settings: Settings, limit: Limit = 100, cursor: Cursor = None
) -> schemas.RuleSetPage:
    page = await rule_sets.list_rule_sets(session, settings.degree_rule_set, limit=limit, cursor=cursor)
    return schemas.RuleSetPage(
        items=[rule_set_out(e) for e in page.items], next_cursor=page.next_cursor, count=page.count
    )


@router.put(
    "/rule-sets/{code}",
    response_model=schemas.RuleSetOut,
    status_code=201,
    summary="Store a new version of a graduation rule set (earlier versions stay)",
)
async def put_rule_set(
    code: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")],
    body: schemas.RuleSetIn,
    principal: Writer,
    session: WriteSessionDep,
) -> schemas.RuleSetOut:
    ensure_hq(principal)
    row = await rule_sets.put_rule_set(session, code, body, principal.subject)
    return rule_set_out(rule_sets.stored_entry(row))
