"""The gateway's own Alembic history matches its models and stays in the schema `gateway`."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import command

from gradops_gateway.models import SCHEMA, metadata
from gradops_shared.migrations import alembic_config


async def test_gateway_models_and_migrations_agree(postgres_url: str) -> None:
    await asyncio.to_thread(command.check, alembic_config("gateway", postgres_url))


async def test_gateway_tables_live_in_their_own_schema(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", SCHEMA
        )
    finally:
        await conn.close()
    assert {r["table_name"] for r in rows} == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
