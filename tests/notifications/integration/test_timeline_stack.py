"""The student timeline and `gradops health` on the real stack: the gateway's webhook worker is its
own process reading Kafka, the entries are in PostgreSQL, the gateway serves them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from typer.testing import CliRunner

from gradops_suite import stack
from gradops_suite.ops.app import app
from tests.e2e.slice import run_vertical_slice
from tests.notifications.api.test_timeline import subsequence, timeline_until


@pytest.fixture
async def gateway(stack_config: stack.StackConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack_config.gateway_url(),
        timeout=30,
        headers={"authorization": f"Bearer {stack_config.bootstrap_api_key}"},
    ) as client:
        yield client


async def test_the_timeline_on_the_real_stack(gateway: httpx.AsyncClient) -> None:
    outcome = await run_vertical_slice(gateway)
    items = await timeline_until(gateway, outcome["student_no"], "StudentStatusChanged")
    types = [item["type"] for item in items]
    assert subsequence(
        types,
        ["StudentRegistered", "PhotoApproved", "AuditPassed", "CertificateIssued", "StudentStatusChanged"],
    ), types


async def test_health_of_every_stack_process(stack_config: stack.StackConfig) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["--json", "health", "--stack-base-port", str(stack_config.base_port)]
    )
    assert result.exit_code == 0, result.output
    processes = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(processes) == {spec.name for spec in stack.process_specs(stack_config)}
    assert all(p["ready"] for p in processes.values())
    assert "registry" in processes["registry-relay"]["figures"]["outbox_backlog"]
