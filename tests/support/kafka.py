"""Reading topics back with a real Kafka consumer, for assertions."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gradops_shared.contracts import EventEnvelope


async def read_topic(
    bootstrap: str, topic: str, *, until: int, timeout_s: float = 20, key: str | None = None
) -> list[tuple[EventEnvelope | bytes, dict[str, str]]]:
    """Everything on `topic` from the beginning (only `key`'s messages if given), stopping at
    `until` messages or the timeout."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[tuple[EventEnvelope | bytes, dict[str, str]]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < until and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for record in records:
                    if key is not None and record.key != key.encode():
                        continue
                    headers = {k: bytes(v).decode() for k, v in record.headers or ()}
                    try:
                        found.append((EventEnvelope.model_validate_json(record.value), headers))
                    except ValueError:
                        found.append((record.value, headers))
    finally:
        await consumer.stop()
    return found


async def produce(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key.encode())
    finally:
        await producer.stop()


async def eventually(predicate_coro, *, timeout_s: float = 20, interval_s: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        result = await predicate_coro()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval_s)
