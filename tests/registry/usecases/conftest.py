"""The use-case tier: the registry's use cases called directly on the real, migrated PostgreSQL in a
transaction rolled back after each test (nothing is committed, whatever the use case flushed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.registry.usecases.support import CENTRE, ensure_centre
from tests.support.databases import RolledBack


@pytest.fixture
async def session(rolled_back: RolledBack) -> AsyncIterator[AsyncSession]:
    async with rolled_back("registry") as opened:
        await ensure_centre(opened, CENTRE)
        yield opened
