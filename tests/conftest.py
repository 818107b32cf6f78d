"""Test tiers: unit (no I/O), integration (real PostgreSQL + Kafka), e2e (whole suite through the
gateway, embedded and on the real stack). Postgres and Kafka are never faked: if they are not up,
the tests that need them fail with the reason (make test starts them first)."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

from gradops_shared.bus import KafkaBus
from gradops_shared.migrations import upgrade

SERVICES = ("registry", "photo", "audit", "certificates")
PG_ADMIN_URL = os.environ.get("GRADOPS_TEST_PG", "postgresql://gradops:gradops@127.0.0.1:55432")
KAFKA_BOOTSTRAP = os.environ.get("GRADOPS_TEST_KAFKA", "127.0.0.1:59092")


def asyncpg_dsn(database: str) -> str:
    return f"{PG_ADMIN_URL}/{database}"


def sqlalchemy_url(database: str) -> str:
    return asyncpg_dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


async def fresh_database(name: str) -> str:
    """Drops and recreates the service schemas in `name` (created if missing), then migrates."""
    try:
        admin = await asyncpg.connect(asyncpg_dsn("gradops"), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc!r}). `make test` starts it with "
            "deploy/stack/postgres.sh up; see .stack/logs/postgres.log.",
            pytrace=False,
        )
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(asyncpg_dsn(name))
    try:
        for schema in SERVICES:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
    url = sqlalchemy_url(name)
    for service in SERVICES:
        await asyncio.to_thread(upgrade, service, url)
    return url


@pytest.fixture(scope="session")
async def postgres_url() -> str:
    """The integration database, migrated from scratch once per test run."""
    return await fresh_database("gradops_test")


@pytest.fixture(scope="session")
async def kafka_bootstrap() -> str:
    try:
        await KafkaBus(KAFKA_BOOTSTRAP).ping()
    except OSError as exc:
        pytest.fail(
            f"Kafka is not reachable at {KAFKA_BOOTSTRAP} ({exc!r}). `make test` starts it with "
            "deploy/stack/kafka.sh up; see .stack/logs/kafka.out.",
            pytrace=False,
        )
    return KAFKA_BOOTSTRAP


@pytest.fixture
def topic_prefix() -> str:
    """Each test gets its own topics and consumer groups on the shared broker."""
    return f"t{uuid.uuid4().hex[:10]}."
