"""Test tiers: unit (no I/O), integration (real PostgreSQL + Kafka), e2e (whole suite through the
gateway, embedded and on the real stack). Postgres and Kafka are never faked: if they are not up,
the tests that need them fail with the reason (make test starts them first)."""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest

from gradops_shared.bus import KafkaBus
from gradops_suite.devdb import recreate

PG_SERVER = os.environ.get("GRADOPS_TEST_PG", "postgresql://gradops:gradops@127.0.0.1:55432")
KAFKA_BOOTSTRAP = os.environ.get("GRADOPS_TEST_KAFKA", "127.0.0.1:59092")
# Lets several checkouts run their tests on one PostgreSQL at once (gradops_test_<suffix>).
DB_SUFFIX = os.environ.get("GRADOPS_TEST_DB_SUFFIX", "")


async def fresh_database(name: str) -> str:
    """Drops and recreates the service schemas in `name` (created if missing), then migrates."""
    if DB_SUFFIX:
        name = f"{name}_{DB_SUFFIX}"
    try:
        return await recreate(PG_SERVER, name)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_SERVER} ({exc!r}). `make test` starts it with "
            "deploy/stack/postgres.sh up; see .stack/logs/postgres.log.",
            pytrace=False,
        )


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
