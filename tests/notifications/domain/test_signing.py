"""Webhook signatures (what a partner's receiver verifies) and the retry backoff, without I/O."""

from __future__ import annotations

from gradops_notifications.domain.signing import backoff_seconds, signature, verify


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
