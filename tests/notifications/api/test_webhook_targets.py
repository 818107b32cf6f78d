"""Webhooks cannot be turned against the operator's network (SSRF), on the embedded suite: internal
targets are refused at subscription, and a name whose DNS answer turns internal afterwards
(rebinding) is refused at delivery, without a byte sent to it. The DNS is the tests' own (an
injected resolver); the receiver is a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from gradops_notifications.domain.targets import IPAddress
from gradops_notifications.service.targets import TargetGuard, TargetPolicy
from gradops_suite.embedded import build_embedded, migrate_embedded
from tests.e2e.slice import assert_problem
from tests.factories import create_student
from tests.support.gateway_tools import Receiver, webhook_receiver

PUBLIC = "93.184.216.34"


class FakeDns:
    """The resolver the gateway uses (subscription and delivery); a test changes its answers."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in self.answers[host]]


@asynccontextmanager
async def suite_with_dns(
    data_dir: Path, dns: FakeDns, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    await asyncio.to_thread(migrate_embedded, data_dir)
    suite = build_embedded(
        data_dir, service_overrides={"notifications": {"webhook_poll_seconds": 0.1, **overrides}}
    )
    state = suite.services["notifications"].state
    state.webhook_guard = TargetGuard(TargetPolicy.of(state.settings), resolver=dns)
    async with (
        suite.gateway.router.lifespan_context(suite.gateway),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=suite.gateway),
            base_url="http://gradops",
            headers={"authorization": f"Bearer {suite.bootstrap_api_key}"},
        ) as client,
    ):
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with webhook_receiver() as running:
        yield running


DNS = {
    "localhost": ["127.0.0.1", "::1"],
    "metadata.example.com": ["169.254.169.254"],
    "intranet.example.com": ["10.0.0.5"],
    "v6.intranet.example.com": ["fd00::1"],
    "half.example.com": [PUBLIC, "192.168.1.10"],
    "partner.example.com": [PUBLIC],
}

FORBIDDEN = [
    ("http://127.0.0.1:8000/hook", "webhook.target_forbidden", "loopback"),
    ("http://localhost/hook", "webhook.target_forbidden", "loopback"),
    ("http://[::1]/hook", "webhook.target_forbidden", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "webhook.target_forbidden", "loopback"),
    ("http://2130706433/hook", "webhook.target_forbidden", "loopback"),
    ("http://0x7f.1/hook", "webhook.target_forbidden", "loopback"),
    ("http://0177.0.0.1/hook", "webhook.target_forbidden", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "webhook.target_forbidden", "link_local"),
    ("http://metadata.example.com/", "webhook.target_forbidden", "link_local"),
    ("http://[fe80::1]/hook", "webhook.target_forbidden", "link_local"),
    ("http://10.1.2.3/hook", "webhook.target_forbidden", "private"),
    ("http://172.16.0.1/hook", "webhook.target_forbidden", "private"),
    ("http://192.168.0.1/hook", "webhook.target_forbidden", "private"),
    ("http://intranet.example.com/hook", "webhook.target_forbidden", "private"),
    ("http://v6.intranet.example.com/hook", "webhook.target_forbidden", "private"),
    ("http://half.example.com/hook", "webhook.target_forbidden", "private"),
    ("http://224.0.0.1/hook", "webhook.target_forbidden", "multicast"),
    ("http://[ff02::1]/hook", "webhook.target_forbidden", "multicast"),
    ("http://0.0.0.0/hook", "webhook.target_forbidden", "unspecified"),
    ("http://[::]/hook", "webhook.target_forbidden", "unspecified"),
    ("http://240.0.0.1/hook", "webhook.target_forbidden", "reserved"),
    ("http://user:pass@partner.example.com/hook", "webhook.url_has_credentials", None),
]


async def test_every_internal_target_is_refused_at_subscription(tmp_path: Path) -> None:
    async with suite_with_dns(tmp_path, FakeDns(DNS)) as client:
        for url, code, reason in FORBIDDEN:
            response = await client.post("/api/v1/webhooks", json={"url": url, "event_types": ["*"]})
            problem = assert_problem(response, 422, code)
            assert problem.get("reason") == reason, (url, problem)
            assert problem["message_zh"] and problem["message_en"], problem
        assert (await client.get("/api/v1/webhooks")).json()["items"] == []  # nothing was stored
        # Public targets (and names that do not resolve yet: delivery checks again) are fine.
        for url in [f"http://{PUBLIC}/hook", "http://partner.example.com/hook", "https://later.example.com/"]:
            created = await client.post("/api/v1/webhooks", json={"url": url, "event_types": ["*"]})
            assert created.status_code == 201, (url, created.text)


async def test_https_only_outside_the_embedded_default(tmp_path: Path) -> None:
    async with suite_with_dns(tmp_path, FakeDns(DNS), webhook_allow_http=False) as client:
        assert_problem(
            await client.post(
                "/api/v1/webhooks", json={"url": "http://partner.example.com/", "event_types": ["*"]}
            ),
            422,
            "webhook.url_not_https",
        )
        created = await client.post(
            "/api/v1/webhooks", json={"url": "https://partner.example.com/", "event_types": ["*"]}
        )
        assert created.status_code == 201, created.text


async def test_a_name_rebound_to_an_internal_address_is_never_posted_to(
    tmp_path: Path, receiver: Receiver
) -> None:
    port = httpx.URL(receiver.base_url).port
    # `pinned.example.com` is on the operator's allow-list and resolves to the receiver: the control
    # that a name is delivered to the address the worker resolved (Host header kept).
    dns = FakeDns({"partner.example.com": [PUBLIC], "pinned.example.com": ["127.0.0.1"]})
    async with suite_with_dns(tmp_path, dns, webhook_allowed_hosts=["pinned.example.com"]) as client:
        rebound = (
            await client.post(
                "/api/v1/webhooks",
                json={
                    "url": f"http://partner.example.com:{port}/rebound",
                    "event_types": ["StudentRegistered"],
                },
            )
        ).json()
        pinned = await client.post(
            "/api/v1/webhooks",
            json={"url": f"http://pinned.example.com:{port}/pinned", "event_types": ["StudentRegistered"]},
        )
        assert pinned.status_code == 201, pinned.text
        # After the check, the partner's name is rebound to where only the gateway can reach.
        dns.answers["partner.example.com"] = ["127.0.0.1"]
        await create_student(client)

        [arrived] = await receiver.wait_for("pinned", 1)
        assert arrived.headers["host"] == f"pinned.example.com:{port}"
        deadline = time.monotonic() + 20
        while (log := (await client.get(f"/api/v1/webhooks/{rebound['id']}/deliveries")).json()["items"])[0][
            "status"
        ] == "pending":
            assert time.monotonic() < deadline, log
            await asyncio.sleep(0.1)
        [delivery] = log
        # Refused, recorded with the reason, not retried, and nothing reached the receiver.
        assert delivery["status"] == "failed" and delivery["attempts"] == 1, delivery
        assert delivery["last_error"] == "refused: webhook.target_forbidden (loopback)"
        detail = (await client.get(f"/api/v1/webhooks/{rebound['id']}/deliveries/{delivery['id']}")).json()
        assert detail["attempt_log"][0]["next_attempt_at"] is None
        assert receiver.arrived["rebound"] == 0 and receiver.at("rebound") == []
