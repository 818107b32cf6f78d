"""Graduation batches (毕业批次): stored by HQ, read by everyone. Never commits."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.errors import CURSOR_INVALID, batch_not_found
from gradops_audit.models import Batch
from gradops_audit.repository import AuditRepository
from gradops_audit.service import Page
from gradops_shared.paging import key_cursor, read_key

_BATCH = re.compile(schemas.BATCH_CODE_PATTERN.strip("^$"))


async def put_batch(
    session: AsyncSession, code: str, data: schemas.BatchIn, actor: str
) -> tuple[Batch, bool]:
    batches.check_batch_code(code)
    rounds = [batches.Round(r.number, r.opens_on, r.closes_on) for r in data.rounds]
    batches.check_rounds(rounds)
    rule = batches.DateRule(kind=data.graduation_date_rule, fixed_date=data.graduation_date)
    batches.check_date_rule(code, rule)
    issue_date = batches.check_issue_date(code, rule, data.issue_date)
    cutoff = batches.normalise_term(data.cohort_cutoff_term)
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "name": data.name or f"{code[:4]}年{int(code[4:])}月毕业批次",
        "cohort_cutoff_term": cutoff,
        "rounds": [r.model_dump(mode="json") for r in sorted(data.rounds, key=lambda r: r.opens_on)],
        "issue_date": issue_date,
        "graduation_date_rule": data.graduation_date_rule,
        "fixed_graduation_date": data.graduation_date if data.graduation_date_rule == "fixed" else None,
        "updated_by": actor,
        "updated_at": now,
    }
    # Insert-if-absent, then the locked row: two PUTs of a new batch at once create it once.
    batch, created = await AuditRepository(session).batch_for_update(code, {**values, "created_at": now})
    for name, value in values.items():
        setattr(batch, name, value)
    await session.flush()
    return batch, created


async def get_batch(session: AsyncSession, code: str) -> Batch:
    batches.check_batch_code(code)
    batch = await AuditRepository(session).batch(code)
    if batch is None:
        raise batch_not_found(code)
    return batch


async def list_batches(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[Batch]:
    """Newest first (codes are YYYYMM, so their order is the calendar's)."""
    before = read_key(cursor, CURSOR_INVALID, pattern=_BATCH) if cursor is not None else None
    repo = AuditRepository(session)
    rows = await repo.batches(before=before, limit=limit + 1)
    page = rows[:limit]
    return Page(
        page,
        key_cursor(page[-1].code) if len(rows) > limit else None,
        await repo.count_batches(),
    )


def rounds_of(batch: Batch) -> list[batches.Round]:
    return [
        batches.Round(
            int(r["number"]),
            datetime.fromisoformat(r["opens_on"]).date(),
            datetime.fromisoformat(r["closes_on"]).date(),
        )
        for r in batch.rounds
    ]


def batch_date_rule(batch: Batch) -> batches.DateRule:
    return batches.DateRule(
        kind="fixed" if batch.graduation_date_rule == "fixed" else "quarterly",
        fixed_date=batch.fixed_graduation_date,
    )
