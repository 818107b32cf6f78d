"""The pure parts of the timeline (summaries, what is shown) and of the operator CLI (reading
/metrics, where a dead letter goes back to)."""

from __future__ import annotations

from datetime import date

from gradops_gateway.timeline.summaries import SUMMARIES, summarise, visible_data
from gradops_shared.contracts import EVENT_TYPES, StudentRegistered
from gradops_suite.ops.dlt import source_topic
from gradops_suite.ops.health import figures_from_metrics


def test_every_event_type_has_its_own_bilingual_summary() -> None:
    assert set(SUMMARIES) == set(EVENT_TYPES)  # a new event type needs its line on the timeline
    zh, en = summarise(
        "StudentStatusChanged", {"from_status": "enrolled", "to_status": "suspended", "reason": "病休"}
    )
    assert zh == "学籍异动：在籍 → 休学（病休）" and en == "Status changed: enrolled → suspended (病休)"
    assert summarise("SomethingNew", {}) == ("事件 SomethingNew", "Event SomethingNew")


def test_nothing_sensitive_is_shown_even_nested() -> None:
    snapshot = StudentRegistered(
        student_no="2021000001",
        name="张三",
        gender="female",
        learning_centre="5135701",
        level="junior_college",
        category="open_education",
        major="会计",
        enrolment_term="2021-spring",
        study_form="part_time",
        status="enrolled",
        birth_date=date(1990, 5, 17),
        exam_no="21530101150001",
    ).model_dump(mode="json")
    shown = visible_data({**snapshot, "extra": {"id_number": "11010519491231002X", "ok": 1}})
    assert shown["name"] == "张三" and shown["extra"] == {"ok": 1}
    assert not {"student_no", "birth_date", "exam_no"} & set(shown)


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
