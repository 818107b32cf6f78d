"""OpenTelemetry traces: off by default, at no cost; on when an OTLP endpoint is configured.

A request's trace runs gateway → service (HTTP, `traceparent` header) → outbox row (the context is
stored with the event, in the same transaction) → relay (a PRODUCER span per event, whose context
goes into the Kafka headers) → consumer (a CONSUMER span, parent taken from the headers) → whatever
the handler writes to its own outbox, and so on to the next service. Each HTTP span carries the
request id (`gradops.request_id`), as do the consumer spans (from the envelope).

Turn it on with `GRADOPS_OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318` (OTLP over HTTP), or the
standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true`
wins. The standard `OTEL_TRACES_SAMPLER*` and `OTEL_RESOURCE_ATTRIBUTES` variables apply.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gradops_shared.metrics import route_template

ENDPOINT_VARIABLES = (
    "GRADOPS_OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)
REQUEST_ID_ATTRIBUTE = "gradops.request_id"
# The W3C trace-context headers the outbox stores and Kafka carries.
TRACE_HEADERS = ("traceparent", "tracestate")

_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def enabled() -> bool:
    return _tracer is not None


def otlp_endpoint(env: Mapping[str, str] | None = None) -> str | None:
    """The configured OTLP endpoint, or None when traces stay off."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    for name in ENDPOINT_VARIABLES:
        if env.get(name, "").strip():
            return env[name].strip()
    return None


def configure_tracing(
    process: str,
    *,
    exporter: SpanExporter | None = None,
    env: Mapping[str, str] | None = None,
) -> bool:
    """Turns traces on for this process if an endpoint is configured (or an exporter is handed in,
    as tests do). Returns whether they are on. Call it before the apps are built.

    The provider stays private to GradOps (never the global one): FastAPI's own telemetry, which
    starts when a global provider is set, would otherwise trace every request a second time."""
    global _tracer, _provider
    env = os.environ if env is None else env
    processor: SimpleSpanProcessor | BatchSpanProcessor
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    else:
        endpoint = otlp_endpoint(env)
        if endpoint is None:
            return False
        # Imported only when used: a process without traces loads none of the exporter.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        if env.get("GRADOPS_OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
            processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
        else:
            processor = BatchSpanProcessor(OTLPSpanExporter())  # reads the standard OTEL_* variables
    service_name = env.get("OTEL_SERVICE_NAME") or f"gradops-{process}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(processor)
    _provider = provider
    _tracer = provider.get_tracer("gradops")
    _instrument_httpx(provider)
    return True


def _instrument_httpx(provider: TracerProvider) -> None:
    """Every outgoing httpx request (gateway → service, photo → registry) sends `traceparent`."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=provider)


def shutdown_tracing() -> None:
    """Flushes and turns traces off again (process exit, tests)."""
    global _tracer, _provider
    if _provider is not None:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().uninstrument()
        _provider.shutdown()
    _tracer = None
    _provider = None


# ---- HTTP ----


class TracingMiddleware:
    """A SERVER span per request, child of the caller's `traceparent` if any, named by the route
    template, with the request id. Installed by `new_app` only when traces are on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracer = _tracer
        if tracer is None or scope["type"] != "http" or scope["path"] in ("/healthz", "/readyz", "/metrics"):
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        parent = propagate.extract(carrier)
        method = scope["method"]
        with tracer.start_as_current_span(
            method, context=parent, kind=SpanKind.SERVER, record_exception=True
        ) as span:
            request_id = scope.get("state", {}).get("request_id")
            span.set_attributes({"http.request.method": method, "url.path": scope["path"]})
            if request_id:
                span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)

            async def send_recording_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_recording_status)
            finally:
                route = route_template(scope)
                span.set_attribute("http.route", route)
                span.update_name(f"{method} {route}")


@contextlib.contextmanager
def http_client_span(method: str, url: str, headers: Any) -> Iterator[None]:
    """A CLIENT span around a hand-built upstream call (the gateway's lean transport bypasses the
    httpx instrumentation); `headers` (a mutable mapping) get this span's trace context."""
    tracer = _tracer
    if tracer is None:
        yield
        return
    with tracer.start_as_current_span(
        method, kind=SpanKind.CLIENT, attributes={"http.request.method": method, "url.full": url}
    ):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        for name, value in carrier.items():
            headers[name] = value
        yield


# ---- Outbox and Kafka ----


def inject_into(headers: dict[str, str]) -> None:
    """Adds the current span's context to an outbox row's headers (nothing when traces are off)."""
    if _tracer is not None:
        propagate.inject(headers)


def _context_from(headers: Mapping[str, str]) -> Context:
    return propagate.extract({k: v for k, v in headers.items() if k in TRACE_HEADERS})


@contextlib.contextmanager
def publish_span(topic: str, key: str, headers: dict[str, str]) -> Iterator[None]:
    """A PRODUCER span for one event the relay publishes, child of the context stored with the
    event; `headers` (what goes to Kafka) then carry this span's context instead."""
    tracer = _tracer
    if tracer is None:
        yield
        return
    span = tracer.start_span(
        f"{topic} publish",
        context=_context_from(headers),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "publish",
            "messaging.destination.name": topic,
            "messaging.kafka.message.key": key,
            "gradops.event_type": headers.get("event_type", ""),
            "gradops.event_id": headers.get("event_id", ""),
            REQUEST_ID_ATTRIBUTE: headers.get("request_id", ""),
        },
    )
    for name in TRACE_HEADERS:
        headers.pop(name, None)
    propagate.inject(headers, context=trace.set_span_in_context(span))
    try:
        yield
    except BaseException as exc:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR))
        raise
    finally:
        span.end()


@contextlib.contextmanager
def publish_spans(batch: Sequence[tuple[str, str, dict[str, str]]]) -> Iterator[None]:
    """`publish_span` for each (topic, key, headers) of a batch published at once."""
    if _tracer is None:
        yield
        return
    with contextlib.ExitStack() as stack:
        for topic, key, headers in batch:
            stack.enter_context(publish_span(topic, key, headers))
        yield


@contextlib.contextmanager
def consume_span(
    topic: str, partition: int, offset: int, headers: Sequence[tuple[str, bytes]], consumer: str
) -> Iterator[Span | None]:
    """The CONSUMER span around applying one message, child of the producer's span from the Kafka
    headers; what the handler writes to its outbox continues the trace."""
    tracer = _tracer
    if tracer is None:
        yield None
        return
    carrier = {k: v.decode("latin-1") for k, v in headers if k in TRACE_HEADERS}
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
        "messaging.consumer.group.name": consumer,
    }
    for name, value in headers:
        if name in ("event_type", "event_id", "request_id"):
            key = REQUEST_ID_ATTRIBUTE if name == "request_id" else f"gradops.{name}"
            attributes[key] = value.decode("utf-8", errors="replace")
    with tracer.start_as_current_span(
        f"{topic} process", context=propagate.extract(carrier), kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span
