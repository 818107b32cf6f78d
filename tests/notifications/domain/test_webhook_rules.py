"""The webhook rules without I/O: who hears of an event, and what follows an attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gradops_notifications.domain.webhooks import attempt_outcome, clean_id, wants

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
WINDOW_END = NOW + timedelta(hours=1)


def test_who_hears_of_an_event() -> None:
    hq_all = {"event_types": ["*"], "centres": None}
    centre = {"event_types": ["StudentRegistered"], "centres": ["5135701"]}
    assert wants(hq_all, "PhotoApproved", None)
    assert wants(centre, "StudentRegistered", "5135701")
    assert not wants(centre, "StudentRegistered", "5135799")
    assert not wants(centre, "StudentRegistered", None)  # an unknown centre is nobody's
    assert not wants(centre, "PhotoApproved", "5135701")


def test_what_follows_an_attempt() -> None:
    delivered = attempt_outcome(204, timedelta(seconds=10), NOW, WINDOW_END)
    assert (delivered.status, delivered.scheduled_retry) == ("delivered", None)
    retried = attempt_outcome(500, timedelta(seconds=10), NOW, WINDOW_END)
    assert retried.status == "pending" and retried.scheduled_retry == retried.due_at == NOW + timedelta(
        seconds=10
    )
    too_late = attempt_outcome(None, timedelta(hours=2), NOW, WINDOW_END)
    assert (too_late.status, too_late.scheduled_retry, too_late.due_at) == ("failed", None, NOW)
    refused = attempt_outcome(None, None, NOW, WINDOW_END)
    assert refused.status == "failed"


def test_only_ids_we_hand_out_reach_the_database() -> None:
    assert clean_id("wh_0123456789abcdef0123")
    assert not clean_id("wh_\x00") and not clean_id("x" * 65) and not clean_id("wh_ä")


def test_a_typo_beside_the_wildcard_is_still_refused() -> None:
    from gradops_notifications.domain.webhooks import validate_event_types
    from gradops_shared.problems import GradOpsError

    assert validate_event_types(["*", "PhotoApproved"]) == ["*"]
    assert validate_event_types(["PhotoApproved", "PhotoApproved"]) == ["PhotoApproved"]
    try:
        validate_event_types(["*", "PhotoAproved"])
    except GradOpsError as refused:
        assert refused.code == "webhook.event_type_unknown" and "PhotoAproved" in refused.detail
    else:
        raise AssertionError("a misspelt event type beside * was accepted")
