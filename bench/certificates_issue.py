"""Certificate issuance under load: N AuditPassed events on real Kafka, consumed by several consumer
processes of one consumer group (each with its own engine, inbox and Kafka member), on real
PostgreSQL. Prints certificates/s and proves in SQL that the serials have no duplicate and no gap.

    .venv/bin/python bench/certificates_issue.py [--events 10000] [--consumers 3] [--tasks]

`--tasks` runs the consumers as tasks of this process instead of processes. Writes
bench/results/certificates_issue.json. The machine's 2 cores are shared with other work, so the
figure is a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import platform
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gradops_certificates.app import DEFINITION
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.bus import KafkaBus
from gradops_shared.contracts import AuditPassed
from gradops_shared.db import Database
from gradops_shared.runtime import BackgroundWorker, Runtime, build_consumer, ensure_worker_topics
from gradops_suite.devdb import recreate

PG_SERVER = "postgresql://gradops:gradops@127.0.0.1:55432"
KAFKA = "127.0.0.1:59092"
RESULTS = Path(__file__).parent / "results" / "certificates_issue.json"
BATCHES = (("202612", date(2027, 1, 31)), ("202703", date(2027, 1, 31)))  # autumn and spring, one year


def settings_for(url: str, prefix: str) -> CertificatesSettings:
    return CertificatesSettings(
        database_url=url, event_bus="kafka", kafka_bootstrap=KAFKA, topic_prefix=prefix, log_level="WARNING"
    )


async def issued(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(text("SELECT count(*) FROM certificates.certificates")) or 0)


async def run_consumer(url: str, prefix: str, events: int, ready: Any = None) -> None:
    """One member of the consumer group; stops once every certificate is in the database."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    settings = settings_for(url, prefix)
    runtime = Runtime(db=Database(url, DEFINITION.schema), bus=KafkaBus(KAFKA))
    worker = BackgroundWorker("bench-certificates-consumer", build_consumer(DEFINITION, settings, runtime))
    await worker.start()
    if ready is not None:
        ready.set()
    try:
        while await issued(runtime.db) < events:
            await asyncio.sleep(0.2)
    finally:
        await worker.stop()
        await runtime.db.dispose()


def consumer_process(url: str, prefix: str, events: int, ready: Any) -> None:
    asyncio.run(run_consumer(url, prefix, events, ready))


async def produce(prefix: str, events: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    began = time.perf_counter()
    pending = []
    for i in range(events):
        number = f"9{i:09d}"
        batch, graduation = BATCHES[i % len(BATCHES)]
        event = AuditPassed(
            student_no=number,
            audit_id=uuid.uuid4(),
            batch_code=batch,
            application_type="graduate",
            level="bachelor" if i % 2 else "junior_college",
            graduation_date=graduation,
            learning_centre=f"51357{i % 7 + 1:02d}",
        )
        pending.append(
            await producer.send(
                f"{prefix}audit.events.v1", event.envelope().model_dump_json().encode(), key=number.encode()
            )
        )
    await asyncio.gather(*pending)
    await producer.stop()
    return time.perf_counter() - began


GAPLESS_SQL = """
SELECT substr(number, 1, 12) AS series, count(*) AS issued, count(DISTINCT serial) AS distinct_serials,
       min(serial) AS first, max(serial) AS last
FROM certificates.certificates GROUP BY 1 ORDER BY 1
"""


async def verify(db: Database, events: int) -> dict[str, Any]:
    async with db.session() as session:
        series = [dict(row._mapping) for row in await session.execute(text(GAPLESS_SQL))]
        per_student = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT student_no FROM certificates.certificates "
                "GROUP BY student_no, batch_code HAVING count(*) > 1) twice"
            )
        )
        numbers = await session.scalar(text("SELECT count(DISTINCT number) FROM certificates.certificates"))
    total = sum(s["issued"] for s in series)
    gapless = all(s["issued"] == s["distinct_serials"] == s["last"] and s["first"] == 1 for s in series)
    return {
        "certificates": total,
        "distinct_numbers": numbers,
        "students_with_two_certificates": per_student,
        "series": series,
        "no_duplicate": numbers == total == events and per_student == 0,
        "gapless": gapless,
    }


async def main(events: int, consumers: int, as_tasks: bool) -> dict[str, Any]:
    url = await recreate(PG_SERVER, "gradops_bench_certificates")
    prefix = f"benchcert{uuid.uuid4().hex[:6]}."
    bus = KafkaBus(KAFKA)
    await ensure_worker_topics(DEFINITION, settings_for(url, prefix), bus)
    db = Database(url, DEFINITION.schema)
    # Every consumer joins the group first, so the clock measures issuing, not rebalancing.
    if as_tasks:
        readies = [asyncio.Event() for _ in range(consumers)]
        members: list[Any] = [asyncio.create_task(run_consumer(url, prefix, events, r)) for r in readies]
        for ready in readies:
            await ready.wait()
    else:
        context = multiprocessing.get_context("spawn")
        process_readies = [context.Event() for _ in range(consumers)]
        members = [
            context.Process(target=consumer_process, args=(url, prefix, events, r)) for r in process_readies
        ]
        for member in members:
            member.start()
        for ready in process_readies:
            await asyncio.to_thread(ready.wait)
    await asyncio.sleep(8)  # let the group settle: every member assigned its partitions
    began = time.perf_counter()
    produce_seconds = await produce(prefix, events)
    while (done := await issued(db)) < events:
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - began
    if as_tasks:
        await asyncio.gather(*members)
    else:
        for member in members:
            await asyncio.to_thread(member.join, 60)
    checks = await verify(db, events)
    await db.dispose()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores (shared)",
        "events": events,
        "consumers": consumers,
        "consumer_kind": "tasks" if as_tasks else "processes",
        "kafka_partitions": 3,
        "produce_seconds": round(produce_seconds, 2),
        "seconds": round(elapsed, 2),
        "certificates_per_second": round(done / elapsed),
        **checks,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--consumers", type=int, default=3)
    parser.add_argument("--tasks", action="store_true", help="consumers as tasks of one process")
    args = parser.parse_args()
    result = asyncio.run(main(args.events, args.consumers, args.tasks))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        f"certificates: {result['certificates']} issued from {args.events} AuditPassed "
        f"in {result['seconds']} s by {args.consumers} consumer {result['consumer_kind']}: "
        f"{result['certificates_per_second']} certificates/s"
    )
    print(f"no duplicate: {result['no_duplicate']}; gapless per series: {result['gapless']}")
    for series in result["series"]:
        first, last, issued_count = series["first"], series["last"], series["issued"]
        print(f"  {series['series']}: serials {first}..{last}, {issued_count} certificates")
    if not (result["no_duplicate"] and result["gapless"]):
        raise SystemExit("duplicate or gap found")
