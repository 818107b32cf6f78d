"""What metrics and traces cost, on this machine (`.venv/bin/python bench/ops.py`; PostgreSQL up).

Prints each figure and writes bench/results/ops.json:
- HTTP: mean time per request through the ASGI stack, in process (no network, access log at WARNING),
  for a bare FastAPI app, for `new_app` without its metrics layer, for `new_app` as every process
  runs it (request id + metrics, traces off), and with traces on (spans made, then dropped);
- the relay's backlog refresh (count of unsent outbox rows, capped, and the oldest one) with 20,000
  unsent events waiting, on real PostgreSQL.
The machine is shared (2 cores, several builds at once): figures are pessimistic.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from gradops_registry.models import outbox
from gradops_shared import tracing
from gradops_shared.bus import OutgoingMessage
from gradops_shared.db import Database
from gradops_shared.http import new_app
from gradops_shared.logging import configure_logging
from gradops_shared.outbox import OutboxRelay
from gradops_suite.devdb import recreate

RESULTS = Path(__file__).parent / "results" / "ops.json"
PG_SERVER = os.environ.get("GRADOPS_TEST_PG", "postgresql://gradops:gradops@127.0.0.1:55432")
REQUESTS = 3_000
ROUNDS = 10
BACKLOG = 20_000


class NoPublisher:
    """The backlog refresh never publishes; the relay only needs something in the publisher's place."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None: ...


class DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def with_route(app: FastAPI) -> FastAPI:
    @app.get("/api/v1/students/{student_no}")
    async def read_student(student_no: str) -> dict[str, str]:
        return {"student_no": student_no}

    return app


async def per_request_us(client: httpx.AsyncClient, requests: int) -> float:
    started = time.perf_counter()
    for i in range(requests):
        await client.get(f"/api/v1/students/2021{i:06d}")
    return (time.perf_counter() - started) / requests * 1e6


async def http_overhead() -> dict[str, Any]:
    """Rounds of each variant interleaved, median per variant: the machine's load changes by the second."""
    skeleton = with_route(new_app(title="bench", description="", docs=False))
    skeleton.user_middleware = [
        m for m in skeleton.user_middleware if getattr(m.cls, "__name__", "") != "MetricsMiddleware"
    ]
    apps = {
        "bare_fastapi": with_route(FastAPI()),
        "gradops_app_without_metrics": skeleton,
        "gradops_app_traces_off": with_route(new_app(title="bench", description="", docs=False)),
    }
    tracing.configure_tracing("bench", exporter=DroppingExporter())
    try:
        apps["gradops_app_traces_on"] = with_route(new_app(title="bench", description="", docs=False))
        clients = {
            name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
            for name, app in apps.items()
        }
        for client in clients.values():
            await per_request_us(client, 200)  # warm-up
        rounds: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(ROUNDS):
            for name, client in clients.items():
                rounds[name].append(await per_request_us(client, REQUESTS // ROUNDS))
        for client in clients.values():
            await client.aclose()
    finally:
        tracing.shutdown_tracing()
    median = {name: statistics.median(values) for name, values in rounds.items()}
    return {
        "requests_per_variant": REQUESTS,
        **{f"{name}_us_per_request": round(value) for name, value in median.items()},
        "metrics_cost_us_per_request": round(
            median["gradops_app_traces_off"] - median["gradops_app_without_metrics"]
        ),
        "traces_cost_us_per_request": round(
            median["gradops_app_traces_on"] - median["gradops_app_traces_off"]
        ),
    }


async def backlog_refresh() -> dict[str, Any]:
    url = await recreate(PG_SERVER, "gradops_bench_ops")
    db = Database(url, "registry")
    try:
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": str(uuid.uuid4()),
                "topic": "registry.events.v1",
                "key": f"2021{i:06d}",
                "event_type": "StudentStatusChanged",
                "payload": b"{}",
                "headers": {},
                "created_at": now,
            }
            for i in range(BACKLOG)
        ]
        async with db.transaction() as session:
            await session.execute(outbox.insert(), rows)
        relay = OutboxRelay(db, outbox, NoPublisher())
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            count, _oldest = await relay.refresh_backlog()
            timings.append((time.perf_counter() - started) * 1000)
        assert count == BACKLOG
        return {"unsent_events": BACKLOG, "refresh_ms_median": round(statistics.median(timings), 1)}
    finally:
        await db.dispose()


async def main() -> None:
    configure_logging("bench", "WARNING")
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other builds)",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for name, run in (("http_overhead", http_overhead), ("outbox_backlog_refresh", backlog_refresh)):
        results[name] = await run()
        print(f"{name:24} {json.dumps(results[name])}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
