"""The gateway's rules without I/O: token buckets and the partner view of the merged OpenAPI.
(Webhook signatures and backoff: tests/notifications/domain/test_signing.py.)"""

from __future__ import annotations

from typing import Any

from gradops_gateway.openapi import merge_specs
from gradops_gateway.ratelimit import TokenBuckets, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_second=2, burst=3, clock=clock)
    assert [buckets.take("k") for _ in range(3)] == [0, 0, 0]
    wait = buckets.take("k")
    assert 0.49 < wait <= 0.5 and retry_after_header(wait) == "1"
    assert buckets.take("other") == 0  # every key has its own bucket
    clock.now += 0.5
    assert buckets.take("k") == 0 and buckets.take("k") > 0
    clock.now += 60  # refills up to the burst, not beyond
    assert [buckets.take("k") for _ in range(4)][-1] > 0


def test_full_buckets_are_forgotten_when_the_table_is_full() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_second=1, burst=1, clock=clock)
    buckets.MAX_BUCKETS = 3
    for who in ("a", "b", "c"):
        buckets.take(who)
    clock.now += 10
    buckets.take("d")
    assert set(buckets._buckets) == {"d"}


def _spec(**operation: Any) -> dict[str, Any]:
    return {
        "paths": {"/api/v1/things/{id}": {"put": {"operationId": "put_thing", "responses": {}, **operation}}}
    }


def test_the_merged_spec_speaks_bearer_with_the_services_scopes() -> None:
    merged = merge_specs({"svc": _spec(security=[{"GradOpsPrincipal": ["registry:write"]}])})
    operation = merged["paths"]["/api/v1/things/{id}"]["put"]
    assert operation["security"] == [{"ApiKey": ["registry:write"]}]
    assert merged["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert {"401", "403", "429"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "GradOpsPrincipal" not in str(merged)


def test_a_public_operation_stays_public_in_the_merged_spec() -> None:
    merged = merge_specs({"svc": _spec()})
    operation = merged["paths"]["/api/v1/things/{id}"]["put"]
    assert "security" not in operation and "401" not in operation["responses"]
