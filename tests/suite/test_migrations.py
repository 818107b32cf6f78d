"""Each service's Alembic history, applied to real PostgreSQL, matches its models exactly."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from gradops_shared.migrations import alembic_config
from gradops_suite.catalogue import DEFINITIONS


@pytest.mark.parametrize("service", list(DEFINITIONS))
async def test_models_and_migrations_agree(service: str, postgres_url: str) -> None:
    # `alembic check` raises when autogenerate would write a new migration.
    await asyncio.to_thread(command.check, alembic_config(service, postgres_url))


async def test_every_service_lives_in_its_own_schema(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY($1::text[])",
            [d.schema for d in DEFINITIONS.values()],
        )
    finally:
        await conn.close()
    by_schema: dict[str, set[str]] = {}
    for row in rows:
        by_schema.setdefault(row["table_schema"], set()).add(row["table_name"])
    for definition in DEFINITIONS.values():
        expected = {table.name for table in definition.metadata.sorted_tables} | {"alembic_version"}
        assert by_schema[definition.schema] == expected
