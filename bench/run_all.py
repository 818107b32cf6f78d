"""GradOps benchmarks on this machine, against real PostgreSQL and Kafka (started by `make bench`).

Prints each figure and writes them to bench/results/latest.json:
- outbox relay: events/s from PostgreSQL to Kafka (idempotent producer, acks=all);
- consumer: events/s applied with the inbox (the audit consumer, one audit per PhotoApproved);
- the vertical slice: latency from photo approval to a passing audit and (with HQ's sign-off) to a
  readable certificate, through the gateway, on the real stack and on the embedded default; and how
  long the stack takes to start.

`make bench` then runs each area's own benchmark (bench/<area>.py, results in bench/results/).
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func

from gradops_audit.app import DEFINITION as AUDIT
from gradops_audit.settings import AuditSettings
from gradops_registry.models import outbox as registry_outbox
from gradops_registry.schemas import STUDENT_EXAMPLE, OrgUnitIn, StudentIn
from gradops_registry.service.org import put_org_unit
from gradops_registry.service.students import upsert_student
from gradops_registry.settings import RegistrySettings
from gradops_shared.bus import KafkaBus
from gradops_shared.contracts import PhotoApproved
from gradops_shared.db import Database
from gradops_shared.outbox import OutboxRelay
from gradops_shared.principal import SCOPES, Principal
from gradops_shared.runtime import BackgroundWorker, Runtime, build_consumer, ensure_worker_topics
from gradops_suite import stack
from gradops_suite.devdb import recreate
from gradops_suite.embedded import embedded_client

PG_SERVER = "postgresql://gradops:gradops@127.0.0.1:55432"
KAFKA = "127.0.0.1:59092"
# The slice reuses the tests' builders (a passing photo, a transcript, the application flow).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.slice import apply_to_graduate, sign_off  # noqa: E402
from tests.factories import ensure_learning_centre, graduation_photo, student_payload  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "latest.json"
HQ = Principal(subject="bench", scopes=frozenset(SCOPES))
CENTRE = {"name": "昆明开放学院直属学习中心", "parent": "51357", "kind": "learning_centre"}


BENCH_STUDENT = StudentIn(**{**STUDENT_EXAMPLE, "level": "bachelor", "major": "会计学"})


async def bench_relay(url: str, events: int = 5000) -> dict[str, float]:
    db = Database(url, "registry")
    async with db.transaction() as session:
        await session.execute(registry_outbox.update().values(sent_at=func.now()))
    settings = RegistrySettings(database_url=url)
    async with db.transaction() as session:
        await put_org_unit(
            session, settings, HQ, str(STUDENT_EXAMPLE["learning_centre"]), OrgUnitIn(**CENTRE)
        )
    for start in range(0, events, 500):
        async with db.transaction() as session:
            for i in range(start, min(start + 500, events)):
                await upsert_student(
                    session,
                    settings,
                    HQ,
                    f"9{i:09d}",
                    BENCH_STUDENT,
                )
    relay = OutboxRelay(
        db,
        registry_outbox,
        KafkaBus(KAFKA).publisher(),
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
        batch_size=500,
    )
    await relay.publisher.start()
    began = time.perf_counter()
    published = 0
    while published < events:
        published += await relay.publish_pending()
    elapsed = time.perf_counter() - began
    await relay.publisher.stop()
    await db.dispose()
    return {"events": events, "seconds": round(elapsed, 2), "events_per_second": round(events / elapsed)}


async def bench_consumer(url: str, events: int = 2000) -> dict[str, float]:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = AuditSettings(database_url=url, kafka_bootstrap=KAFKA, topic_prefix=prefix)
    runtime = Runtime(db=Database(url, "audit"), bus=KafkaBus(KAFKA))
    await ensure_worker_topics(AUDIT, settings, runtime.bus)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    pending = []
    for i in range(events):
        number = f"8{i:09d}"
        event = PhotoApproved(
            student_no=number, submission_id=uuid.uuid4(), kind="graduation", sha256="e" * 64
        )
        pending.append(
            await producer.send(
                f"{prefix}photo.events.v1", event.envelope().model_dump_json().encode(), key=number.encode()
            )
        )
    await asyncio.gather(*pending)
    await producer.stop()
    consumer = build_consumer(AUDIT, settings, runtime)
    worker = BackgroundWorker("bench-consumer", consumer)
    began = time.perf_counter()
    await worker.start()
    while consumer.stats.applied < events:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - began
    await worker.stop()
    await runtime.db.dispose()
    return {"events": events, "seconds": round(elapsed, 2), "events_per_second": round(events / elapsed)}


async def slice_latencies(client: httpx.AsyncClient, runs: int) -> dict[str, float]:
    """Each run: a student with a learning centre, a batch application with a passing transcript, a
    graduation photo that passes QC; then the timed part, approval → passing audit (event-driven) →
    HQ sign-off → certificate readable."""
    picture = graduation_photo()
    approve_to_audit: list[float] = []
    approve_to_certificate: list[float] = []
    put_ms: list[float] = []
    await ensure_learning_centre(client)
    for _ in range(runs):
        number = f"7{uuid.uuid4().int % 10**9:09d}"
        began = time.perf_counter()
        created = await client.put(f"/api/v1/students/{number}", json=student_payload(level="junior_college"))
        assert created.status_code == 201, created.text
        put_ms.append((time.perf_counter() - began) * 1000)
        batch = await apply_to_graduate(client, number)
        submitted = await client.post(
            f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", picture, "image/jpeg")}
        )
        assert submitted.status_code == 201 and submitted.json()["state"] == "pending_review", submitted.text
        began = time.perf_counter()
        approved = await client.post(f"/api/v1/photo-submissions/{submitted.json()['id']}/approve")
        assert approved.status_code == 200, approved.text
        while (await client.get(f"/api/v1/students/{number}/audit")).json().get("result") != "passed":
            await asyncio.sleep(0.01)
        approve_to_audit.append((time.perf_counter() - began) * 1000)
        await sign_off(client, batch, number)
        while (await client.get(f"/api/v1/students/{number}/certificate")).status_code != 200:
            await asyncio.sleep(0.01)
        approve_to_certificate.append((time.perf_counter() - began) * 1000)
    return {
        "runs": runs,
        "put_student_median_ms": round(statistics.median(put_ms), 1),
        "approve_to_passing_audit_median_ms": round(statistics.median(approve_to_audit), 1),
        "approve_to_certificate_median_ms": round(statistics.median(approve_to_certificate), 1),
        "approve_to_certificate_max_ms": round(max(approve_to_certificate), 1),
    }


async def bench_stack(url: str, runs: int = 20) -> dict[str, float]:
    config = stack.StackConfig(
        base_port=19000,
        state_dir=Path(tempfile.mkdtemp(prefix="gradops-bench-")),
        database_url=url,
        kafka_bootstrap=KAFKA,
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
    )
    began = time.perf_counter()
    await asyncio.to_thread(stack.start, config)
    started = time.perf_counter() - began
    try:
        async with httpx.AsyncClient(
            base_url=config.gateway_url(),
            timeout=30,
            headers={"authorization": f"Bearer {config.bootstrap_api_key}"},
        ) as client:
            figures = await slice_latencies(client, runs)
    finally:
        await asyncio.to_thread(stack.stop, config)
    return {"processes": len(stack.process_specs(config)), "start_seconds": round(started, 1), **figures}


async def bench_embedded(runs: int = 20) -> dict[str, float]:
    async with embedded_client(Path(tempfile.mkdtemp(prefix="gradops-bench-embedded-"))) as client:
        return await slice_latencies(client, runs)


async def main() -> None:
    url = await recreate(PG_SERVER, "gradops_bench")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    for name, run in (
        ("outbox_relay", lambda: bench_relay(url)),
        ("consumer_with_inbox", lambda: bench_consumer(url)),
        ("slice_real_stack", lambda: bench_stack(url)),
        ("slice_embedded", bench_embedded),
    ):
        results[name] = await run()
        print(f"{name:22} {json.dumps(results[name], ensure_ascii=False)}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
