"""The pure parts of the timeline: one bilingual line per event, and nothing sensitive shown."""

from __future__ import annotations

from datetime import date

from gradops_notifications.domain.summaries import SUMMARIES, summarise, visible_data
from gradops_shared.contracts import EVENT_TYPES, StudentRegistered


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
