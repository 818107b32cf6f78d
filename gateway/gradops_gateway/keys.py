"""API key management: used by the admin endpoints and by `gradops keys` alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_gateway.auth import BOOTSTRAP_KEY_ID, key_digest, new_api_key, new_key_id
from gradops_gateway.errors import (
    KEY_ADMIN_NEEDS_HQ,
    KEY_BOOTSTRAP_NOT_REVOCABLE,
    KEY_CENTRE_INVALID,
    KEY_EXPIRY_IN_PAST,
    KEY_NOT_FOUND,
    KEY_SCOPE_UNKNOWN,
    KEY_SCOPES_REQUIRED,
)
from gradops_gateway.models import api_keys
from gradops_shared.principal import SCOPES

# Learning-centre codes as the registry writes them (e.g. 5135701). A key bound to a code matches
# students whose `learning_centre` is exactly that code: branch codes are not expanded to the
# centres under them, so bind the centres themselves.
_CENTRE_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


@dataclass(frozen=True)
class CreatedKey:
    record: dict[str, Any]
    api_key: str


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        problem = KEY_SCOPE_UNKNOWN if unknown else KEY_SCOPES_REQUIRED
        raise problem(
            f"Unknown scope(s): {', '.join(unknown)}; choose from {', '.join(SCOPES)}."
            if unknown
            else "A key needs at least one scope.",
            extra={"known_scopes": list(SCOPES)},
        )
    return chosen


def validate_centres(centres: Iterable[str] | None) -> list[str] | None:
    if centres is None:
        return None
    chosen = sorted(set(centres))
    bad = [c for c in chosen if not _CENTRE_CODE.match(c)]
    if bad or not chosen:
        raise KEY_CENTRE_INVALID(
            "Learning centre codes look like 5135701; give at least one, or none for the whole university."
        )
    return chosen


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    scopes: Iterable[str],
    centres: Iterable[str] | None,
    expires_at: datetime | None,
    created_by: str,
) -> CreatedKey:
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise KEY_EXPIRY_IN_PAST("expires_at must be in the future.")
    chosen_scopes = validate_scopes(scopes)
    chosen_centres = validate_centres(centres)
    if "admin" in chosen_scopes and chosen_centres is not None:
        # Key management is university-wide by nature: an admin bound to a centre could mint keys
        # for other centres. So `admin` is for HQ keys only.
        raise KEY_ADMIN_NEEDS_HQ(
            "The admin scope is for whole-university (HQ) keys; drop the centres or the scope."
        )
    api_key = new_api_key()
    record = {
        "id": new_key_id(),
        "name": name,
        "key_hash": key_digest(api_key),
        "key_prefix": api_key[:12],
        "scopes": chosen_scopes,
        "centres": chosen_centres,
        "created_at": now,
        "created_by": created_by,
        "expires_at": expires_at,
        "revoked_at": None,
        "last_used_at": None,
    }
    await session.execute(api_keys.insert().values(**record))
    return CreatedKey(record, api_key)


async def list_keys(
    session: AsyncSession, *, limit: int = 100, after: str | None = None, include_revoked: bool = True
) -> list[dict[str, Any]]:
    query = select(api_keys).order_by(api_keys.c.id).limit(limit)
    if after:
        query = query.where(api_keys.c.id > after)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def get_key(session: AsyncSession, key_id: str) -> dict[str, Any]:
    row = (await session.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    if row is None:
        raise KEY_NOT_FOUND(f"No API key {key_id}.")
    return dict(row._mapping)


async def revoke_key(session: AsyncSession, key_id: str) -> dict[str, Any]:
    """Idempotent: revoking a revoked key keeps its first revocation time."""
    record = await get_key(session, key_id)
    if key_id == BOOTSTRAP_KEY_ID:
        raise KEY_BOOTSTRAP_NOT_REVOCABLE(
            "The bootstrap key is replaced by changing GRADOPS_BOOTSTRAP_API_KEY, not revoked."
        )
    if record["revoked_at"] is None:
        record["revoked_at"] = datetime.now(UTC)
        await session.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=record["revoked_at"])
        )
    return record
