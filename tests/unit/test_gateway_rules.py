"""The gateway's rules without I/O: token buckets, webhook signatures and backoff, the partner
view of the merged OpenAPI."""

from __future__ import annotations

from typing import Any

from gradops_gateway.openapi import merge_specs
from gradops_gateway.ratelimit import TokenBuckets, retry_after_header
from gradops_notifications.domain.signing import backoff_seconds, signature, verify


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


def test_a_signature_covers_timestamp_and_body_and_ages() -> None:
    header = signature("whsec_s", 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert verify("whsec_s", header, b'{"a":1}', now=1_700_000_010)
    assert not verify("whsec_s", header, b'{"a":2}', now=1_700_000_010)
    assert not verify("whsec_x", header, b'{"a":1}', now=1_700_000_010)
    assert not verify("whsec_s", header, b'{"a":1}', now=1_700_000_400)  # too old: a replay
    forged_time = header.replace("t=1700000000", "t=1700000300")
    assert not verify("whsec_s", forged_time, b'{"a":1}', now=1_700_000_300)
    assert not verify("whsec_s", "garbage", b"")


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 10, 3600) for n in range(1, 6)] == [10, 20, 40, 80, 160]
    assert backoff_seconds(20, 10, 3600) == 3600


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
