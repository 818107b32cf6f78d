"""GET /metrics on every process: HTTP counted by route template (never the raw path), the gateway's
proxied calls labelled by the operation they reached, domain counters, and when traces turn on."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import HTTPException

from gradops_gateway.app import create_app as create_gateway
from gradops_shared import metrics
from gradops_shared.http import new_app
from gradops_shared.metrics import MetricsMiddleware, sample_value
from gradops_shared.tracing import otlp_endpoint


def probe_client() -> tuple[httpx.AsyncClient, str]:
    process = f"probe-{uuid.uuid4().hex[:6]}"
    app = new_app(title="probe", description="", process=process)

    @app.get("/api/v1/students/{student_no}")
    async def read_student(student_no: str) -> dict[str, str]:
        if student_no == "missing":
            raise HTTPException(status_code=404)
        return {"student_no": student_no}

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://probe"), process


def requests_counted(process: str, route: str, status: str, method: str = "GET") -> float:
    labels = {"process": process, "method": method, "route": route, "status": status}
    return sample_value("gradops_http_requests_total", labels) or 0


async def test_requests_are_counted_and_timed_by_route_template_and_status() -> None:
    client, process = probe_client()
    for number in ("2021510001", "2021510002", "missing"):
        await client.get(f"/api/v1/students/{number}")
    assert (await client.get("/api/v1/boom")).status_code == 500
    await client.get("/no/such/path")

    assert requests_counted(process, "/api/v1/students/{student_no}", "200") == 2
    assert requests_counted(process, "/api/v1/students/{student_no}", "404") == 1
    assert requests_counted(process, "/api/v1/boom", "500") == 1
    assert requests_counted(process, "<unmatched>", "404") == 1
    latency = {"process": process, "method": "GET", "route": "/api/v1/students/{student_no}"}
    assert sample_value("gradops_http_request_duration_seconds_count", latency) == 3

    exposition = await client.get("/metrics")
    assert exposition.status_code == 200
    assert exposition.headers["content-type"].startswith("text/plain")
    assert "2021510001" not in exposition.text  # a label never carries a student number
    assert f'process="{process}",route="/api/v1/students/{{student_no}}",status="200"' in exposition.text


async def test_probes_and_scrapes_are_not_traffic_and_metrics_stay_out_of_the_openapi() -> None:
    client, process = probe_client()
    for path in ("/healthz", "/metrics", "/metrics"):
        await client.get(path)
    assert requests_counted(process, "/metrics", "200") == 0
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


async def test_the_gateway_labels_proxied_calls_by_the_operation_they_reach() -> None:
    """Refused at the gateway (no API key), still labelled by the operation's template."""
    gateway = create_gateway()
    transport = httpx.ASGITransport(app=gateway)
    async with (
        gateway.router.lifespan_context(gateway),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
    ):
        process = str(
            next(m.kwargs["process"] for m in gateway.user_middleware if m.cls == MetricsMiddleware)  # type: ignore[comparison-overlap]
        )
        before = requests_counted(process, "/api/v1/students/{student_no}", "401", "PUT")
        unmatched_before = requests_counted(process, "<unmatched>", "404")
        assert (await client.put("/api/v1/students/2021510001", json={})).status_code == 401
        assert (await client.get("/api/v1/no-such-thing")).status_code == 404
        assert requests_counted(process, "/api/v1/students/{student_no}", "401", "PUT") == before + 1
        assert requests_counted(process, "<unmatched>", "404") == unmatched_before + 1
        assert "2021510001" not in (await client.get("/metrics")).text


def test_domain_counters_are_declared_once_and_refuse_wrong_labels() -> None:
    outcome = f"passed-{uuid.uuid4().hex[:6]}"
    metrics.count("audit_outcomes", outcome=outcome)
    metrics.count("audit_outcomes", 2, outcome=outcome)
    assert sample_value("gradops_audit_outcomes_total", {"outcome": outcome}) == 3
    with pytest.raises(ValueError, match="takes labels"):
        metrics.count("audit_outcomes", result="passed")
    with pytest.raises(KeyError):
        metrics.count("no_such_counter", outcome="x")
    for name in ("photo_qc_checks", "photo_qc_failures", "audit_outcomes", "certificates_issued"):
        assert metrics.domain_counter(name) is metrics.domain_counter(name)


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({}, None),
        ({"GRADOPS_OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, "http://c:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, None),
        ({"GRADOPS_OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, None),
    ],
)
def test_traces_are_on_only_when_an_endpoint_is_configured(env: dict[str, str], endpoint: str | None) -> None:
    assert otlp_endpoint(env) == endpoint


def test_every_process_of_every_service_serves_metrics_outside_its_openapi() -> None:
    from gradops_shared.runtime import create_service_app, create_worker_app
    from gradops_suite.catalogue import DEFINITIONS, consumers

    for name, definition in DEFINITIONS.items():
        settings = definition.settings_cls()
        apps = [create_service_app(definition, settings), create_worker_app(definition, settings, "relay")]
        if name in consumers():
            apps.append(create_worker_app(definition, settings, "consumer"))
        for app in apps:
            assert "/metrics" in [getattr(route, "path", "") for route in app.routes], app.title
            assert "/metrics" not in app.openapi()["paths"]


def test_photo_qc_checks_and_failure_reasons_are_counted() -> None:
    from gradops_photo.qc.pool import count_checks
    from gradops_photo.qc.report import QcReport
    from gradops_shared.metrics import domain_counter

    def value(name: str, **labels: str) -> float:
        return domain_counter(name).labels(**labels)._value.get()  # type: ignore[no-any-return]

    before_fail = value("photo_qc_checks", check="photo.dimensions", outcome="fail")
    before_reason = value("photo_qc_failures", reason="photo.dimensions")
    from gradops_photo.qc import PROFILES, run_checks
    from tests.factories import jpeg

    report: QcReport = run_checks(jpeg(width=300, height=400), PROFILES["ouc-platform"])
    count_checks(report)
    assert value("photo_qc_checks", check="photo.dimensions", outcome="fail") == before_fail + 1
    assert value("photo_qc_failures", reason="photo.dimensions") == before_reason + 1
