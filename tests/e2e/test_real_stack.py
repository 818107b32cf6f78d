"""The real topology: every service, relay and consumer and the gateway as its own process, on
real PostgreSQL and real Kafka, driven over HTTP like a partner would."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gradops_suite import stack
from tests.e2e.slice import assert_problem, check_bad_inputs_change_nothing, run_vertical_slice
from tests.factories import ensure_learning_centre, jpeg, student_no, student_payload


@pytest.fixture
async def gateway(stack_config: stack.StackConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack_config.gateway_url(),
        timeout=30,
        headers={"authorization": f"Bearer {stack_config.bootstrap_api_key}"},
    ) as client:
        yield client


def test_every_process_answers_its_readiness_check(stack_config: stack.StackConfig) -> None:
    states = stack.status(stack_config)
    assert set(states) == {spec.name for spec in stack.process_specs(stack_config)}
    # 5 APIs, 4 relays (notifications emits nothing), 4 consumers (photo consumes nothing), the gateway
    assert len(states) == 14
    assert all(state == "ready" for state in states.values()), states


async def test_vertical_slice_on_the_real_stack(gateway: httpx.AsyncClient) -> None:
    await run_vertical_slice(gateway)


async def test_bad_input_on_the_real_stack(gateway: httpx.AsyncClient) -> None:
    await check_bad_inputs_change_nothing(gateway)


async def test_docs_are_served_offline(gateway: httpx.AsyncClient) -> None:
    docs = await gateway.get("/docs")
    assert docs.status_code == 200 and "/docs-static/swagger-ui-bundle.js" in docs.text
    assert (await gateway.get("/docs-static/swagger-ui.css")).status_code == 200
    spec = (await gateway.get("/openapi.json")).json()
    assert "/api/v1/students/{student_no}/certificate" in spec["paths"]


def test_logs_of_every_process_are_under_one_directory(stack_config: stack.StackConfig) -> None:
    names = {p.stem for p in stack_config.log_dir.glob("*.log")}
    assert names == {spec.name for spec in stack.process_specs(stack_config)}
    gateway_log = (stack_config.log_dir / "gateway.log").read_text()
    assert '"process": "gateway"' in gateway_log


async def test_request_id_travels_from_gateway_into_kafka_headers(
    gateway: httpx.AsyncClient, stack_config: stack.StackConfig
) -> None:
    from tests.support.kafka import read_topic

    number = student_no()
    await ensure_learning_centre(gateway)
    response = await gateway.put(
        f"/api/v1/students/{number}", json=student_payload(), headers={"x-request-id": f"trace-{number}"}
    )
    assert response.status_code == 201 and response.headers["x-request-id"] == f"trace-{number}"
    messages = await read_topic(
        stack_config.kafka_bootstrap, f"{stack_config.topic_prefix}registry.events.v1", until=1, key=number
    )
    assert messages, "the StudentRegistered event was not published"
    envelope, headers = messages[0]
    assert headers["request_id"] == f"trace-{number}"
    assert envelope.request_id == f"trace-{number}"  # type: ignore[union-attr]


@pytest.fixture
def photo_api_stopped(stack_config: stack.StackConfig) -> Iterator[None]:
    pid_file = stack_config.run_dir / "photo-api.pid"
    os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    yield
    stack.start(stack_config)  # brings the missing process back


async def test_gateway_answers_502_when_a_service_is_down(
    gateway: httpx.AsyncClient, photo_api_stopped: None
) -> None:
    number = student_no()
    await ensure_learning_centre(gateway)
    assert (await gateway.put(f"/api/v1/students/{number}", json=student_payload())).status_code == 201
    response = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", jpeg(), "image/jpeg")}
    )
    assert_problem(response, 502, "gateway.service_unavailable")
    # The other services are unaffected.
    assert (await gateway.get(f"/api/v1/students/{number}")).status_code == 200
