"""`gradops dlt replay`: puts dead-lettered messages back on the topic they came from. It talks to
Kafka directly (the API has no say over topics): bootstrap and topic prefix from options or the
processes' settings (`GRADOPS_KAFKA_BOOTSTRAP`, `GRADOPS_TOPIC_PREFIX`).

What is replayed is remembered by the consumer group `<prefix>gradops.dlt-replay` (offsets committed
after every message of a run is published), so running it twice does not publish twice; the
consumers' inboxes make a replay of an event they already applied harmless anyway. Run it once the
cause is fixed (a deployment, a missing record): a message that fails again returns to the DLT.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from gradops_shared.consumer import DLT_SUFFIX

REPLAY_GROUP = "gradops.dlt-replay"
# Headers the consumer adds when it dead-letters; they do not travel back.
DLT_HEADERS = frozenset({"dlt_reason", "dlt_consumer", "dlt_source"})


@dataclass
class ReplayedMessage:
    dlt_topic: str
    partition: int
    offset: int
    target_topic: str | None
    key: str | None
    reason: str | None
    consumer: str | None
    replayed: bool


@dataclass
class ReplayReport:
    dry_run: bool
    messages: list[ReplayedMessage] = field(default_factory=list)

    @property
    def replayed(self) -> int:
        return sum(m.replayed for m in self.messages)

    @property
    def unroutable(self) -> int:
        return sum(m.target_topic is None for m in self.messages)


def source_topic(headers: dict[str, str], dlt_topic: str) -> str | None:
    """The topic in `dlt_source` (`topic/partition/offset`), else the DLT's own name without
    `.dlt`; None when neither names a topic."""
    source = headers.get("dlt_source")
    if source and source.count("/") >= 2:
        return source.rsplit("/", 2)[0]
    return dlt_topic[: -len(DLT_SUFFIX)] if dlt_topic.endswith(DLT_SUFFIX) else None


async def replay(
    bootstrap: str,
    topics: list[str],
    *,
    topic_prefix: str = "",
    dry_run: bool = False,
    limit: int | None = None,
    timeout_s: float = 30.0,
) -> ReplayReport:
    """Replays what is on `<prefix><topic>.dlt` for each topic, up to the end it has now."""
    dlt_topics = [f"{topic_prefix}{t}{DLT_SUFFIX}" for t in topics]
    report = ReplayReport(dry_run=dry_run)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"{topic_prefix}{REPLAY_GROUP}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    try:
        await consumer.start()
        await producer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in dlt_topics
            for p in sorted(await _partitions(consumer, topic))
        ]
        if not partitions:
            return report
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        done: dict[TopicPartition, int] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending and loop.time() < deadline and (limit is None or len(report.messages) < limit):
            batches = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp] or (limit is not None and len(report.messages) >= limit):
                        break
                    headers = {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or ()}
                    target = source_topic(headers, tp.topic)
                    message = ReplayedMessage(
                        dlt_topic=tp.topic,
                        partition=tp.partition,
                        offset=record.offset,
                        target_topic=target,
                        key=record.key.decode("utf-8", "replace") if record.key else None,
                        reason=headers.get("dlt_reason"),
                        consumer=headers.get("dlt_consumer"),
                        replayed=False,
                    )
                    if target is not None and not dry_run:
                        await producer.send_and_wait(
                            target,
                            value=record.value,
                            key=record.key,
                            headers=[
                                *((k, v) for k, v in record.headers or () if k not in DLT_HEADERS),
                                ("dlt_replayed_from", f"{tp.topic}/{tp.partition}/{record.offset}".encode()),
                            ],
                        )
                        message.replayed = True
                    report.messages.append(message)
                    done[tp] = record.offset + 1
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        if done and not dry_run:
            # After every message is published (at least once): the next run starts after them.
            await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in done.items()})
    finally:
        await producer.stop()
        await consumer.stop()
    return report


async def _partitions(consumer: Any, topic: str) -> set[int]:
    # A consumer only tracks the metadata of topics it subscribed to; ask the cluster (a DLT that
    # does not exist yet simply has no partitions: nothing was dead-lettered).
    cluster = await consumer._client.fetch_all_metadata()
    return set(cluster.partitions_for_topic(topic) or ())


async def dead_letter_counts(bootstrap: str, topics: list[str], topic_prefix: str = "") -> dict[str, int]:
    """Messages on each DLT not yet replayed (end offset minus the replay group's position)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"{topic_prefix}{REPLAY_GROUP}", enable_auto_commit=False
    )
    try:
        await consumer.start()
        counts: dict[str, int] = {}
        for topic in topics:
            dlt = f"{topic_prefix}{topic}{DLT_SUFFIX}"
            tps = [TopicPartition(dlt, p) for p in sorted(await _partitions(consumer, dlt))]
            if not tps:
                counts[topic] = 0
                continue
            ends = await consumer.end_offsets(tps)
            begins = await consumer.beginning_offsets(tps)
            total = 0
            for tp in tps:
                committed = await consumer.committed(tp)
                total += ends[tp] - max(begins[tp], committed or 0)
            counts[topic] = total
        return counts
    finally:
        await consumer.stop()
