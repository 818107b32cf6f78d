"""The embedded default: the whole suite in one process on SQLite with an in-process event log.

Same domain code, same outbox, same relays and consumers as the real stack; only the database
driver and the bus differ.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi import FastAPI

from gradops_gateway.app import create_app as create_gateway
from gradops_gateway.settings import GatewaySettings
from gradops_shared.bus import EmbeddedBus
from gradops_shared.db import Database
from gradops_shared.migrations import upgrade
from gradops_shared.runtime import (
    BackgroundWorker,
    Runtime,
    build_consumer,
    build_relay,
    create_service_app,
)
from gradops_shared.settings import ServiceSettings, secrets_unused
from gradops_suite.catalogue import DEFINITIONS, emitters, settings_for


@dataclass
class EmbeddedSuite:
    gateway: FastAPI
    services: dict[str, FastAPI]
    runtimes: dict[str, Runtime]
    bootstrap_api_key: str
    workers: list[BackgroundWorker] = field(default_factory=list)


# What the embedded default changes from a service's own defaults.
EMBEDDED_DEFAULTS: dict[str, dict[str, object]] = {
    # A laptop demo: http partner URLs are fine (private addresses stay refused).
    "notifications": {"webhook_allow_http": True},
}


def embedded_settings(data_dir: Path, name: str, **overrides: object) -> ServiceSettings:
    return settings_for(
        name,
        database_url=f"sqlite+aiosqlite:///{data_dir / f'{name}.db'}",
        event_bus="embedded",
        embedded_bus_path=str(data_dir / "bus.db"),
        relay_poll_seconds=0.5,
        **overrides,
    )


def migrate_embedded(data_dir: Path) -> None:
    """Blocking: run before the event loop starts (or in a thread)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in DEFINITIONS:
        upgrade(name, embedded_settings(data_dir, name).database_url)
    upgrade("gateway", gateway_database_url(data_dir))


def gateway_database_url(data_dir: Path) -> str:
    """API keys and idempotency records: `gradops keys --data-dir DIR` writes here."""
    return f"sqlite+aiosqlite:///{data_dir.resolve() / 'gateway.db'}"


def bootstrap_api_key_from_env() -> str:
    """GRADOPS_BOOTSTRAP_API_KEY when set (scripts drive the embedded default with it), else new."""
    return os.environ.get("GRADOPS_BOOTSTRAP_API_KEY") or f"gok_{secrets.token_urlsafe(24)}"


def build_embedded(
    data_dir: Path,
    *,
    service_overrides: dict[str, dict[str, object]] | None = None,
    bootstrap_api_key: str | None = None,
    gateway_overrides: dict[str, object] | None = None,
) -> EmbeddedSuite:
    """Builds the apps; the returned gateway's lifespan starts and stops everything else."""
    data_dir = data_dir.resolve()
    bus = EmbeddedBus(data_dir / "bus.db")
    # One process: the gateway and the services share a secret that lives only as long as it does.
    principal_secret = secrets.token_urlsafe(32)
    api_key = bootstrap_api_key or bootstrap_api_key_from_env()
    settings = {
        name: embedded_settings(
            data_dir,
            name,
            **{
                "principal_secret": principal_secret,
                **EMBEDDED_DEFAULTS.get(name, {}),
                **(service_overrides or {}).get(name, {}),
            },
        )
        for name in DEFINITIONS
    }
    runtimes = {
        name: Runtime(db=Database(s.database_url, DEFINITIONS[name].schema), bus=bus)
        for name, s in settings.items()
    }
    services = {
        name: create_service_app(DEFINITIONS[name], settings[name], runtimes[name]) for name in DEFINITIONS
    }
    transports: dict[str, httpx.AsyncBaseTransport] = {
        name: httpx.ASGITransport(app=app) for name, app in services.items()
    }
    for runtime in runtimes.values():
        runtime.peer_transports.update(transports)
    suite = EmbeddedSuite(gateway=FastAPI(), services=services, runtimes=runtimes, bootstrap_api_key=api_key)

    @asynccontextmanager
    async def run_everything(_gateway: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await bus.start()
            stack.push_async_callback(bus.stop)
            for runtime in runtimes.values():
                stack.push_async_callback(runtime.db.dispose)
                stack.push_async_callback(runtime.close_peers)
            for app in services.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            for name, definition in DEFINITIONS.items():
                if name in emitters():
                    suite.workers.append(
                        BackgroundWorker(
                            f"{name}-relay", build_relay(definition, settings[name], runtimes[name])
                        )
                    )
                if definition.handlers is not None:
                    suite.workers.append(
                        BackgroundWorker(
                            f"{name}-consumer", build_consumer(definition, settings[name], runtimes[name])
                        )
                    )
            for worker in suite.workers:
                await worker.start()
                stack.push_async_callback(worker.stop)
            yield

    gateway_settings: dict[str, object] = {
        "services": {name: f"http://{name}.embedded" for name in DEFINITIONS},
        "principal_secret": principal_secret,
        "bootstrap_api_key": api_key,
        "database_url": gateway_database_url(data_dir),
        "event_bus": "embedded",
        "embedded_bus_path": str(data_dir / "bus.db"),
        **(gateway_overrides or {}),
    }
    suite.gateway = create_gateway(
        GatewaySettings(**gateway_settings),  # type: ignore[arg-type]
        specs={name: app.openapi() for name, app in services.items()},
        transports=transports,
        extra_lifespan=run_everything,
    )
    return suite


@asynccontextmanager
async def embedded_client(
    data_dir: Path,
    *,
    service_overrides: dict[str, dict[str, object]] | None = None,
    bootstrap_api_key: str | None = None,
    gateway_overrides: dict[str, object] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The running embedded suite behind an in-process HTTP client that sends the HQ bootstrap key:
    for tests, benchmarks and scripts that want the whole product without a port."""
    import asyncio

    await asyncio.to_thread(migrate_embedded, data_dir)
    suite = build_embedded(
        data_dir,
        service_overrides=service_overrides,
        bootstrap_api_key=bootstrap_api_key,
        gateway_overrides=gateway_overrides,
    )
    async with (
        suite.gateway.router.lifespan_context(suite.gateway),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=suite.gateway),
            base_url="http://gradops",
            headers={"authorization": f"Bearer {suite.bootstrap_api_key}"},
        ) as client,
    ):
        yield client


# `make run` must show every flow working, and the 毕业证明书 and the CHSI export need a principal's
# name (409 `certificates.principal_name_missing` without one). The embedded default prints this
# sample on the documents and in the banner until GRADOPS_CERTIFICATES_PRINCIPAL_NAME is set; the
# real stack has no default (an operator must set it).
SAMPLE_PRINCIPAL_NAME = "示例校长（样例，请设置 GRADOPS_CERTIFICATES_PRINCIPAL_NAME）"


def run_overrides(host: str, port: int) -> dict[str, dict[str, object]]:
    """What `make run` changes from the services' own defaults: the certificates service's public URL
    follows the port it really serves (share-code QR codes point at it), and the principal's name is
    the marked sample unless the environment names one. Settings from the environment still win."""
    from gradops_certificates.settings import CertificatesSettings

    with secrets_unused():  # read for two values; the suite's own settings are embedded
        configured = CertificatesSettings()
    certificates: dict[str, object] = {}
    if not configured.principal_name.strip():
        certificates["principal_name"] = SAMPLE_PRINCIPAL_NAME
    if "public_base_url" not in configured.model_fields_set:
        certificates["public_base_url"] = f"http://{host}:{port}"
    return {"certificates": certificates}


def banner(host: str, port: int, data_dir: Path, api_key: str, principal_name: str) -> str:
    url = f"http://{host}:{port}"
    sample = (
        "  (a sample: set GRADOPS_CERTIFICATES_PRINCIPAL_NAME)"
        if principal_name == SAMPLE_PRINCIPAL_NAME
        else ""
    )
    return (
        f"\nGradOps (embedded) is running: {url}\n"
        f"  API docs: {url}/docs  ·  data: {data_dir.resolve()}  ·  Ctrl-C stops it\n"
        f"  HQ API key (every scope): {api_key}\n"
        f"  principal's name on the 毕业证明书 and the CHSI export: {principal_name}{sample}\n"
        f"  more keys: .venv/bin/gradops keys --data-dir {data_dir} create --name … --scope …\n"
        f"  try: curl -H 'Authorization: Bearer {api_key}' {url}/api/v1/students\n"
        f"  CLI: GRADOPS_API_URL={url} GRADOPS_API_KEY={api_key} .venv/bin/gradops …\n"
    )


def run(port: int, data_dir: Path, host: str = "127.0.0.1") -> None:
    import asyncio

    import uvicorn

    from gradops_shared.logging import configure_logging

    configure_logging("embedded")
    migrate_embedded(data_dir)
    overrides = run_overrides(host, port)
    suite = build_embedded(data_dir, service_overrides=overrides)
    server = uvicorn.Server(
        # The gateway alone decides whom to believe about the client (GRADOPS_GATEWAY_TRUSTED_PROXIES).
        uvicorn.Config(
            suite.gateway, host=host, port=port, log_config=None, access_log=False, proxy_headers=False
        )
    )
    certificates_settings = suite.services["certificates"].state.settings
    text = banner(host, port, data_dir, suite.bootstrap_api_key, certificates_settings.principal_name)

    async def serve() -> None:
        async def announce_when_listening() -> None:
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await asyncio.sleep(0.05)
            print(text, flush=True)

        announcer = asyncio.create_task(announce_when_listening())
        try:
            await server.serve()
        finally:
            announcer.cancel()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
