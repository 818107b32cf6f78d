"""Graduation batches (毕业批次)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gradops_audit import schemas
from gradops_audit.api.deps import BatchCode, Cursor, Limit, Reader, Writer, ensure_hq
from gradops_audit.api.views import batch_out
from gradops_audit.service import batches
from gradops_shared.edge import SessionDep, WriteSessionDep

router = APIRouter()


@router.put(
    "/graduation-batches/{code}",
    response_model=schemas.BatchOut,
    responses={201: {"model": schemas.BatchOut, "description": "Created"}},
    summary="Create or replace a graduation batch",
)
async def put_graduation_batch(
    code: BatchCode,
    body: schemas.BatchIn,
    response: Response,
    principal: Writer,
    session: WriteSessionDep,
) -> schemas.BatchOut:
    ensure_hq(principal)
    batch, created = await batches.put_batch(session, code, body, principal.subject)
    response.status_code = 201 if created else 200
    return batch_out(batch)


@router.get("/graduation-batches/{code}", response_model=schemas.BatchOut, summary="A graduation batch")
async def get_graduation_batch(code: BatchCode, principal: Reader, session: SessionDep) -> schemas.BatchOut:
    return batch_out(await batches.get_batch(session, code))


@router.get(
    "/graduation-batches",
    response_model=schemas.BatchPage,
    summary="Graduation batches, newest first (cursor pages)",
)
async def list_graduation_batches(
    principal: Reader, session: SessionDep, limit: Limit = 100, cursor: Cursor = None
) -> schemas.BatchPage:
    page = await batches.list_batches(session, limit=limit, cursor=cursor)
    return schemas.BatchPage(
        items=[batch_out(b) for b in page.items], next_cursor=page.next_cursor, count=page.count
    )
