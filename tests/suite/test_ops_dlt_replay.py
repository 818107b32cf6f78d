"""`gradops dlt replay` on the real Kafka: a dead-lettered message (as the consumer writes it) goes
back to its source topic with its key, value and tracing headers, without the dlt_* headers, once."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from gradops_shared.consumer import DLT_SUFFIX
from gradops_suite.ops.app import app
from tests.support.kafka import read_topic

runner = CliRunner()


async def dead_letter(bootstrap: str, topic: str, key: str, value: bytes, offset: int) -> None:
    """What ConsumerRunner._dead_letter publishes: the original message plus three headers."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic + DLT_SUFFIX,
            value=value,
            key=key.encode(),
            headers=[
                ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                ("dlt_reason", b"handler failed: the registry was down"),
                ("dlt_consumer", b"audit"),
                ("dlt_source", f"{topic}/1/{offset}".encode()),
            ],
        )
    finally:
        await producer.stop()


async def replay(bootstrap: str, prefix: str, *extra: str) -> dict[str, Any]:
    # The CLI runs its own event loop (asyncio.run), as it does in a terminal: a thread of its own.
    result = await asyncio.to_thread(
        runner.invoke,
        app,
        ["--json", "dlt", "replay", "--bootstrap", bootstrap, "--topic-prefix", prefix, *extra],
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


async def waiting(bootstrap: str, prefix: str) -> dict[str, int]:
    result = await asyncio.to_thread(
        runner.invoke, app, ["--json", "dlt", "status", "--bootstrap", bootstrap, "--topic-prefix", prefix]
    )
    assert result.exit_code == 0, result.output
    counts: dict[str, int] = json.loads(result.stdout)
    return counts


async def test_replay_republishes_once_to_the_source_topic(kafka_bootstrap: str, topic_prefix: str) -> None:
    source = f"{topic_prefix}registry.events.v1"
    value = json.dumps({"event_id": str(uuid.uuid4()), "type": "StudentRegistered"}).encode()
    await dead_letter(kafka_bootstrap, source, "2021000042", value, offset=7)
    assert (await waiting(kafka_bootstrap, topic_prefix))["registry.events.v1"] == 1

    dry = await replay(kafka_bootstrap, topic_prefix, "--dry-run")
    assert dry["replayed"] == 0 and len(dry["messages"]) == 1
    # A dry run moves nothing.
    assert (await waiting(kafka_bootstrap, topic_prefix))["registry.events.v1"] == 1

    done = await replay(kafka_bootstrap, topic_prefix)
    assert done["replayed"] == 1
    [message] = done["messages"]
    assert message["target_topic"] == source and message["key"] == "2021000042"
    assert message["consumer"] == "audit" and "registry was down" in message["reason"]

    [(replayed, headers)] = await read_topic(kafka_bootstrap, source, until=1)
    assert replayed == value  # not an envelope: the bytes as they were
    assert headers["traceparent"].startswith("00-4bf92f35")
    assert not {"dlt_reason", "dlt_consumer", "dlt_source"} & set(headers)
    assert headers["dlt_replayed_from"] == f"{source}{DLT_SUFFIX}/0/0"

    again = await replay(kafka_bootstrap, topic_prefix)
    assert again["replayed"] == 0  # the replay group remembers
    assert (await waiting(kafka_bootstrap, topic_prefix)) == {
        "registry.events.v1": 0,
        "photo.events.v1": 0,
        "audit.events.v1": 0,
        "certificates.events.v1": 0,
    }


def test_an_unreachable_kafka_is_exit_3() -> None:
    result = runner.invoke(app, ["dlt", "status", "--bootstrap", "127.0.0.1:1"])
    assert result.exit_code == 3, result.output
    assert "无法连接 Kafka" in result.output
