"""The event bus behind one interface: Apache Kafka for real, a durable in-process log embedded.

Relays publish through a `Publisher`; consumers read through a `Subscription` and commit each
message's offset only after its effect is committed in the database (at-least-once, then the
inbox makes it exactly-once in effect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, TopicAlreadyExistsError

log = structlog.get_logger(__name__)

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: Headers = field(default_factory=list)


@dataclass(frozen=True)
class IncomingMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return None


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Returns once every message is acknowledged; raises if any is not."""


class Subscription(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def fetch(self, timeout_s: float) -> list[IncomingMessage]: ...
    async def commit(self, message: IncomingMessage) -> None:
        """Marks `message` and everything before it in its partition as done."""

    async def rewind(self) -> None:
        """Goes back to the committed offsets (after a failed batch)."""

    @property
    def assigned(self) -> bool: ...


class EventBus(Protocol):
    def publisher(self) -> Publisher: ...
    def subscription(self, topics: Sequence[str], group_id: str) -> Subscription: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...
    async def ping(self) -> None: ...


# --------------------------------------------------------------------------------------------- Kafka


class KafkaPublisher:
    def __init__(self, bootstrap: str) -> None:
        # Idempotent producer with acks=all: a retried send never duplicates within a session.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15_000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        pending = [
            await self._producer.send(m.topic, value=m.value, key=m.key.encode(), headers=m.headers)
            for m in messages
        ]
        await asyncio.gather(*pending)


class _AssignmentLog(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.assigned: set[TopicPartition] = set()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.assigned -= set(revoked)
        log.info("partitions_revoked", group=self.group_id, partitions=sorted(str(tp) for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned = set(assigned)
        log.info("partitions_assigned", group=self.group_id, partitions=sorted(str(tp) for tp in assigned))


class KafkaSubscription:
    def __init__(self, bootstrap: str, topics: Sequence[str], group_id: str) -> None:
        self._topics = list(topics)
        self._listener = _AssignmentLog(group_id)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Notice topics created after we subscribed within seconds, not the default 5 minutes.
            metadata_max_age_ms=5_000,
            max_poll_records=200,
        )

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=self._listener)

    async def stop(self) -> None:
        await self._consumer.stop()

    @property
    def assigned(self) -> bool:
        """True once the group has given this member its partitions (it is really consuming)."""
        return bool(self._listener.assigned)

    async def fetch(self, timeout_s: float) -> list[IncomingMessage]:
        batches = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000))
        messages: list[IncomingMessage] = []
        for tp, records in sorted(batches.items(), key=lambda item: (item[0].topic, item[0].partition)):
            messages.extend(
                IncomingMessage(
                    topic=tp.topic,
                    partition=tp.partition,
                    offset=r.offset,
                    key=r.key,
                    value=r.value,
                    headers=[(k, bytes(v)) for k, v in (r.headers or ())],
                )
                for r in records
            )
        return messages

    async def lag(self) -> dict[tuple[str, int], int]:
        """Messages behind the end of each assigned partition, from the high-water mark the last
        fetch brought back (no extra request to the broker)."""
        result: dict[tuple[str, int], int] = {}
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue  # nothing fetched from it yet
            position = await asyncio.wait_for(self._consumer.position(tp), timeout=1)
            result[(tp.topic, tp.partition)] = max(highwater - position, 0)
        return result

    async def rewind(self) -> None:
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is None:
                # Nothing committed yet: where auto_offset_reset="earliest" would start.
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    async def commit(self, message: IncomingMessage) -> None:
        tp = TopicPartition(message.topic, message.partition)
        try:
            await self._consumer.commit({tp: message.offset + 1})
        except CommitFailedError:
            # The partition moved to another member; it will redeliver and the inbox skips it.
            log.warning("offset_commit_failed", topic=message.topic, partition=message.partition)


def _has_leaders(topic: dict[str, Any]) -> bool:
    partitions = topic.get("partitions") or []
    return (
        topic.get("error_code") == 0
        and bool(partitions)
        and all(p.get("leader", -1) >= 0 for p in partitions)
    )


class KafkaBus:
    def __init__(self, bootstrap: str, partitions: int = 3) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions

    def publisher(self) -> Publisher:
        return KafkaPublisher(self.bootstrap)

    def subscription(self, topics: Sequence[str], group_id: str) -> Subscription:
        return KafkaSubscription(self.bootstrap, topics, group_id)

    async def ensure_topics(self, topics: Sequence[str], timeout_s: float = 30) -> None:
        """Creates missing topics and waits until every partition has a leader, so a consumer
        that subscribes next is assigned partitions at once instead of after a metadata refresh."""
        wanted = list(dict.fromkeys(topics))
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                # Another process may create it first; that is fine.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [NewTopic(t, num_partitions=self.partitions, replication_factor=1) for t in missing]
                    )
            deadline = asyncio.get_running_loop().time() + timeout_s
            while True:
                described = await admin.describe_topics(wanted)
                if all(_has_leaders(topic) for topic in described):
                    return
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"topics without leaders after {timeout_s}s: {wanted}")
                await asyncio.sleep(0.1)
        finally:
            await admin.close()

    async def ping(self) -> None:
        host, _, port = self.bootstrap.split(",")[0].rpartition(":")
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=2)
        writer.close()
        await writer.wait_closed()


# ------------------------------------------------------------------------------------------ Embedded


class EmbeddedBus:
    """A durable, single-process event log in SQLite with Kafka's semantics that matter to us:
    per-topic order, consumer groups with committed positions, redelivery of what was not
    committed. One partition per topic; the offset is the row id."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()

    async def start(self) -> None:
        if self._conn is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path)
        await self._conn.executescript(
            """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                topic TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, headers TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_messages_topic_id ON messages (topic, id);
            CREATE TABLE IF NOT EXISTS group_offsets (
                group_id TEXT NOT NULL, topic TEXT NOT NULL, next_offset INTEGER NOT NULL,
                PRIMARY KEY (group_id, topic));
            """
        )
        await self._conn.commit()

    async def stop(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("embedded bus is not started")
        return self._conn

    def publisher(self) -> Publisher:
        return _EmbeddedPublisher(self)

    def subscription(self, topics: Sequence[str], group_id: str) -> Subscription:
        return _EmbeddedSubscription(self, list(topics), group_id)

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        return None  # topics exist as soon as a message names them

    async def ping(self) -> None:
        await self.conn.execute("SELECT 1")

    async def append(self, messages: Sequence[OutgoingMessage]) -> None:
        async with self._lock:
            await self.conn.executemany(
                "INSERT INTO messages (topic, key, value, headers) VALUES (?, ?, ?, ?)",
                [
                    (m.topic, m.key, m.value, json.dumps([[k, v.decode("utf-8")] for k, v in m.headers]))
                    for m in messages
                ],
            )
            await self.conn.commit()
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def read(self, topics: Sequence[str], group_id: str, timeout_s: float) -> list[IncomingMessage]:
        changed = self._changed
        rows = await self._read(topics, group_id)
        if not rows:
            try:
                await asyncio.wait_for(changed.wait(), timeout=timeout_s)
            except TimeoutError:
                return []
            rows = await self._read(topics, group_id)
        return rows

    async def _read(self, topics: Sequence[str], group_id: str) -> list[IncomingMessage]:
        result: list[IncomingMessage] = []
        async with self._lock:
            for topic in topics:
                cursor = await self.conn.execute(
                    "SELECT id, key, value, headers FROM messages WHERE topic = ? AND id >= "
                    "COALESCE((SELECT next_offset FROM group_offsets WHERE group_id = ? AND topic = ?), 0) "
                    "ORDER BY id LIMIT 200",
                    (topic, group_id, topic),
                )
                for row_id, key, value, headers in await cursor.fetchall():
                    result.append(
                        IncomingMessage(
                            topic=topic,
                            partition=0,
                            offset=row_id,
                            key=key.encode(),
                            value=bytes(value),
                            headers=[(k, v.encode()) for k, v in json.loads(headers)],
                        )
                    )
        return result

    async def commit(self, group_id: str, message: IncomingMessage) -> None:
        async with self._lock:
            await self.conn.execute(
                "INSERT INTO group_offsets (group_id, topic, next_offset) VALUES (?, ?, ?) "
                "ON CONFLICT (group_id, topic) DO UPDATE SET next_offset = excluded.next_offset",
                (group_id, message.topic, message.offset + 1),
            )
            await self.conn.commit()


class _EmbeddedPublisher:
    def __init__(self, bus: EmbeddedBus) -> None:
        self._bus = bus

    async def start(self) -> None:
        await self._bus.start()

    async def stop(self) -> None:
        return None  # the bus belongs to the composition root

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        await self._bus.append(messages)


class _EmbeddedSubscription:
    def __init__(self, bus: EmbeddedBus, topics: list[str], group_id: str) -> None:
        self._bus = bus
        self._topics = topics
        self._group_id = group_id

    async def start(self) -> None:
        await self._bus.start()

    async def stop(self) -> None:
        return None

    @property
    def assigned(self) -> bool:
        return True  # one process, one member: it owns every topic

    async def fetch(self, timeout_s: float) -> list[IncomingMessage]:
        return await self._bus.read(self._topics, self._group_id, timeout_s)

    async def commit(self, message: IncomingMessage) -> None:
        await self._bus.commit(self._group_id, message)

    async def rewind(self) -> None:
        return None  # every read starts at the committed offset
