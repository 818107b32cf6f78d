"""How a service becomes processes: its API app, its outbox relay and its consumer.

Each service describes itself once in a `ServiceDefinition`. The stack runs each role as its own
process (every process answers `/healthz` and `/readyz`); the embedded default runs them all as
tasks of one process, sharing one `Runtime`. Either way the same code applies the same rules.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import MetaData, Table

from gradops_shared.bus import EmbeddedBus, EventBus, KafkaBus
from gradops_shared.consumer import DLT_SUFFIX, BatchHandler, ConsumerRunner, Handler
from gradops_shared.contracts import TOPICS
from gradops_shared.db import Database
from gradops_shared.errors import CATALOGUE, catalogue_entries
from gradops_shared.http import health_router, new_app
from gradops_shared.outbox import INBOX_TABLE, OUTBOX_TABLE, OutboxRelay
from gradops_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    description: str
    settings_cls: type[ServiceSettings]
    # The service's tables; every service's metadata also holds the shared outbox and inbox tables.
    metadata: MetaData
    # The service's routes: one APIRouter (module-level routers included into it), or a factory.
    router: APIRouter | Callable[[], APIRouter]
    consumes: tuple[str, ...] = ()
    handlers: Callable[[Any], Mapping[str, Handler]] | None = None
    # Optional: event types applied in batches (one transaction per run), for throughput.
    batch_handlers: Callable[[Any], Mapping[str, BatchHandler]] | None = None
    # Background loops of the API process (the service's workers.py), started by the app's lifespan
    # once the runtime is up and stopped before it goes: never from a router.
    workers: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None

    @property
    def schema(self) -> str:
        assert self.metadata.schema is not None
        return self.metadata.schema

    @property
    def outbox(self) -> Table:
        return self.metadata.tables[f"{self.schema}.{OUTBOX_TABLE}"]

    @property
    def inbox(self) -> Table:
        return self.metadata.tables[f"{self.schema}.{INBOX_TABLE}"]

    def create_app(self, settings: ServiceSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
        """The service's API app: its settings from the environment unless given."""
        return create_service_app(self, settings or self.settings_cls(), runtime)


@dataclass
class Runtime:
    """What a service's processes share: the database, the bus, and HTTP clients for peers.
    `peer_transports` lets the embedded default reach a peer in-process instead of by network."""

    db: Database
    bus: EventBus
    peer_transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def peer(self, name: str, base_url: str) -> httpx.AsyncClient:
        client = self._clients.get(name)
        if client is None:
            transport = self.peer_transports.get(name)
            client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=10.0)
            self._clients[name] = client
        return client

    async def close_peers(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def make_bus(settings: ServiceSettings) -> EventBus:
    if settings.event_bus == "kafka":
        return KafkaBus(settings.kafka_bootstrap)
    return EmbeddedBus(settings.embedded_bus_path)


def runtime_from(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@asynccontextmanager
async def _owned_runtime(
    settings: ServiceSettings, schema: str, runtime: Runtime | None
) -> AsyncIterator[Runtime]:
    """Uses the runtime handed in (embedded) or builds one and disposes of it (own process)."""
    if runtime is not None:
        yield runtime
        return
    db = Database(settings.database_url, schema)
    bus = make_bus(settings)
    if isinstance(bus, EmbeddedBus):
        await bus.start()
    own = Runtime(db=db, bus=bus)
    try:
        yield own
    finally:
        await own.close_peers()
        if isinstance(bus, EmbeddedBus):
            await bus.stop()
        await db.dispose()


def _readiness(app: FastAPI) -> dict[str, Callable[[], Awaitable[None]]]:
    async def database() -> None:
        await app.state.runtime.db.ping()

    async def event_bus() -> None:
        await app.state.runtime.bus.ping()

    return {"database": database, "event_bus": event_bus}


def create_service_app(
    definition: ServiceDefinition, settings: ServiceSettings, runtime: Runtime | None = None
) -> FastAPI:
    """The service's REST API. Writes go to its tables and its outbox, nothing else."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _owned_runtime(settings, definition.schema, runtime) as rt:
            app.state.runtime = rt
            if definition.workers is None:
                yield
                return
            async with definition.workers(app):
                yield

    app = new_app(
        title=definition.title,
        description=definition.description,
        lifespan=lifespan,
        process=f"{definition.name}-api",
    )
    app.state.settings = settings
    app.state.service = definition.name
    if runtime is not None:
        app.state.runtime = runtime
    app.include_router(health_router(_readiness(app)))
    app.include_router(definition.router if isinstance(definition.router, APIRouter) else definition.router())
    _document_problem_codes(app, definition.name)
    return app


def _document_problem_codes(app: FastAPI, service: str) -> None:
    """The service's catalogue (its errors.py) in its spec as `x-problem-codes`; the gateway merges
    them, with the shared codes, into the partners' spec."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()
        own = {code: problem for code, problem in CATALOGUE.items() if problem.service == service}
        spec["x-problem-codes"] = catalogue_entries(own)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def build_relay(definition: ServiceDefinition, settings: ServiceSettings, runtime: Runtime) -> OutboxRelay:
    return OutboxRelay(
        runtime.db,
        definition.outbox,
        runtime.bus.publisher(),
        topic_prefix=settings.topic_prefix,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
    )


def consumer_topics(definition: ServiceDefinition, settings: ServiceSettings) -> list[str]:
    return [settings.topic_prefix + topic for topic in definition.consumes]


def build_consumer(
    definition: ServiceDefinition, settings: ServiceSettings, runtime: Runtime
) -> ConsumerRunner:
    if definition.handlers is None:
        raise ValueError(f"{definition.name} consumes no events")
    return ConsumerRunner(
        name=definition.name,
        db=runtime.db,
        inbox=definition.inbox,
        subscription=runtime.bus.subscription(
            consumer_topics(definition, settings),
            group_id=f"{settings.topic_prefix}gradops.{definition.name}",
        ),
        dead_letters=runtime.bus.publisher(),
        handlers=definition.handlers(settings),
        max_attempts=settings.consumer_max_attempts,
        retry_backoff_seconds=settings.consumer_retry_backoff_seconds,
        batch_handlers=definition.batch_handlers(settings) if definition.batch_handlers else None,
    )


class BackgroundWorker:
    """Runs a relay or a consumer as a task with start/stop, publisher and subscription lifecycles."""

    def __init__(self, name: str, target: OutboxRelay | ConsumerRunner) -> None:
        self.name = name
        self.target = target
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if isinstance(self.target, OutboxRelay):
            await self.target.publisher.start()
        else:
            await self.target.subscription.start()
            await self.target.dead_letters.start()
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        try:
            await self.target.run(self._stop)
        except Exception:
            log.exception("worker_crashed", worker=self.name)
            raise

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        if isinstance(self.target, OutboxRelay):
            await self.target.publisher.stop()
        else:
            await self.target.subscription.stop()
            await self.target.dead_letters.stop()


async def ensure_worker_topics(
    definition: ServiceDefinition, settings: ServiceSettings, bus: EventBus
) -> None:
    own = TOPICS.get(definition.name)  # a service that emits nothing (notifications) has no topic
    topics = [settings.topic_prefix + own] if own else []
    for topic in consumer_topics(definition, settings):
        topics += [topic, topic + DLT_SUFFIX]
    await bus.ensure_topics(topics)


def create_worker_app(
    definition: ServiceDefinition, settings: ServiceSettings, role: str, runtime: Runtime | None = None
) -> FastAPI:
    """A relay or consumer process: the loop runs in the lifespan; HTTP answers health probes."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _owned_runtime(settings, definition.schema, runtime) as rt:
            app.state.runtime = rt
            await ensure_worker_topics(definition, settings, rt.bus)
            target: OutboxRelay | ConsumerRunner = (
                build_relay(definition, settings, rt)
                if role == "relay"
                else build_consumer(definition, settings, rt)
            )
            worker = BackgroundWorker(f"{definition.name}-{role}", target)
            app.state.worker = worker
            await worker.start()
            try:
                yield
            finally:
                await worker.stop()

    app = new_app(
        title=f"{definition.title} {role}",
        description=f"{role} process",
        lifespan=lifespan,
        docs=False,
        process=f"{definition.name}-{role}",
    )
    checks = _readiness(app)

    async def worker_alive() -> None:
        worker: BackgroundWorker = app.state.worker
        if not worker.running:
            raise RuntimeError("worker stopped")
        if isinstance(worker.target, ConsumerRunner) and not worker.target.subscription.assigned:
            raise RuntimeError("no partitions assigned yet")

    checks["worker"] = worker_alive
    app.include_router(health_router(checks))
    return app
