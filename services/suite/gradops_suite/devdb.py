"""Throw-away databases for tests and benchmarks: created if missing, schemas dropped, migrated."""

from __future__ import annotations

import asyncio

import asyncpg

from gradops_shared.migrations import upgrade
from gradops_suite.catalogue import DEFINITIONS, GATEWAY_SCHEMA, migration_histories


async def recreate(server_dsn: str, database: str) -> str:
    """`server_dsn` is postgresql://user:password@host:port; returns the SQLAlchemy URL of the
    freshly migrated `database`. Raises OSError/asyncpg errors when the server is unreachable."""
    admin = await asyncpg.connect(f"{server_dsn}/gradops", timeout=5)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(f"{server_dsn}/{database}")
    try:
        for schema in [*(d.schema for d in DEFINITIONS.values()), GATEWAY_SCHEMA]:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
    url = f"{server_dsn}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)
    for name in migration_histories():
        await asyncio.to_thread(upgrade, name, url)
    return url
