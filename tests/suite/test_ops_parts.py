"""The pure parts of the operator CLI (reading /metrics, where a dead letter goes back to)."""

from __future__ import annotations

from gradops_suite.ops.dlt import source_topic
from gradops_suite.ops.health import figures_from_metrics


def test_metrics_are_summed_per_service_and_consumer() -> None:
    text = "\n".join(
        [
            'gradops_outbox_backlog_events{service="audit"} 3.0',
            'gradops_outbox_oldest_unsent_age_seconds{service="audit"} 12.5',
            'gradops_consumer_lag_messages{consumer="audit",partition="0",topic="registry.events.v1"} 2.0',
            'gradops_consumer_lag_messages{consumer="audit",partition="1",topic="registry.events.v1"} 5.0',
            'gradops_consumer_dead_lettered_total{consumer="audit",reason="handler_failed",topic="x"} 1.0',
            'gradops_http_requests_total{method="GET",process="p",route="/r",status="200"} 9.0',
        ]
    )
    figures = figures_from_metrics(text + "\n")
    assert figures == {
        "outbox_backlog": {"audit": 3.0},
        "outbox_oldest_unsent_age_seconds": {"audit": 12.5},
        "consumer_lag": {"audit": 7.0},
        "dead_lettered": {"audit": 1.0},
    }


def test_a_dead_letter_goes_back_to_its_source_topic() -> None:
    assert source_topic({"dlt_source": "p.registry.events.v1/2/17"}, "p.registry.events.v1.dlt") == (
        "p.registry.events.v1"
    )
    assert source_topic({}, "audit.events.v1.dlt") == "audit.events.v1"
    assert source_topic({"dlt_source": "nonsense"}, "weird") is None
