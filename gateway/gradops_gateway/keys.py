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
from gradops_gateway.models import api_keys
from gradops_shared.errors import InvalidInput, NotFound
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
        raise InvalidInput(
            f"Unknown scope(s): {', '.join(unknown)}; choose from {', '.join(SCOPES)}."
            if unknown
            else "A key needs at least one scope.",
            code="api_key.scope_unknown" if unknown else "api_key.scopes_required",
            message_zh="权限范围无效" if unknown else "至少需要一个权限范围",
            extra={"known_scopes": list(SCOPES)},
        )
    return chosen


def validate_centres(centres: Iterable[str] | None) -> list[str] | None:
    if centres is None:
        return None
    chosen = sorted(set(centres))
    bad = [c for c in chosen if not _CENTRE_CODE.match(c)]
    if bad or not chosen:
        raise InvalidInput(
            "Learning centre codes look like 5135701; give at least one, or none for the whole university.",
            code="api_key.centre_invalid",
            message_zh="学习中心代码无效",
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
        raise InvalidInput(
            "expires_at must be in the future.",
            code="api_key.expiry_in_past",
            message_zh="过期时间必须晚于当前时间",
        )
    chosen_scopes = validate_scopes(scopes)
    chosen_centres = validate_centres(centres)
    if "admin" in chosen_scopes and chosen_centres is not None:
        # Key management is university-wide by nature: an admin bound to a centre could mint keys
        # for other centres. So `admin` is for HQ keys only.
        raise InvalidInput(
            "The admin scope is for whole-university (HQ) keys; drop the centres or the scope.",
            code="api_key.admin_needs_hq",
            message_zh="admin 权限只能授予全校（总部）密钥",
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
        raise NotFound(f"No API key {key_id}.", code="api_key.not_found", message_zh="API 密钥不存在")
    return dict(row._mapping)


async def revoke_key(session: AsyncSession, key_id: str) -> dict[str, Any]:
    """Idempotent: revoking a revoked key keeps its first revocation time."""
    record = await get_key(session, key_id)
    if key_id == BOOTSTRAP_KEY_ID:
        raise InvalidInput(
            "The bootstrap key is replaced by changing GRADOPS_BOOTSTRAP_API_KEY, not revoked.",
            code="api_key.bootstrap_not_revocable",
            message_zh="引导密钥不可吊销，请修改 GRADOPS_BOOTSTRAP_API_KEY",
        )
    if record["revoked_at"] is None:
        record["revoked_at"] = datetime.now(UTC)
        await session.execute(
            update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=record["revoked_at"])
        )
    return record
