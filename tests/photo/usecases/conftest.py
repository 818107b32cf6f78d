"""The use-case tier: photo's use cases called directly on the real, migrated PostgreSQL in a
transaction rolled back after each test (nothing is committed, whatever the use case flushed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy.ext.asyncio import AsyncSession


@pytest.fixture
async def session(
    rolled_back: Callable[[str], AbstractAsyncContextManager[AsyncSession]],
) -> AsyncIterator[AsyncSession]:
    async with rolled_back("photo") as opened:
        yield opened
