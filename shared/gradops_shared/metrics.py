"""Prometheus metrics of every process, served at `GET /metrics` (outside `/api/v1`, no auth, not in
the OpenAPI): HTTP by route template, the outbox (backlog, age of the oldest unsent event), consumers
(lag per partition, outcomes, dead letters), and the domain counters the services increment.

One registry per process (prometheus_client's default, with the process and GC collectors). In the
embedded default every service shares the process, so the labels say which one counted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import event as sa_event
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
# Probes and scrapes are not traffic: counting them would drown the routes that matter.
UNMEASURED_PATHS = frozenset({"/healthz", "/readyz", METRICS_PATH})
UNMATCHED_ROUTE = "<unmatched>"
# Buckets from a fast lookup (5 ms) to a photo upload over a slow link (30 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "gradops_http_requests",
    "HTTP requests answered, by process, method, route template and status code.",
    ["process", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "gradops_http_request_duration_seconds",
    "Time to answer an HTTP request, by process, method and route template.",
    ["process", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge(
    "gradops_outbox_backlog_events",
    "Events in the service's outbox not yet published to Kafka (counted up to BACKLOG_COUNT_CAP).",
    ["service"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "gradops_outbox_oldest_unsent_age_seconds",
    "Age of the oldest event in the outbox not yet published (0 when none is waiting).",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "gradops_outbox_published_events", "Events the relay published to Kafka and marked sent.", ["service"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "gradops_outbox_publish_failures", "Relay batches that failed and were rolled back to retry.", ["service"]
)
CONSUMER_LAG = Gauge(
    "gradops_consumer_lag_messages",
    "Messages between the consumer's position and the end of each partition it is assigned.",
    ["consumer", "topic", "partition"],
)
CONSUMER_EVENTS = Counter(
    "gradops_consumer_events",
    "Events a consumer finished with, by outcome: applied, duplicate (skipped by the inbox), "
    "ignored (not a type it handles) or dead_lettered.",
    ["consumer", "event_type", "outcome"],
)
CONSUMER_FAILURES = Counter(
    "gradops_consumer_handler_failures",
    "Attempts to apply an event that raised (each is retried; the last one dead-letters).",
    ["consumer", "event_type"],
)
CONSUMER_DEAD_LETTERS = Counter(
    "gradops_consumer_dead_lettered",
    "Messages sent to <topic>.dlt, by source topic and reason: unparseable, invalid_data, handler_failed.",
    ["consumer", "topic", "reason"],
)
CONSUMER_HANDLE_SECONDS = Histogram(
    "gradops_consumer_handle_duration_seconds",
    "Time to apply one event (inbox record + handler, one transaction).",
    ["consumer", "event_type"],
    buckets=LATENCY_BUCKETS,
)


# ---- Domain counters: the services count their own business facts through these. ----


@dataclass(frozen=True)
class DomainCounter:
    name: str
    documentation: str
    labels: tuple[str, ...]


# What the services record (by name, so a service needs no import of another's code). Adding one
# here is the only step: `count("photo_qc_checks", check="size", outcome="fail")` from anywhere.
DOMAIN_COUNTERS: dict[str, DomainCounter] = {
    c.name: c
    for c in (
        DomainCounter(
            "photo_qc_checks", "Photo QC checks run, by check and outcome (pass/fail).", ("check", "outcome")
        ),
        DomainCounter("photo_qc_failures", "Photos failing QC, by failure reason code.", ("reason",)),
        DomainCounter(
            "audit_outcomes", "Graduation audits completed, by outcome (passed/failed/...).", ("outcome",)
        ),
        DomainCounter("certificates_issued", "Certificates issued, by education level.", ("level",)),
    )
}
_domain_counters: dict[str, Counter] = {}


def domain_counter(name: str) -> Counter:
    """The Prometheus counter behind a name of DOMAIN_COUNTERS (`gradops_<name>_total`)."""
    counter = _domain_counters.get(name)
    if counter is None:
        spec = DOMAIN_COUNTERS.get(name)
        if spec is None:
            raise KeyError(f"unknown domain counter {name!r}; declare it in DOMAIN_COUNTERS")
        counter = Counter(f"gradops_{spec.name}", spec.documentation, list(spec.labels))
        _domain_counters[name] = counter
    return counter


def count(name: str, amount: float = 1, **labels: str) -> None:
    """Adds to a domain counter: `count("audit_outcomes", outcome="passed")`. Call it after the
    transaction commits where a rolled-back attempt must not count."""
    spec = DOMAIN_COUNTERS.get(name)
    if spec is not None and set(labels) != set(spec.labels):
        raise ValueError(f"{name} takes labels {spec.labels}, got {tuple(labels)}")
    domain_counter(name).labels(**labels).inc(amount)


_PENDING_COUNTS = "gradops_pending_domain_counts"


def count_after_commit(session: Any, name: str, amount: float = 1, **labels: str) -> None:
    """Adds to a domain counter when `session`'s transaction commits, never when it rolls back: a
    use case can count where it decides (`count_after_commit(session, "audit_outcomes",
    outcome="passed")`) without knowing who commits. Works with AsyncSession and Session."""
    if amount <= 0:
        return
    sync_session = getattr(session, "sync_session", session)
    pending: list[tuple[str, float, dict[str, str]]] | None = sync_session.info.get(_PENDING_COUNTS)
    if pending is None:
        pending = sync_session.info[_PENDING_COUNTS] = []
        sa_event.listen(sync_session, "after_commit", _count_pending)
        sa_event.listen(sync_session, "after_rollback", _drop_pending)
    pending.append((name, amount, labels))


def _count_pending(sync_session: Any) -> None:
    pending = sync_session.info.get(_PENDING_COUNTS) or []
    sync_session.info[_PENDING_COUNTS] = []
    for name, amount, labels in pending:
        count(name, amount, **labels)


def _drop_pending(sync_session: Any) -> None:
    sync_session.info[_PENDING_COUNTS] = []


# ---- HTTP ----


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class _TemplateMatcher:
    """Maps a concrete path to its OpenAPI template, for catch-all routes such as the gateway's
    proxy (`/api/v1/{path:path}`): it labels by `/api/v1/students/{student_no}`, not by the raw path,
    so a label never carries a student number and the series stay few."""

    def __init__(self, templates: Iterable[str]) -> None:
        compiled = []
        for template in templates:
            parts = re.split(r"(\{[^}/]+\})", template)
            regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
            literal = sum(1 for s in template.split("/") if s and not s.startswith("{"))
            compiled.append((literal, template, re.compile(f"^{regex}$")))
        compiled.sort(key=lambda item: -item[0])  # /students/imports before /students/{student_no}
        self._routes = [(template, pattern) for _, template, pattern in compiled]

    def match(self, path: str) -> str | None:
        for template, pattern in self._routes:
            if pattern.match(path):
                return template
        return None


def _selected_route(scope: Scope) -> Any:
    """The route that answered. FastAPI records its own routes in the scope; for the others
    (openapi.json, /metrics, mounts) and for a 404, the app's routes are asked again."""
    route = scope.get("route")
    if route is not None:
        return route
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", []):
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return candidate
    return None


def route_template(scope: Scope) -> str:
    """The template of the route that answered (never the raw path)."""
    route = _selected_route(scope)
    if route is None:
        return UNMATCHED_ROUTE
    raw: str = getattr(route, "path", "")
    if ":path}" in raw:  # a catch-all (the gateway's proxy): label by the operation it reached
        app = scope.get("app")
        matcher: _TemplateMatcher | None = getattr(getattr(app, "state", None), "_metrics_templates", None)
        if matcher is None and app is not None and hasattr(app, "openapi"):
            matcher = _TemplateMatcher(app.openapi().get("paths", {}))
            app.state._metrics_templates = matcher
        resolved = matcher.match(scope["path"]) if matcher else None
        return resolved or UNMATCHED_ROUTE
    template: str = getattr(route, "path_format", None) or raw or UNMATCHED_ROUTE
    return template


class MetricsMiddleware:
    """Counts and times every request by process, method, route template and status."""

    def __init__(self, app: ASGIApp, process: str) -> None:
        self.app = app
        self.process = process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNMEASURED_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.process, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self.process, method, route).observe(time.perf_counter() - started)


def process_name_from_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "gradops"


# ---- Outbox and consumers (called by outbox.py and consumer.py) ----


def set_outbox_backlog(service: str, unsent: int, oldest_created_at: float | None) -> None:
    """`oldest_created_at` is a UNIX time; the age gauge keeps growing between refreshes."""
    OUTBOX_BACKLOG.labels(service).set(unsent)
    age = OUTBOX_OLDEST_AGE.labels(service)
    if oldest_created_at is None:
        age.set_function(lambda: 0.0)
    else:
        age.set_function(lambda: max(time.time() - oldest_created_at, 0.0))


class LagReporter:
    """Keeps the lag gauge of one consumer to the partitions it holds now (a revoked partition's
    series is removed, not left at its last value)."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self._reported: set[tuple[str, int]] = set()

    def report(self, lag: dict[tuple[str, int], int]) -> None:
        for topic, partition in self._reported - set(lag):
            CONSUMER_LAG.remove(self.consumer, topic, str(partition))
        for (topic, partition), behind in lag.items():
            CONSUMER_LAG.labels(self.consumer, topic, str(partition)).set(behind)
        self._reported = set(lag)


def sample_value(name: str, labels: dict[str, str]) -> float | None:
    """The current value of one series (for tests and the operator CLI)."""
    value: float | None = REGISTRY.get_sample_value(name, labels)
    return value
