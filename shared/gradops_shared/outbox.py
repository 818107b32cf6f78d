"""Transactional outbox and inbox.

The state change and its event are written in one transaction (`add_event`); a relay per service
publishes unsent rows and marks them sent. Consumers record `(consumer, event_id)` in the same
transaction as the effect (`record_processed`), so a redelivered event is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from sqlalchemy import (
    JSON,
    Column,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gradops_shared.bus import OutgoingMessage, Publisher
from gradops_shared.contracts import EventData
from gradops_shared.db import BigIntPK, Database, UtcDateTime
from gradops_shared.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED, set_outbox_backlog
from gradops_shared.tracing import inject_into, publish_spans

log = structlog.get_logger(__name__)

OUTBOX_TABLE = "outbox"
INBOX_TABLE = "processed_events"
# The relay counts its backlog at most this often, and never past the cap (a scan of the partial
# index on unsent rows, bounded however far behind it is).
BACKLOG_REFRESH_SECONDS = 5.0
BACKLOG_COUNT_CAP = 100_000


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        OUTBOX_TABLE,
        metadata,
        Column("seq", BigIntPK, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(64), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("sent_at", UtcDateTime, nullable=True),
        Index("ix_outbox_unsent", "seq", postgresql_where=text("sent_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        INBOX_TABLE,
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
    )


def notify_channel(schema: str) -> str:
    return f"gradops_outbox_{schema}"


# In-process wake-ups for relays in the same process (embedded mode, tests); Postgres NOTIFY
# does the same across processes. Both only shorten the wait: relays also poll.
_local_signals: dict[str, set[asyncio.Event]] = defaultdict(set)


@event.listens_for(Session, "after_commit")
def _wake_local_relays(session: Session) -> None:
    schema = session.info.pop("outbox_schema", None)
    if schema:
        for signal in _local_signals[schema]:
            signal.set()


def outbox_row(data: EventData) -> dict[str, Any]:
    """The one outbox row builder: every writer (single, batched, bulk) goes through it, so every
    event carries its ids, its request id and the trace context (traces on only)."""
    envelope = data.envelope()
    headers: dict[str, str] = {"event_type": envelope.type, "event_id": str(envelope.event_id)}
    if envelope.request_id:
        headers["request_id"] = envelope.request_id
    inject_into(headers)  # the trace continues when the relay publishes
    return {
        "event_id": str(envelope.event_id),
        "topic": data.topic(),
        "key": envelope.student_no,
        "event_type": envelope.type,
        "payload": envelope.model_dump_json().encode(),
        "headers": headers,
        "created_at": envelope.occurred_at,
    }


def outbox_rows(events: Sequence[EventData]) -> list[dict[str, Any]]:
    """The outbox rows of many events, for bulk writers (roster imports): insert them in the
    caller's transaction, then call `notify_relay`."""
    return [outbox_row(data) for data in events]


async def add_event(session: AsyncSession, table: Table, data: EventData) -> str:
    """Append the event to the outbox in the caller's transaction; returns its event id."""
    row = outbox_row(data)
    await session.execute(table.insert().values(**row))
    await notify_relay(session, table)
    return str(row["event_id"])


async def add_events(session: AsyncSession, table: Table, events: Sequence[EventData]) -> None:
    """`add_event` for many events at once: one multi-row insert and one NOTIFY (batched consumers)."""
    if not events:
        return
    await session.execute(table.insert(), outbox_rows(events))
    await notify_relay(session, table)


async def claim_processed(
    session: AsyncSession, table: Table, consumer: str, events: Sequence[tuple[str, str]]
) -> set[str]:
    """`record_processed` for many `(event_id, event_type)` at once, without savepoints: returns
    the ids claimed now (the others were applied before)."""
    if not events:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = datetime.now(UTC)
    statement = (
        insert(table)
        .values(
            [{"consumer": consumer, "event_id": e, "event_type": t, "processed_at": now} for e, t in events]
        )
        .on_conflict_do_nothing()
        .returning(table.c.event_id)
    )
    return {str(event_id) for event_id in (await session.execute(statement)).scalars()}


async def record_processed(
    session: AsyncSession, table: Table, consumer: str, event_id: str, event_type: str
) -> bool:
    """Claims the event for this consumer in the caller's transaction. False: already applied."""
    try:
        async with session.begin_nested():
            await session.execute(
                table.insert().values(
                    consumer=consumer,
                    event_id=event_id,
                    event_type=event_type,
                    processed_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        return False
    return True


class OutboxRelay:
    """Claims unsent rows (`FOR UPDATE SKIP LOCKED`, so several relays may run), publishes them
    and marks them sent, one transaction per batch. A failed publish rolls the batch back and
    it is retried: at-least-once, never lost."""

    def __init__(
        self,
        db: Database,
        table: Table,
        publisher: Publisher,
        *,
        topic_prefix: str = "",
        batch_size: int = 200,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.table = table
        self.publisher = publisher
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.published = 0
        self._wake = asyncio.Event()
        self._schema = table.schema or "main"
        self._backlog_refreshed_at = float("-inf")

    async def publish_pending(self) -> int:
        """One batch: returns how many events were published."""
        t = self.table
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(t.c.seq, t.c.topic, t.c.key, t.c.payload, t.c.headers)
                    .where(t.c.sent_at.is_(None))
                    .order_by(t.c.seq)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            batch = [
                (self.topic_prefix + row.topic, row.key, {k: str(v) for k, v in (row.headers or {}).items()})
                for row in rows
            ]
            with publish_spans(batch):
                await self.publisher.publish(
                    [
                        OutgoingMessage(
                            topic=topic,
                            key=key,
                            value=bytes(row.payload),
                            headers=[(k, v.encode()) for k, v in headers.items()],
                        )
                        for (topic, key, headers), row in zip(batch, rows, strict=True)
                    ]
                )
            await session.execute(
                update(t).where(t.c.seq.in_([row.seq for row in rows])).values(sent_at=datetime.now(UTC))
            )
        self.published += len(rows)
        OUTBOX_PUBLISHED.labels(self._schema).inc(len(rows))
        return len(rows)

    async def refresh_backlog(self) -> tuple[int, datetime | None]:
        """Counts unsent events (up to BACKLOG_COUNT_CAP) and finds the oldest, for the metrics."""
        t = self.table
        unsent = select(t.c.seq).where(t.c.sent_at.is_(None)).limit(BACKLOG_COUNT_CAP).subquery()
        async with self.db.session() as session:
            count = (await session.execute(select(func.count()).select_from(unsent))).scalar_one()
            oldest = (
                await session.execute(
                    select(t.c.created_at).where(t.c.sent_at.is_(None)).order_by(t.c.seq).limit(1)
                )
            ).scalar_one_or_none()
        set_outbox_backlog(self._schema, count, oldest.timestamp() if oldest else None)
        self._backlog_refreshed_at = asyncio.get_running_loop().time()
        return count, oldest

    async def _refresh_backlog_now_and_then(self) -> None:
        if asyncio.get_running_loop().time() - self._backlog_refreshed_at < BACKLOG_REFRESH_SECONDS:
            return
        try:
            await self.refresh_backlog()
        except Exception:  # a metric never stops the relay
            log.warning("outbox_backlog_unavailable", schema=self._schema, exc_info=True)

    async def run(self, stop: asyncio.Event) -> None:
        _local_signals[self._schema].add(self._wake)
        listener = await self._listen()
        try:
            while not stop.is_set():
                await self._refresh_backlog_now_and_then()
                try:
                    count = await self.publish_pending()
                except Exception:
                    log.exception("outbox_publish_failed", schema=self._schema)
                    OUTBOX_PUBLISH_FAILURES.labels(self._schema).inc()
                    count = 0
                    await _sleep_or_stop(stop, self.poll_seconds)
                    continue
                if count:
                    log.debug("outbox_published", schema=self._schema, count=count)
                    continue  # drain the backlog before waiting
                self._wake.clear()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            _local_signals[self._schema].discard(self._wake)
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        if self.db.dialect != "postgresql":
            return None
        url = self.db.engine.url.set(drivername="postgresql")
        try:
            conn: asyncpg.Connection = await asyncpg.connect(url.render_as_string(hide_password=False))
            await conn.add_listener(notify_channel(self._schema), lambda *_: self._wake.set())
            return conn
        except Exception:
            log.warning("outbox_listen_unavailable_polling_instead", schema=self._schema)
            return None


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def notify_relay(session: AsyncSession, table: Table) -> None:
    """Wakes the relays once the caller's transaction commits (as `add_event` does per event)."""
    schema = table.schema or "main"
    session.info["outbox_schema"] = schema
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": notify_channel(schema)})
