"""The gateway's features on the real stack: webhooks routed to the notifications service, whose
consumer reads Kafka and whose API process dispatches, and Idempotency-Key replay of a real write
(one event, not two)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from gradops_gateway.idempotency import REPLAY_HEADER
from gradops_notifications.domain.signing import SIGNATURE_HEADER, verify
from gradops_suite import stack
from tests.factories import ensure_learning_centre, student_no, student_payload
from tests.support.gateway_tools import bearer, webhook_receiver
from tests.support.kafka import read_topic


@pytest.fixture
async def gateway(stack_config: stack.StackConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack_config.gateway_url(), timeout=30, headers=bearer(stack_config.bootstrap_api_key)
    ) as client:
        yield client


async def test_the_webhook_process_delivers_signed_events_from_kafka(
    gateway: httpx.AsyncClient, stack_config: stack.StackConfig
) -> None:
    states = stack.status(stack_config)
    assert states["notifications-api"] == states["notifications-consumer"] == "ready"
    async with webhook_receiver() as receiver:
        hook = (
            await gateway.post(
                "/api/v1/webhooks", json={"url": receiver.url("stack"), "event_types": ["StudentRegistered"]}
            )
        ).json()
        number = student_no()
        await ensure_learning_centre(gateway)
        created = await gateway.put(
            f"/api/v1/students/{number}", json=student_payload(), headers={"x-request-id": f"wh-{number}"}
        )
        assert created.status_code == 201
        received = await receiver.wait_for("stack", 1, timeout_s=30)
    envelope = json.loads(received[0].body)
    assert envelope["type"] == "StudentRegistered" and envelope["student_no"] == number
    assert verify(hook["secret"], received[0].headers[SIGNATURE_HEADER.lower()], received[0].body)
    assert received[0].headers["x-request-id"] == f"wh-{number}"


async def test_an_idempotent_retry_of_a_real_write_publishes_one_event(
    gateway: httpx.AsyncClient, stack_config: stack.StackConfig
) -> None:
    number = student_no()
    payload = student_payload()
    await ensure_learning_centre(gateway, payload["learning_centre"])
    key = {"idempotency-key": str(uuid.uuid4())}
    first = await gateway.put(f"/api/v1/students/{number}", json=payload, headers=key)
    again = await gateway.put(f"/api/v1/students/{number}", json=payload, headers=key)
    assert first.status_code == again.status_code == 201  # a second real PUT would be 200
    assert again.headers[REPLAY_HEADER] == "true" and again.json() == first.json()
    # A later, different change goes through and is the only other event.
    changed = await gateway.put(f"/api/v1/students/{number}", json={**payload, "class_code": "2021春会计1班"})
    assert changed.status_code == 200, changed.text
    messages = await read_topic(
        stack_config.kafka_bootstrap,
        f"{stack_config.topic_prefix}registry.events.v1",
        until=3,
        timeout_s=5,
        key=number,
    )
    assert [m[0].type for m in messages] == ["StudentRegistered", "StudentUpdated"]  # type: ignore[union-attr]
