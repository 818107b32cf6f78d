"""Graduation audit benchmark on real PostgreSQL (started by `make infra-up`).

Prints the figures and writes bench/results/audit_batch.json:
- a whole batch of N students (default 100,000) with transcripts: applications by selection
  (every student of the cohort), each audited, in one request's work; then a re-audit of the whole
  batch (an audit run, e.g. after a rule change). Set-based: bulk reads in chunks, the pure rules per
  student, bulk inserts of runs, applications and outbox events;
- one student's re-audit after an event (the consumer's handler: apply the fact, re-audit, store the
  run, emit when the outcome flips), median and 95th percentile.

Usage: .venv/bin/python bench/audit_batch.py [--students 100000] [--reaudits 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select

from gradops_audit import events, schemas
from gradops_audit.models import Application, Audit, outbox
from gradops_audit.service import applications, auditing, batches
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import PhotoApproved
from gradops_shared.db import Database
from gradops_shared.principal import Principal
from gradops_suite.devdb import recreate

PG_SERVER = os.environ.get("GRADOPS_TEST_PG", "postgresql://gradops:gradops@127.0.0.1:55432")
RESULTS = Path(__file__).parent / "results" / "audit_batch.json"
BATCH = "209912"
HQ = Principal(subject="bench", scopes=frozenset({"audit:read", "audit:write"}))


def courses(rng: random.Random, *, short: bool) -> list[dict[str, Any]]:
    """15 courses, 88 credits when complete; a short transcript fails one required course."""
    rows: list[dict[str, Any]] = [
        {
            "code": f"R{i:03d}",
            "name": f"必修课{i}",
            "credits": 8,
            "category": "required",
            "score": rng.randint(62, 98),
        }
        for i in range(6)
    ]
    rows += [
        {
            "code": f"E{i:03d}",
            "name": f"选修课{i}",
            "credits": 4,
            "category": "elective",
            "score": rng.randint(60, 95),
        }
        for i in range(8)
    ]
    rows.append(
        {
            "code": "P001",
            "name": "专业综合实践",
            "credits": 8,
            "category": "practice",
            "passed": True,
            "published": True,
        }
    )
    if short:
        rows[0]["score"] = 41
    return rows


async def load(url: str, students: int) -> float:
    """Bulk-loads what the audit keeps from events and the LMS (not timed as audit work)."""
    began = time.perf_counter()
    rng = random.Random(7)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        numbers = [f"9{i:09d}" for i in range(students)]
        await conn.copy_records_to_table(
            "students",
            schema_name="audit",
            columns=[
                "student_no",
                "status",
                "level",
                "learning_centre",
                "category",
                "major",
                "enrolment_term",
                "formal_status",
                "identity_in_doubt",
                "updated_at",
            ],
            records=[
                (
                    n,
                    "enrolled",
                    "junior_college",
                    f"51357{i % 50:02d}",
                    "open_education",
                    "机电一体化技术",
                    "2021-spring",
                    True,
                    i % 97 == 0,
                    now,
                )
                for i, n in enumerate(numbers)
            ],
        )
        await conn.copy_records_to_table(
            "photos",
            schema_name="audit",
            columns=["student_no", "kind", "submission_id", "approved", "sha256", "chsi_state", "updated_at"],
            records=[
                (n, "graduation", str(uuid.uuid4()), True, "a" * 64, None, now)
                for i, n in enumerate(numbers)
                if i % 10
            ],
        )
        await conn.copy_records_to_table(
            "transcripts",
            schema_name="audit",
            columns=[
                "student_no",
                "courses",
                "thesis_score",
                "thesis_similarity",
                "english_exam",
                "english_score",
                "english_passed",
                "source",
                "updated_by",
                "updated_at",
            ],
            records=[
                (
                    n,
                    json.dumps(courses(rng, short=i % 20 == 3), ensure_ascii=False),
                    None,
                    None,
                    None,
                    None,
                    None,
                    "lms",
                    "bench",
                    now,
                )
                for i, n in enumerate(numbers)
            ],
        )
        await conn.execute("ANALYZE audit.students; ANALYZE audit.photos; ANALYZE audit.transcripts")
    finally:
        await conn.close()
    return time.perf_counter() - began


async def batch_figures(db: Database, settings: AuditSettings, students: int) -> dict[str, Any]:
    async with db.transaction() as session:
        batch = schemas.BatchIn.model_validate(
            {
                "cohort_cutoff_term": "2021-autumn",
                "rounds": [{"number": 1, "opens_on": "2000-01-01", "closes_on": "2100-01-01"}],
                "issue_date": "2100-01-31",
                "graduation_date_rule": "quarterly",
            }
        )
        await batches.put_batch(session, BATCH, batch, "bench")

    began, cpu = time.perf_counter(), time.process_time()
    async with db.transaction() as session:
        submitted = await applications.submit_applications(
            session,
            BATCH,
            schemas.ApplicationsIn(type="graduate", selection=schemas.SelectionIn()),
            HQ,
            settings,
            today=datetime.now(UTC).date(),
        )
    applied, applied_cpu = time.perf_counter() - began, time.process_time() - cpu
    assert len(submitted.applications) == students, len(submitted.applications)

    began, cpu = time.perf_counter(), time.process_time()
    async with db.transaction() as session:
        stats = await auditing.run_batch(session, BATCH, "bench", settings)
    rerun, rerun_cpu = time.perf_counter() - began, time.process_time() - cpu

    async with db.session() as session:
        passed = await session.scalar(select(func.count()).where(Application.passed.is_(True)))
        runs = await session.scalar(select(func.count()).select_from(Audit))
        failed_events = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.event_type == "AuditFailed")
        )
    return {
        "students": students,
        "apply_and_audit_seconds": round(applied, 1),
        "apply_and_audit_per_second": round(students / applied),
        "apply_and_audit_python_cpu_seconds": round(applied_cpu, 1),
        "reaudit_batch_seconds": round(rerun, 1),
        "reaudit_batch_per_second": round(students / rerun),
        "reaudit_batch_python_cpu_seconds": round(rerun_cpu, 1),
        "passed": passed,
        "failed": students - int(passed or 0),
        "audit_runs_stored": runs,
        "audit_failed_events": failed_events,
        "rerun_events": stats.events,
    }


async def reaudit_latency(
    db: Database, settings: AuditSettings, students: int, samples: int
) -> dict[str, Any]:
    """The consumer handler's work for one event, in its own transaction, as the consumer runs it."""
    rng = random.Random(11)
    timings: list[float] = []
    for _ in range(samples):
        number = f"9{rng.randrange(students):09d}"
        event = PhotoApproved(
            student_no=number, submission_id=uuid.uuid4(), kind="graduation", sha256="b" * 64
        )
        began = time.perf_counter()
        async with db.transaction() as session:
            await events.apply_event(session, event)
            await auditing.reaudit_student(session, number, event.event_type, settings)
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return {
        "samples": samples,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "max_ms": round(timings[-1], 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--reaudits", type=int, default=200)
    args = parser.parse_args()

    url = await recreate(PG_SERVER, "gradops_bench_audit")
    settings = AuditSettings(database_url=url)
    db = Database(url, "audit")
    try:
        loaded = await load(url, args.students)
        print(
            f"loaded {args.students:,} students, photos and transcripts in {loaded:.1f} s (setup, not timed)",
            flush=True,
        )
        batch = await batch_figures(db, settings, args.students)
        print(f"batch  {json.dumps(batch)}", flush=True)
        single = await reaudit_latency(db, settings, args.students, args.reaudits)
        print(f"single {json.dumps(single)}", flush=True)
    finally:
        await db.dispose()
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "note": "2 cores shared with other work: pessimistic figures",
        "load_seconds": round(loaded, 1),
        "batch": batch,
        "single_reaudit": single,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
