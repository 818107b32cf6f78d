"""The webhook worker: a consumer of all four service topics (inbox: nothing applied twice) that
creates deliveries and records the student timeline, and a dispatcher that sends the deliveries.

Isolation between partners: each subscription has at most `webhook_concurrency_per_subscription`
deliveries in flight and each attempt has a timeout, so a slow or failing endpoint only ever holds
its own slots; the dispatcher claims work only for subscriptions with a free slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_gateway.models import SCHEMA, inbox
from gradops_gateway.settings import GatewaySettings
from gradops_gateway.timeline import store as timeline
from gradops_gateway.webhooks import store
from gradops_gateway.webhooks.signing import SIGNATURE_HEADER, backoff_seconds, signature
from gradops_gateway.webhooks.targets import PinnedTransport, TargetGuard, TargetPolicy, TargetRefused
from gradops_shared.bus import EventBus
from gradops_shared.consumer import DLT_SUFFIX, ConsumerRunner, Handler
from gradops_shared.contracts import EVENT_TYPES, TOPICS, EventData, EventEnvelope, StudentSnapshot
from gradops_shared.db import Database
from gradops_shared.http import health_router, new_app
from gradops_shared.runtime import BackgroundWorker, make_bus

log = structlog.get_logger(__name__)
CONSUMER_NAME = "gateway-webhooks"


def handlers(settings: GatewaySettings) -> Mapping[str, Handler]:
    window = timedelta(hours=settings.webhook_retry_hours)

    async def on_event(session: AsyncSession, envelope: EventEnvelope, data: EventData) -> None:
        if isinstance(data, StudentSnapshot):
            await store.remember_centre(session, data.student_no, data.learning_centre)
        await store.create_deliveries(session, envelope, envelope.model_dump_json().encode(), window)
        # The student timeline is fed by the same consumer: one inbox, one transaction per event.
        await timeline.record(session, envelope)

    return {event_type: on_event for event_type in EVENT_TYPES}


def topics(settings: GatewaySettings) -> list[str]:
    return [settings.topic_prefix + topic for topic in TOPICS.values()]


class Dispatcher:
    def __init__(self, db: Database, settings: GatewaySettings, guard: TargetGuard | None = None) -> None:
        self.db = db
        self.settings = settings
        self.guard = guard or TargetGuard(TargetPolicy.of(settings))
        self.in_flight: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self._wake = asyncio.Event()
        # Every connection goes through the guard (checked, pinned address); no proxy from the
        # environment (it would connect on our behalf to wherever the name points), no redirects.
        self.client = httpx.AsyncClient(
            transport=PinnedTransport(
                self.guard,
                httpx.AsyncHTTPTransport(
                    limits=httpx.Limits(max_connections=settings.webhook_max_in_flight), retries=0
                ),
            ),
            timeout=httpx.Timeout(settings.webhook_timeout_seconds),
            follow_redirects=False,
            trust_env=False,
        )

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self.dispatch_due()
            except Exception:
                log.exception("webhook_claim_failed")
                claimed = 0
            if claimed:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(
                waiters, timeout=self.settings.webhook_poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()

    async def dispatch_due(self) -> int:
        free = self.settings.webhook_max_in_flight - sum(self.in_flight.values())
        if free <= 0:
            return 0
        per_sub = self.settings.webhook_concurrency_per_subscription
        busy = [sub for sub, n in self.in_flight.items() if n >= per_sub]
        lease = timedelta(seconds=self.settings.webhook_timeout_seconds + 30)
        async with self.db.transaction() as session:
            rows = await store.claim_due(session, limit=free, busy_subscriptions=busy, lease=lease)
        started = 0
        for row in rows:
            sub = row["subscription_id"]
            if self.in_flight[sub] >= per_sub:
                # Over this subscription's share in this batch: give it back, due now.
                async with self.db.transaction() as session:
                    await session.execute(
                        store.deliveries.update()
                        .where(store.deliveries.c.id == row["id"])
                        .values(next_attempt_at=datetime.now(UTC))
                    )
                continue
            self.in_flight[sub] += 1
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _deliver(self, delivery: dict[str, Any]) -> None:
        sub = delivery["subscription_id"]
        try:
            body = bytes(delivery["payload"])
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "user-agent": "GradOps-Webhooks/1",
                "x-gradops-event": delivery["event_type"],
                "x-gradops-delivery": delivery["id"],
                "x-gradops-event-id": delivery["event_id"],
                SIGNATURE_HEADER: signature(delivery["secret"], timestamp, body),
            }
            if delivery["request_id"]:
                headers["x-request-id"] = delivery["request_id"]
            started = time.perf_counter()
            status_code, error, retry = await self._post(delivery["url"], body, headers)
            duration_ms = int((time.perf_counter() - started) * 1000)
            retry_in = backoff_seconds(
                delivery["attempts"] + 1,
                self.settings.webhook_first_retry_seconds,
                self.settings.webhook_max_backoff_seconds,
            )
            async with self.db.transaction() as session:
                outcome = await store.record_attempt(
                    session,
                    delivery,
                    status_code=status_code,
                    error=error,
                    duration_ms=duration_ms,
                    retry_in=timedelta(seconds=retry_in) if retry else None,
                )
            self.sent += 1
            log.info(
                "webhook_attempt",
                request_id=delivery["request_id"],
                delivery_id=delivery["id"],
                subscription_id=sub,
                event_type=delivery["event_type"],
                status_code=status_code,
                outcome=outcome,
                duration_ms=duration_ms,
                error=error,
            )
        except Exception:
            log.exception("webhook_delivery_crashed", delivery_id=delivery["id"])
        finally:
            self.in_flight[sub] -= 1
            if self.in_flight[sub] <= 0:
                del self.in_flight[sub]
            self.wake()  # a slot is free: there may be due work for this subscription

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, bool]:
        """One attempt: (HTTP status, error, worth retrying). The answer's body is never read: a
        partner's endpoint (or whatever a URL reaches) must not be able to show us, or the
        subscriber through the delivery log, anything but its status. The whole attempt, name
        resolution included, is bounded by the attempt timeout."""
        timeout = self.settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                async with self.client.stream("POST", url, content=body, headers=headers) as response:
                    status = response.status_code
            return status, None if 200 <= status < 300 else f"HTTP {status}", True
        except TargetRefused as exc:
            # Not a partner's outage: retrying cannot help, and must not keep probing the address.
            log.warning(
                "webhook_target_refused", url_host=httpx.URL(url).host, code=exc.code, reason=exc.reason
            )
            return None, f"refused: {exc.code}" + (f" ({exc.reason})" if exc.reason else ""), False
        except (TimeoutError, httpx.TimeoutException):
            return None, f"timeout after {timeout:g} s", True
        except OSError:
            return None, "name resolution failed", True  # the partner's DNS may be back later
        except httpx.HTTPError as exc:
            return None, type(exc).__name__, True

    async def close(self) -> None:
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.settings.webhook_timeout_seconds + 1)
        await self.client.aclose()


class WebhookWorker:
    """Consumer + dispatcher, started and stopped together (inside the gateway or its own process)."""

    def __init__(
        self, db: Database, bus: EventBus, settings: GatewaySettings, guard: TargetGuard | None = None
    ) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings
        self.consumer = ConsumerRunner(
            name=CONSUMER_NAME,
            db=db,
            inbox=inbox,
            subscription=bus.subscription(
                topics(settings), group_id=f"{settings.topic_prefix}gradops.gateway"
            ),
            dead_letters=bus.publisher(),
            handlers=handlers(settings),
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_seconds=settings.consumer_retry_backoff_seconds,
        )
        self.consumer_worker = BackgroundWorker(CONSUMER_NAME, self.consumer)
        self.dispatcher = Dispatcher(db, settings, guard)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.consumer_worker.running and self._task is not None and not self._task.done()

    async def start(self) -> None:
        names = topics(self.settings)
        await self.bus.ensure_topics(names + [t + DLT_SUFFIX for t in names])
        await self.consumer_worker.start()
        self._stop.clear()
        self._task = asyncio.create_task(self.dispatcher.run(self._stop), name="webhook-dispatcher")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=10)
        await self.dispatcher.close()
        await self.consumer_worker.stop()


def create_webhooks_app(settings: GatewaySettings | None = None) -> FastAPI:
    """`gradops serve webhooks gateway`: the worker as its own process, with health probes."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, SCHEMA)
        bus = make_bus(settings)
        start_bus = getattr(bus, "start", None)
        if start_bus is not None:
            await start_bus()
        worker = WebhookWorker(db, bus, settings)
        app.state.db, app.state.bus, app.state.worker = db, bus, worker
        await worker.start()
        try:
            yield
        finally:
            await worker.stop()
            stop_bus = getattr(bus, "stop", None)
            if stop_bus is not None:
                await stop_bus()
            await db.dispose()

    app = new_app(title="GradOps webhooks", description="webhook worker", lifespan=lifespan, docs=False)

    async def database() -> None:
        await app.state.db.ping()

    async def event_bus() -> None:
        await app.state.bus.ping()

    async def worker_alive() -> None:
        worker: WebhookWorker = app.state.worker
        if not worker.running:
            raise RuntimeError("worker stopped")
        if not worker.consumer.subscription.assigned:
            raise RuntimeError("no partitions assigned yet")

    app.include_router(health_router({"database": database, "event_bus": event_bus, "worker": worker_alive}))
    return app
