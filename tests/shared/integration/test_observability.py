"""Metrics and traces of the outbox and the consumers, on real PostgreSQL and Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date

import httpx
import pytest
from fastapi import Request
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.models import inbox, outbox
from gradops_shared import tracing
from gradops_shared.bus import KafkaBus
from gradops_shared.consumer import DLT_SUFFIX, ConsumerRunner
from gradops_shared.contracts import EventData, EventEnvelope, StudentStatusChanged
from gradops_shared.db import Database
from gradops_shared.http import new_app
from gradops_shared.metrics import sample_value
from gradops_shared.outbox import OutboxRelay, add_event
from gradops_shared.runtime import BackgroundWorker
from tests.factories import student_no
from tests.support.kafka import eventually, produce

TOPIC = "registry.events.v1"


@pytest.fixture
async def registry_db(postgres_url: str) -> AsyncIterator[Database]:
    db = Database(postgres_url, "registry")
    async with db.transaction() as session:
        # Earlier tests' unsent rows would otherwise count in the backlog and go to this test's topic.
        await session.execute(outbox.update().where(outbox.c.sent_at.is_(None)).values(sent_at=func.now()))
    yield db
    await db.dispose()


def status_changed(number: str) -> StudentStatusChanged:
    return StudentStatusChanged(
        student_no=number,
        from_status="enrolled",
        to_status="suspended",
        reason="test",
        effective_date=date.today(),
    )


def relay_for(db: Database, bootstrap: str, prefix: str) -> OutboxRelay:
    return OutboxRelay(db, outbox, KafkaBus(bootstrap).publisher(), topic_prefix=prefix, poll_seconds=0.2)


async def test_the_relay_reports_its_backlog_and_the_age_of_the_oldest_unsent_event(
    registry_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    labels = {"service": "registry"}
    published_before = sample_value("gradops_outbox_published_events_total", labels) or 0
    async with registry_db.transaction() as session:
        for _ in range(3):
            await add_event(session, outbox, status_changed(student_no()))
    relay = relay_for(registry_db, kafka_bootstrap, topic_prefix)

    assert (await relay.refresh_backlog())[0] == 3
    assert sample_value("gradops_outbox_backlog_events", labels) == 3
    age = sample_value("gradops_outbox_oldest_unsent_age_seconds", labels)
    assert age is not None and 0 <= age < 60

    await relay.publisher.start()
    try:
        assert await relay.publish_pending() == 3
    finally:
        await relay.publisher.stop()
    await relay.refresh_backlog()
    assert sample_value("gradops_outbox_backlog_events", labels) == 0
    assert sample_value("gradops_outbox_oldest_unsent_age_seconds", labels) == 0
    assert sample_value("gradops_outbox_published_events_total", labels) == published_before + 3


async def test_consumer_lag_per_partition_outcomes_and_dead_letters(
    registry_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = topic_prefix + TOPIC
    bus = KafkaBus(kafka_bootstrap)
    await bus.ensure_topics([topic, topic + DLT_SUFFIX])
    number = student_no()
    good = [status_changed(number).envelope().model_dump_json().encode() for _ in range(3)]
    await produce(kafka_bootstrap, topic, [(number, body) for body in good] + [(number, b"not an event")])

    applied: list[str] = []

    async def remember(_session: AsyncSession, envelope: EventEnvelope, _data: EventData) -> None:
        applied.append(str(envelope.event_id))

    name = f"lag-probe-{uuid.uuid4().hex[:8]}"
    consumer = ConsumerRunner(
        name=name,
        db=registry_db,
        inbox=inbox,
        subscription=bus.subscription([topic], group_id=topic_prefix + name),
        dead_letters=bus.publisher(),
        handlers={"StudentStatusChanged": remember},
    )
    await consumer.subscription.start()
    await consumer.dead_letters.start()
    try:
        # Fetched but not applied: after going back to the committed offsets, the whole
        # partition is behind (all four messages share the student's key, so one partition).
        fetched = []
        for _ in range(40):
            fetched += await consumer.subscription.fetch(timeout_s=0.5)
            if len(fetched) >= 4:
                break
        assert len(fetched) == 4
        partition = str(fetched[0].partition)
        await consumer.subscription.rewind()
        await consumer.refresh_lag(force=True)
        lag_labels = {"consumer": name, "topic": topic, "partition": partition}
        assert sample_value("gradops_consumer_lag_messages", lag_labels) == 4

        await consumer.process(await consumer.subscription.fetch(timeout_s=5))
        await consumer.refresh_lag(force=True)
        assert sample_value("gradops_consumer_lag_messages", lag_labels) == 0
    finally:
        await consumer.subscription.stop()
        await consumer.dead_letters.stop()

    assert len(applied) == 3
    outcome = {"consumer": name, "event_type": "StudentStatusChanged", "outcome": "applied"}
    assert sample_value("gradops_consumer_events_total", outcome) == 3
    dead = {"consumer": name, "topic": topic, "reason": "unparseable"}
    assert sample_value("gradops_consumer_dead_lettered_total", dead) == 1


# ---- traces ----


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Traces on for this test only, into memory (the SDK's exporter for tests)."""
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("test", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()


def one(spans: tuple[ReadableSpan, ...], kind: SpanKind, name_prefix: str) -> ReadableSpan:
    found = [s for s in spans if s.kind == kind and s.name.startswith(name_prefix)]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


async def test_a_trace_runs_from_the_http_request_through_kafka_into_the_consumer(
    spans: InMemorySpanExporter, registry_db: Database, kafka_bootstrap: str, topic_prefix: str
) -> None:
    # An API process: one route that changes state and writes its event to the outbox.
    app = new_app(title="trace probe", description="", docs=False, process="trace-probe")

    @app.post("/api/v1/students/{number}/suspend", status_code=202)
    async def suspend(number: str, request: Request) -> dict[str, str]:
        async with registry_db.transaction() as session:
            event_id = await add_event(session, outbox, status_changed(number))
        return {"event_id": event_id}

    number = student_no()
    request_id = f"trace-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        response = await client.post(
            f"/api/v1/students/{number}/suspend", headers={"x-request-id": request_id}
        )
    assert response.status_code == 202

    # The relay process publishes it to Kafka.
    topic = topic_prefix + TOPIC
    bus = KafkaBus(kafka_bootstrap)
    await bus.ensure_topics([topic, topic + DLT_SUFFIX])
    relay = relay_for(registry_db, kafka_bootstrap, topic_prefix)
    await relay.publisher.start()
    try:
        assert await relay.publish_pending() == 1
    finally:
        await relay.publisher.stop()

    # A consumer process applies it, and its handler writes a follow-up event.
    follow_up: list[str] = []

    async def handler(session: AsyncSession, envelope: EventEnvelope, _data: EventData) -> None:
        follow_up.append(await add_event(session, outbox, status_changed(envelope.student_no)))

    name = f"trace-probe-{uuid.uuid4().hex[:8]}"
    consumer = ConsumerRunner(
        name=name,
        db=registry_db,
        inbox=inbox,
        subscription=bus.subscription([topic], group_id=topic_prefix + name),
        dead_letters=bus.publisher(),
        handlers={"StudentStatusChanged": handler},
    )
    worker = BackgroundWorker(name, consumer)
    await worker.start()
    try:

        async def applied() -> bool:
            return consumer.stats.applied == 1

        assert await eventually(applied)
    finally:
        await worker.stop()

    finished = spans.get_finished_spans()
    server = one(finished, SpanKind.SERVER, "POST")
    producer = one(finished, SpanKind.PRODUCER, f"{topic} publish")
    consumed = one(finished, SpanKind.CONSUMER, f"{topic} process")

    assert server.name == "POST /api/v1/students/{number}/suspend"
    assert server.attributes is not None and server.attributes["gradops.request_id"] == request_id
    assert server.parent is None  # the caller sent no traceparent: the trace starts here
    assert producer.parent is not None and producer.parent.span_id == server.context.span_id
    assert consumed.parent is not None and consumed.parent.span_id == producer.context.span_id
    assert {server.context.trace_id, producer.context.trace_id, consumed.context.trace_id} == {
        server.context.trace_id
    }
    assert consumed.attributes is not None and consumed.attributes["gradops.request_id"] == request_id

    # The handler's own event carries the consumer span's context on to the next hop.
    async with registry_db.session() as session:
        headers = (
            await session.execute(select(outbox.c.headers).where(outbox.c.event_id == follow_up[0]))
        ).scalar_one()
    trace_id, parent_span = headers["traceparent"].split("-")[1:3]
    assert int(trace_id, 16) == server.context.trace_id
    assert int(parent_span, 16) == consumed.context.span_id


async def test_without_tracing_nothing_is_added_to_the_events(registry_db: Database) -> None:
    assert not tracing.enabled()
    async with registry_db.transaction() as session:
        event_id = await add_event(session, outbox, status_changed(student_no()))
    async with registry_db.session() as session:
        headers = (
            await session.execute(select(outbox.c.headers).where(outbox.c.event_id == event_id))
        ).scalar_one()
    assert "traceparent" not in headers
    layers = [getattr(m.cls, "__name__", "") for m in new_app(title="t", description="").user_middleware]
    assert "MetricsMiddleware" in layers and "TracingMiddleware" not in layers


@pytest.fixture
def probe_service() -> Iterator[str]:
    """A service process on a real port (its own thread and event loop), as the gateway sees it."""
    import socket
    import threading

    import uvicorn

    app = new_app(title="probe service", description="", docs=False, process="probe-api")

    @app.get("/api/v1/probes/{probe_id}", operation_id="read_probe")
    async def read_probe(probe_id: str) -> dict[str, str]:
        return {"probe_id": probe_id}

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


async def test_the_gateway_passes_the_trace_to_the_service_it_calls(
    spans: InMemorySpanExporter, probe_service: str
) -> None:
    from gradops_gateway.app import create_app as create_gateway
    from gradops_gateway.settings import GatewaySettings

    async with httpx.AsyncClient() as fetch:
        spec = (await fetch.get(f"{probe_service}/openapi.json")).json()
    gateway = create_gateway(GatewaySettings(services={"registry": probe_service}), specs={"registry": spec})
    request_id = f"gw-{uuid.uuid4().hex[:8]}"
    async with (
        gateway.router.lifespan_context(gateway),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway") as client,
    ):
        response = await client.get("/api/v1/probes/p-1", headers={"x-request-id": request_id})
    assert response.status_code == 200, response.text

    finished = spans.get_finished_spans()
    servers = [s for s in finished if s.kind == SpanKind.SERVER and s.name == "GET /api/v1/probes/{probe_id}"]
    at_gateway = next(s for s in servers if s.parent is None)
    at_service = next(s for s in servers if s.parent is not None)
    # The gateway's call to the service (the other client span is the test fetching the spec).
    outgoing = next(
        s
        for s in finished
        if s.kind == SpanKind.CLIENT and s.parent and s.parent.span_id == at_gateway.context.span_id
    )
    assert at_service.parent is not None and at_service.parent.span_id == outgoing.context.span_id
    assert at_service.context.trace_id == at_gateway.context.trace_id
    for span in (at_gateway, at_service):
        assert span.attributes is not None and span.attributes["gradops.request_id"] == request_id
