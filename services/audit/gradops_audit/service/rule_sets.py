"""Graduation rule sets: the shipped ones and the versions a university stores. Never commits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.domain.rules import GraduationRules, RuleSetEntry, is_shipped, rule_set_entries
from gradops_audit.errors import CURSOR_INVALID, RULE_SET_SHIPPED
from gradops_audit.models import RuleSetVersion
from gradops_audit.repository import AuditRepository
from gradops_audit.service import Page
from gradops_shared.paging import key_cursor, read_key

_RULE_SET_KEY = re.compile(r"[01]\|[a-z0-9][a-z0-9._-]{0,63}\|[0-9]{1,9}")


async def list_rule_sets(
    session: AsyncSession, degree_code: str, *, limit: int, cursor: str | None
) -> Page[RuleSetEntry]:
    """Graduation rule sets, then degree rule sets, every version, by code and version."""
    stored = [
        GraduationRules.from_data(r.code, r.version, r.data)
        for r in await AuditRepository(session).rule_set_versions()
    ]
    entries = rule_set_entries(stored, degree_code)
    ordered = entries
    if cursor is not None:
        kind, code, version = read_key(cursor, CURSOR_INVALID, pattern=_RULE_SET_KEY).split("|")
        ordered = [e for e in entries if e.key > (int(kind), code, int(version))]
    page = ordered[:limit]
    last = page[-1].key if page else None
    return Page(
        page,
        key_cursor(f"{last[0]}|{last[1]}|{last[2]}") if last and len(ordered) > limit else None,
        len(entries),
    )


async def put_rule_set(
    session: AsyncSession, code: str, data: schemas.RuleSetIn, actor: str
) -> RuleSetVersion:
    """Each PUT stores a new version; earlier versions stay, as the audits that used them name them."""
    if is_shipped(code):
        raise RULE_SET_SHIPPED(f"{code} is a shipped rule set; store your own under another code.")
    payload = data.model_dump()
    if payload["from_term"]:
        payload["from_term"] = batches.normalise_term(payload["from_term"])
    GraduationRules.from_data(code, 1, payload)  # same reader the audits use
    repo = AuditRepository(session)
    await repo.serialise(f"audit.rule_set:{code}")  # two PUTs at once get versions n+1 and n+2
    version = await repo.latest_rule_set_version(code) + 1
    row = RuleSetVersion(
        code=code, version=version, data=payload, created_by=actor, created_at=datetime.now(UTC)
    )
    repo.add(row)
    await session.flush()
    return row


def stored_entry(row: RuleSetVersion) -> RuleSetEntry:
    """A version just stored, as the list shows it (it is the one in use)."""
    rules = GraduationRules.from_data(row.code, row.version, row.data)
    return RuleSetEntry(row.code, row.version, "graduation", "stored", True, rules.as_data())
