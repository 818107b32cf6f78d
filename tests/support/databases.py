"""Real PostgreSQL and Kafka for the tests. Never faked: if they are not up, the tests that need them
fail with the reason (make test starts them first).

Three ways to use PostgreSQL:
- `postgres_url`: one database for the run, migrated from scratch once (integration tests that
  commit; they keep to their own rows and topics);
- `rolled_back("registry")`: the use-case tier; a session on a connection whose outer transaction
  is rolled back when the test ends, so use cases (which only flush) leave nothing behind;
- `fresh_database(name)`: a database of one's own (the stack, migrations tests).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

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


RolledBack = Callable[[str], AbstractAsyncContextManager[AsyncSession]]


@pytest.fixture
def rolled_back(postgres_url: str) -> RolledBack:
    """`async with rolled_back("audit") as session:` — a unit of work on the real, migrated
    PostgreSQL whose outer transaction is rolled back at the end, whatever the use case flushed
    (a use case that commits would be a bug: `join_transaction_mode` turns it into a savepoint)."""

    @asynccontextmanager
    async def open_session(schema: str) -> AsyncIterator[AsyncSession]:
        engine = create_async_engine(postgres_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                outer = await connection.begin()
                session = AsyncSession(
                    bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
                )
                try:
                    yield session
                finally:
                    await session.close()
                    await outer.rollback()
        finally:
            await engine.dispose()

    return open_session
