"""The webhook dispatcher: sends the due deliveries, started by the API process's lifespan (the
service definition's `workers`), never from a router.

Isolation between partners: each subscription has at most `webhook_concurrency_per_subscription`
deliveries in flight and each attempt has a timeout, so a slow or failing endpoint only ever holds
its own slots; the dispatcher claims work only for subscriptions with a free slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import structlog
from fastapi import FastAPI

from gradops_notifications.domain.signing import SIGNATURE_HEADER, backoff_seconds, signature
from gradops_notifications.domain.targets import TargetRefused
from gradops_notifications.service import delivery
from gradops_notifications.service.targets import PinnedTransport, TargetGuard, TargetPolicy, guard_of
from gradops_notifications.settings import NotificationsSettings
from gradops_shared.db import Database

log = structlog.get_logger(__name__)


class Dispatcher:
    """Each claim, give-back and attempt record is its own unit of work (the worker is the edge)."""

    def __init__(
        self, db: Database, settings: NotificationsSettings, guard: TargetGuard | None = None
    ) -> None:
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
            rows = await delivery.claim_due(session, limit=free, busy_subscriptions=busy, lease=lease)
        started = 0
        for row in rows:
            sub = row["subscription_id"]
            if self.in_flight[sub] >= per_sub:
                async with self.db.transaction() as session:
                    await delivery.give_back(session, row["id"])
                continue
            self.in_flight[sub] += 1
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _deliver(self, row: dict[str, Any]) -> None:
        sub = row["subscription_id"]
        try:
            body = bytes(row["payload"])
            headers = {
                "content-type": "application/json",
                "user-agent": "GradOps-Webhooks/1",
                "x-gradops-event": row["event_type"],
                "x-gradops-delivery": row["id"],
                "x-gradops-event-id": row["event_id"],
                SIGNATURE_HEADER: signature(row["secret"], int(time.time()), body),
            }
            if row["request_id"]:
                headers["x-request-id"] = row["request_id"]
            started = time.perf_counter()
            status_code, error, retry = await self._post(row["url"], body, headers)
            duration_ms = int((time.perf_counter() - started) * 1000)
            retry_in = backoff_seconds(
                row["attempts"] + 1,
                self.settings.webhook_first_retry_seconds,
                self.settings.webhook_max_backoff_seconds,
            )
            async with self.db.transaction() as session:
                outcome = await delivery.record_attempt(
                    session,
                    row,
                    status_code=status_code,
                    error=error,
                    duration_ms=duration_ms,
                    retry_in=timedelta(seconds=retry_in) if retry else None,
                )
            self.sent += 1
            log.info(
                "webhook_attempt",
                request_id=row["request_id"],
                delivery_id=row["id"],
                subscription_id=sub,
                event_type=row["event_type"],
                status_code=status_code,
                outcome=outcome,
                duration_ms=duration_ms,
                error=error,
            )
        except Exception:
            log.exception("webhook_delivery_crashed", delivery_id=row["id"])
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


@asynccontextmanager
async def webhook_dispatcher(app: FastAPI) -> AsyncIterator[None]:
    """The API process's background loop (`ServiceDefinition.workers`): the dispatcher shares the
    app's target guard with the subscription endpoint; a replay wakes it (`app.state.wake_webhooks`)."""
    dispatcher = Dispatcher(app.state.runtime.db, app.state.settings, guard_of(app.state))
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop), name="webhook-dispatcher")
    app.state.dispatcher = dispatcher
    app.state.wake_webhooks = dispatcher.wake
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        await dispatcher.close()
