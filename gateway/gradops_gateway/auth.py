"""Authentication at the front door: an API key in `Authorization: Bearer <key>` becomes a
principal, which the gateway signs and hands to the service (see gradops_shared.principal).

Keys live in the gateway's database as a sha256 digest only. A key is `gok_` + 32 random bytes
(256 bits) from `secrets`: with that much entropy a fast hash is safe — nobody can enumerate the
key space, so a slow password hash (bcrypt/argon2) would add tens of milliseconds to every request
for no gain. Those exist for low-entropy secrets people choose, which API keys are not.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy import select, update

from gradops_gateway.models import api_keys
from gradops_shared.db import Database
from gradops_shared.principal import SCOPES, Principal

log = structlog.get_logger(__name__)

KEY_PREFIX = "gok_"
BOOTSTRAP_KEY_ID = "key_bootstrap"
# last_used_at is written at most this often per key: a write per request would double the cost.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class KeyStore(Protocol):
    async def authenticate(self, api_key: str) -> Principal | None:
        """The key's principal, or None when the key is unknown, expired or revoked."""
        ...


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


@dataclass(frozen=True)
class _CachedKey:
    principal: Principal | None
    expires_at: datetime | None
    last_used_at: datetime | None
    fetched: float


class DatabaseKeyStore:
    """Looks keys up by digest, caching each answer (also "unknown") for `cache_seconds`.

    A revocation or expiry edit in the database is therefore seen within that window; the expiry
    instant itself is checked on every request from the cached row, so it is exact."""

    MAX_CACHED = 10_000

    def __init__(self, db: Database, *, cache_seconds: float = 5.0) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, _CachedKey] = {}
        self._touches: set[asyncio.Task[None]] = set()

    async def authenticate(self, api_key: str) -> Principal | None:
        if not api_key or len(api_key) > 200:
            return None
        digest = key_digest(api_key)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or now - cached.fetched > self.cache_seconds:
            cached = await self._load(digest, now)
        if cached.principal is None:
            return None
        wall = datetime.now(UTC)
        if cached.expires_at is not None and cached.expires_at <= wall:
            return None
        if cached.last_used_at is None or wall - cached.last_used_at > LAST_USED_RESOLUTION:
            self._cache[digest] = _CachedKey(cached.principal, cached.expires_at, wall, cached.fetched)
            self._touch(cached.principal.key_id, wall)
        return cached.principal

    async def _load(self, digest: str, now: float) -> _CachedKey:
        async with self.db.session() as session:
            row = (await session.execute(select(api_keys).where(api_keys.c.key_hash == digest))).first()
        if row is None or row.revoked_at is not None:
            entry = _CachedKey(None, None, None, now)
        else:
            entry = _CachedKey(
                Principal(
                    # The key's id, not its name: names need not be unique, and services record
                    # the subject as the actor in columns of limited width.
                    subject=f"key:{row.id}",
                    scopes=frozenset(row.scopes),
                    centres=None if row.centres is None else frozenset(row.centres),
                    key_id=row.id,
                ),
                row.expires_at,
                row.last_used_at,
                now,
            )
        if len(self._cache) >= self.MAX_CACHED:
            self._cache.clear()  # crude but bounded; a refill costs one query per active key
        self._cache[digest] = entry
        return entry

    def _touch(self, key_id: str | None, when: datetime) -> None:
        """Records last use off the request path; losing one of these on shutdown is harmless."""

        async def write() -> None:
            try:
                async with self.db.transaction() as session:
                    await session.execute(
                        update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=when)
                    )
            except Exception:
                log.warning("api_key_last_used_not_recorded", key_id=key_id, exc_info=True)

        task = asyncio.create_task(write())
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    def forget(self) -> None:
        """Drops the cache (tests, and the admin endpoints after a change in this process)."""
        self._cache.clear()

    async def drain(self) -> None:
        if self._touches:
            await asyncio.gather(*self._touches, return_exceptions=True)


async def ensure_bootstrap_key(db: Database, api_key: str) -> None:
    """The HQ key of GRADOPS_BOOTSTRAP_API_KEY (or the one `make run` prints) exists with every
    scope. A different value on the next start replaces the old one: only one bootstrap key."""
    now = datetime.now(UTC)
    values = {
        "name": "bootstrap (HQ)",
        "key_hash": key_digest(api_key),
        "key_prefix": api_key[:12],
        "scopes": sorted(SCOPES),
        "centres": None,
        "expires_at": None,
        "revoked_at": None,
    }
    async with db.transaction() as session:
        exists = (
            await session.execute(select(api_keys.c.id).where(api_keys.c.id == BOOTSTRAP_KEY_ID))
        ).first()
        if exists:
            await session.execute(update(api_keys).where(api_keys.c.id == BOOTSTRAP_KEY_ID).values(**values))
        else:
            await session.execute(
                api_keys.insert().values(
                    id=BOOTSTRAP_KEY_ID, created_at=now, created_by="bootstrap", **values
                )
            )
