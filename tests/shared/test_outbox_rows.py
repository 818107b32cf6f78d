"""One outbox row builder: a single event, a batch (`add_events`) and a bulk import (`outbox_rows`)
carry the same headers, the trace context included, so a batched consumer's events keep their trace
(they lost it when each writer built its own rows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from gradops_registry.models import outbox
from gradops_shared import tracing
from gradops_shared.contracts import StudentStatusChanged
from gradops_shared.outbox import add_event, add_events, outbox_rows
from tests.factories import student_no
from tests.support.databases import RolledBack


@pytest.fixture
def traces_on() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("test", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()


def changed() -> StudentStatusChanged:
    return StudentStatusChanged(
        student_no=student_no(),
        from_status="enrolled",
        to_status="suspended",
        reason="test",
        effective_date=date.today(),
    )


async def test_single_batched_and_bulk_events_carry_the_same_trace(
    traces_on: InMemorySpanExporter, rolled_back: RolledBack
) -> None:
    tracer = tracing._tracer  # the suite's private provider (never the global one)
    assert tracer is not None
    async with rolled_back("registry") as session:
        with tracer.start_as_current_span("use case") as span:
            trace_id = f"{span.get_span_context().trace_id:032x}"
            single = await add_event(session, outbox, changed())
            batch = [changed(), changed()]
            await add_events(session, outbox, batch)
            bulk = outbox_rows([changed()])
        keys = [e.student_no for e in batch]
        rows = (
            (
                await session.execute(
                    select(outbox.c.headers)
                    .where(outbox.c.event_id == single)
                    .union_all(select(outbox.c.headers).where(outbox.c.key.in_(keys)))
                )
            )
            .scalars()
            .all()
        )
    headers = [*rows, bulk[0]["headers"]]
    assert len(headers) == 4
    for h in headers:
        assert h["traceparent"].split("-")[1] == trace_id
        assert h["event_type"] == "StudentStatusChanged" and h["event_id"]


async def test_without_traces_the_rows_carry_ids_only(rolled_back: RolledBack) -> None:
    assert not tracing.enabled()
    (row,) = outbox_rows([changed()])
    assert "traceparent" not in row["headers"]
    assert row["key"] and row["topic"].endswith(".v1")
