"""Consumers: read, apply in one DB transaction with the inbox record, then commit the offset.

A duplicate is skipped by the inbox; a message that cannot be parsed, or fails on every retry,
goes to `<topic>.dlt` with the reason, and the consumer keeps going. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_shared.bus import IncomingMessage, OutgoingMessage, Publisher, Subscription
from gradops_shared.contracts import EventData, EventEnvelope, parse_data
from gradops_shared.db import Database
from gradops_shared.logging import bind_request_id
from gradops_shared.metrics import (
    CONSUMER_DEAD_LETTERS,
    CONSUMER_EVENTS,
    CONSUMER_FAILURES,
    CONSUMER_HANDLE_SECONDS,
    LagReporter,
)
from gradops_shared.outbox import claim_processed, record_processed
from gradops_shared.tracing import consume_span

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, EventEnvelope, EventData], Awaitable[None]]
# Optional, for throughput: applies consecutive events of one type in one transaction. The
# per-event handler of that type stays the reference; a batch that fails is replayed one by one.
BatchHandler = Callable[[AsyncSession, Sequence[tuple[EventEnvelope, EventData]]], Awaitable[None]]
DLT_SUFFIX = ".dlt"
LAG_REFRESH_SECONDS = 1.0


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        db: Database,
        inbox: Table,
        subscription: Subscription,
        dead_letters: Publisher,
        handlers: Mapping[str, Handler],
        max_attempts: int = 3,
        retry_backoff_seconds: float = 0.2,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        self.name = name
        self.db = db
        self.inbox = inbox
        self.subscription = subscription
        self.dead_letters = dead_letters
        self.handlers = dict(handlers)
        self.max_attempts = max_attempts
        self.retry_backoff_seconds = retry_backoff_seconds
        self.stats = ConsumerStats()
        self._lag = LagReporter(name)
        self._lag_refreshed_at = float("-inf")
        self.batch_handlers = dict(batch_handlers or {})

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                messages = await self.subscription.fetch(timeout_s=0.5)
            except Exception:
                log.exception("consumer_fetch_failed", consumer=self.name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1)
                continue
            try:
                await self.process(messages)
            except Exception:
                # E.g. the dead-letter topic is unreachable. Go back to the last committed offsets
                # so nothing fetched but not committed is skipped; the inbox absorbs the replays.
                log.exception("consumer_batch_failed", consumer=self.name)
                # If even the rewind fails, the loop stops (readiness turns red) rather than go on
                # past messages it has not applied; a restart resumes from the committed offsets.
                await self.subscription.rewind()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1)

    async def process(self, messages: Sequence[IncomingMessage]) -> None:
        """Applies each message in its own DB transaction (or, for types with a batch handler, each
        run of consecutive messages of that type in one), then commits the batch's offsets: one
        offset commit per partition and batch, never before the effects are committed."""
        last: dict[tuple[str, int], IncomingMessage] = {}
        pending: list[tuple[IncomingMessage, EventEnvelope, EventData]] = []
        for message in messages:
            batchable = self._batchable(message)
            if pending and (batchable is None or batchable[0].type != pending[0][1].type):
                await self._apply_run(pending)
                pending = []
            if batchable is not None:
                pending.append((message, *batchable))
            else:
                await self.handle(message)
            last[(message.topic, message.partition)] = message
        if pending:
            await self._apply_run(pending)
        for message in last.values():
            await self.subscription.commit(message)
        await self.refresh_lag()

    async def refresh_lag(self, *, force: bool = False) -> None:
        """Publishes the lag per partition (Kafka only: the bus knows its high-water marks)."""
        lag_of = getattr(self.subscription, "lag", None)
        now = asyncio.get_running_loop().time()
        if lag_of is None or (not force and now - self._lag_refreshed_at < LAG_REFRESH_SECONDS):
            return
        self._lag_refreshed_at = now
        try:
            self._lag.report(await lag_of())
        except Exception:  # a metric never stops the consumer
            log.warning("consumer_lag_unavailable", consumer=self.name, exc_info=True)

    async def handle(self, message: IncomingMessage) -> None:
        with consume_span(message.topic, message.partition, message.offset, message.headers, self.name):
            await self._handle(message)

    async def _handle(self, message: IncomingMessage) -> None:
        try:
            envelope = EventEnvelope.model_validate_json(message.value)
        except ValueError as exc:
            await self._dead_letter(message, f"unparseable envelope: {exc}", "unparseable")
            return
        bind_request_id(envelope.request_id)
        handler = self.handlers.get(envelope.type)
        if handler is None:
            self.stats.ignored += 1  # not an event this consumer cares about
            CONSUMER_EVENTS.labels(self.name, envelope.type, "ignored").inc()
            return
        try:
            data = parse_data(envelope)
        except ValueError as exc:
            await self._dead_letter(
                message, f"invalid {envelope.type} data: {exc}", "invalid_data", envelope.type
            )
            return

        last_error: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                with CONSUMER_HANDLE_SECONDS.labels(self.name, envelope.type).time():
                    applied = await self._apply(handler, envelope, data)
            except Exception as exc:
                last_error = exc
                CONSUMER_FAILURES.labels(self.name, envelope.type).inc()
                log.warning(
                    "consumer_apply_failed",
                    consumer=self.name,
                    event_type=envelope.type,
                    event_id=str(envelope.event_id),
                    attempt=attempt,
                    error=repr(exc),
                )
                await asyncio.sleep(self.retry_backoff_seconds * attempt)
                continue
            CONSUMER_EVENTS.labels(self.name, envelope.type, "applied" if applied else "duplicate").inc()
            if applied:
                self.stats.applied += 1
            else:
                self.stats.duplicates += 1
                log.info("consumer_duplicate_skipped", consumer=self.name, event_id=str(envelope.event_id))
            return
        await self._dead_letter(
            message,
            f"failed after {self.max_attempts} attempts: {last_error!r}",
            "handler_failed",
            envelope.type,
        )

    def _batchable(self, message: IncomingMessage) -> tuple[EventEnvelope, EventData] | None:
        """The parsed event when its type has a batch handler; anything odd takes the normal path."""
        if not self.batch_handlers:
            return None
        try:
            envelope = EventEnvelope.model_validate_json(message.value)
            if envelope.type not in self.batch_handlers or envelope.type not in self.handlers:
                return None
            return envelope, parse_data(envelope)
        except ValueError:
            return None

    async def _apply_run(self, run: Sequence[tuple[IncomingMessage, EventEnvelope, EventData]]) -> None:
        """Consecutive events of one type in one transaction with their inbox records; on any
        failure the run is replayed event by event (retries, dead letters) as without batching."""
        batch_handler = self.batch_handlers[run[0][1].type]
        try:
            async with self.db.transaction() as session:
                ids = {str(e.event_id): e.type for _, e, _ in run}
                claimed = await claim_processed(session, self.inbox, self.name, list(ids.items()))
                fresh: list[tuple[EventEnvelope, EventData]] = []
                for _, envelope, data in run:
                    # Claimed now, and only its first copy when a fetch holds the event twice.
                    if str(envelope.event_id) in claimed:
                        claimed.discard(str(envelope.event_id))
                        fresh.append((envelope, data))
                if fresh:
                    await batch_handler(session, fresh)
        except Exception as exc:
            log.warning("consumer_batch_apply_failed", consumer=self.name, size=len(run), error=repr(exc))
            for message, _, _ in run:
                await self.handle(message)
            return
        self.stats.applied += len(fresh)
        self.stats.duplicates += len(run) - len(fresh)
        event_type = run[0][1].type
        CONSUMER_EVENTS.labels(self.name, event_type, "applied").inc(len(fresh))
        CONSUMER_EVENTS.labels(self.name, event_type, "duplicate").inc(len(run) - len(fresh))

    async def _apply(self, handler: Handler, envelope: EventEnvelope, data: EventData) -> bool:
        async with self.db.transaction() as session:
            if not await record_processed(
                session, self.inbox, self.name, str(envelope.event_id), envelope.type
            ):
                return False
            await handler(session, envelope, data)
        return True

    async def _dead_letter(
        self, message: IncomingMessage, reason: str, reason_kind: str, event_type: str = "unknown"
    ) -> None:
        self.stats.dead_lettered += 1
        CONSUMER_DEAD_LETTERS.labels(self.name, message.topic, reason_kind).inc()
        CONSUMER_EVENTS.labels(self.name, event_type, "dead_lettered").inc()
        log.error("consumer_dead_lettered", consumer=self.name, topic=message.topic, reason=reason)
        headers = [
            *message.headers,
            ("dlt_reason", reason[:2000].encode()),
            ("dlt_consumer", self.name.encode()),
            ("dlt_source", f"{message.topic}/{message.partition}/{message.offset}".encode()),
        ]
        key = (message.key or b"").decode("utf-8", errors="replace")
        await self.dead_letters.publish(
            [OutgoingMessage(topic=message.topic + DLT_SUFFIX, key=key, value=message.value, headers=headers)]
        )
