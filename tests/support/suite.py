"""The embedded suite for tests: one fixture instead of one per file.

`suite` is the whole product in this process (SQLite, in-process bus) behind an HQ-keyed gateway
client, plus a direct client per service and the principal secret, for tests that call a service
with a signed principal of their own. Tests that need other settings open their own with
`open_suite(tmp_path, service_overrides=…)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gradops_shared.principal import PRINCIPAL_HEADER, Principal, sign_principal
from gradops_shared.runtime import Runtime
from gradops_suite.embedded import build_embedded, migrate_embedded

TEST_API_KEY = "gok_suite_tests"


@dataclass
class Suite:
    gateway: httpx.AsyncClient  # sends the HQ bootstrap key
    services: dict[str, httpx.AsyncClient]  # straight to each service (no gateway)
    secret: str  # the principal-signing secret the services trust
    data_dir: Path
    # Each service's runtime (its database and peer transports), for tests that look behind the API.
    runtimes: dict[str, Runtime] = field(default_factory=dict)

    def headers(self, *scopes: str, centres: set[str] | None = None, subject: str = "test") -> dict[str, str]:
        """A signed principal header for calling a service directly."""
        principal = Principal(
            subject=subject,
            scopes=frozenset(scopes),
            centres=None if centres is None else frozenset(centres),
        )
        return {PRINCIPAL_HEADER: sign_principal(principal, self.secret)}


@asynccontextmanager
async def open_suite(
    data_dir: Path,
    *,
    service_overrides: dict[str, dict[str, object]] | None = None,
    gateway_overrides: dict[str, object] | None = None,
    api_key: str = TEST_API_KEY,
) -> AsyncIterator[Suite]:
    await asyncio.to_thread(migrate_embedded, data_dir)
    built = build_embedded(
        data_dir,
        bootstrap_api_key=api_key,
        service_overrides=service_overrides,
        gateway_overrides=gateway_overrides,
    )
    any_service = next(iter(built.services.values()))
    secret = any_service.state.settings.principal_secret.get_secret_value()
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(built.gateway.router.lifespan_context(built.gateway))
        gateway = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=built.gateway),
                base_url="http://gradops",
                headers={"authorization": f"Bearer {api_key}"},
            )
        )
        services = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
            for name, app in built.services.items()
        }
        yield Suite(
            gateway=gateway, services=services, secret=secret, data_dir=data_dir, runtimes=built.runtimes
        )


@pytest.fixture
async def suite(tmp_path: Path) -> AsyncIterator[Suite]:
    async with open_suite(tmp_path) as opened:
        yield opened
