"""Distribution deadlines, working days for the replacement SLA, the replacement rule and what
public verification may show."""

from __future__ import annotations

from datetime import date

import pytest

from gradops_certificates.domain.distribution import (
    DistributionEventKind,
    DistributionStatus,
    apply_event,
    overdue_stage,
)
from gradops_certificates.domain.replacement import ensure_replaceable, ensure_transition
from gradops_certificates.domain.verification import mask_name, names_match
from gradops_certificates.service.scans import scan_media_type
from gradops_shared.errors import Conflict, GradOpsError, InvalidInput
from gradops_shared.workdays import WorkCalendar

AT_HQ = DistributionStatus("at_hq", None, None, None, None, None)


def step(
    status: DistributionStatus,
    event: DistributionEventKind,
    on: date,
    *,
    explanation: str | None = None,
    has_receipt: bool = False,
) -> DistributionStatus:
    return apply_event(
        status,
        event,
        on,
        explanation=explanation,
        has_receipt=has_receipt,
        collection_days=15,
        handover_days=15,
    ).status


def test_collection_deadline_runs_from_the_notice_and_lateness_needs_an_explanation() -> None:
    notified = step(AT_HQ, "notified", date(2026, 1, 5))
    assert notified.collection_due == date(2026, 1, 20)
    on_time = apply_event(
        notified,
        "collected_by_centre",
        date(2026, 1, 20),
        explanation=None,
        has_receipt=False,
        collection_days=15,
        handover_days=15,
    )
    assert on_time.late is False and on_time.status.handover_due == date(2026, 2, 4)
    with pytest.raises(InvalidInput) as refused:
        step(notified, "collected_by_centre", date(2026, 1, 21))
    assert refused.value.code == "certificates.late_collection_needs_explanation"
    with pytest.raises(InvalidInput):
        step(notified, "collected_by_centre", date(2026, 1, 21), explanation="   ")
    late = apply_event(
        notified,
        "collected_by_centre",
        date(2026, 1, 21),
        explanation="签字说明",
        has_receipt=False,
        collection_days=15,
        handover_days=15,
    )
    assert late.late is True and late.status.state == "collected_by_centre"


def test_handover_needs_the_signed_receipt_and_follows_collection() -> None:
    collected = step(step(AT_HQ, "notified", date(2026, 1, 5)), "collected_by_centre", date(2026, 1, 6))
    with pytest.raises(InvalidInput) as refused:
        step(collected, "handed_to_student", date(2026, 1, 7))
    assert refused.value.code == "certificates.receipt_required"
    with pytest.raises(InvalidInput) as early:
        step(collected, "handed_to_student", date(2026, 1, 5), has_receipt=True)
    assert early.value.code == "certificates.distribution_date_order"
    handed = step(collected, "handed_to_student", date(2026, 1, 8), has_receipt=True)
    assert handed.state == "handed_to_student" and handed.handed_on == date(2026, 1, 8)
    assert step(handed, "chsi_checked", date(2026, 1, 9)) == handed


@pytest.mark.parametrize(
    ("state_events", "event"),
    [
        ((), "handed_to_student"),
        ((), "chsi_checked"),
        (("notified",), "notified"),
        (("notified", "collected_by_centre"), "collected_by_centre"),
    ],
)
def test_distribution_steps_come_in_order(
    state_events: tuple[DistributionEventKind, ...], event: DistributionEventKind
) -> None:
    status = AT_HQ
    for previous in state_events:
        status = step(status, previous, date(2026, 1, 5))
    with pytest.raises(Conflict) as refused:
        step(status, event, date(2026, 1, 6), has_receipt=True)
    assert refused.value.code == "certificates.distribution_illegal_transition"


def test_overdue_stage() -> None:
    notified = step(AT_HQ, "notified", date(2026, 1, 5))
    assert overdue_stage(notified, date(2026, 1, 20)) is None
    assert overdue_stage(notified, date(2026, 1, 21)) == ("collection", date(2026, 1, 20))
    collected = step(notified, "collected_by_centre", date(2026, 1, 6))
    assert overdue_stage(collected, date(2026, 1, 22)) == ("handover", date(2026, 1, 21))
    assert overdue_stage(AT_HQ, date(2030, 1, 1)) is None  # no notice, no deadline


def test_working_days_skip_weekends_and_holidays_and_count_makeup_days() -> None:
    plain = WorkCalendar.of()
    # Friday 2026-01-02 + 15 working days: three weeks later, Friday 2026-01-23.
    assert plain.add_workdays(date(2026, 1, 2), 15) == date(2026, 1, 23)
    national_day = WorkCalendar.of(
        holidays={date(2025, 10, d) for d in range(1, 9)},
        makeup_workdays={date(2025, 9, 28), date(2025, 10, 11)},
    )
    # Verified on Friday 26 September: Sunday 28th is a 调休 working day, 1–8 October are holidays.
    assert national_day.add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert national_day.add_workdays(date(2025, 9, 26), 3) == date(2025, 9, 30)
    assert national_day.add_workdays(date(2025, 9, 26), 4) == date(2025, 10, 9)
    assert national_day.add_workdays(date(2025, 9, 26), 6) == date(2025, 10, 11)
    assert national_day.workdays_between(date(2025, 9, 26), date(2025, 10, 11)) == 6
    assert national_day.workdays_between(date(2025, 10, 11), date(2025, 9, 26)) == -6


def test_a_replacement_is_once_only_and_never_for_a_replacement() -> None:
    ensure_replaceable("diploma", "valid")
    for kind, status, code in (
        ("replacement", "valid", "certificates.replacement_once_only"),
        ("degree", "valid", "certificates.replacement_not_applicable"),
        ("diploma", "revoked", "certificates.revoked"),
    ):
        with pytest.raises(Conflict) as refused:
            ensure_replaceable(kind, status)
        assert refused.value.code == code
    ensure_transition("applied", "centre_verified")
    ensure_transition("centre_verified", "approved")
    for state, wanted in (("applied", "approved"), ("approved", "rejected"), ("rejected", "centre_verified")):
        with pytest.raises(Conflict):
            ensure_transition(state, wanted)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳明", "欧*明"), ("欧阳明月", "欧**月"), ("李", "*")]
)
def test_names_are_masked(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_names_match_ignores_spacing_and_width_but_not_the_name() -> None:
    assert names_match(" 张 三 ", "张三")
    assert names_match("买买提•艾力", "买买提·艾力")
    assert names_match("ＡＢＣ", "abc")
    assert not names_match("张四", "张三")
    assert not names_match("", "张三")


def test_scans_are_told_by_their_magic_bytes() -> None:
    assert scan_media_type(b"%PDF-1.7 ...", "receipt") == "application/pdf"
    assert scan_media_type(b"\xff\xd8\xff\xe0 jpeg", "receipt") == "image/jpeg"
    assert scan_media_type(b"\x89PNG\r\n\x1a\n...", "receipt") == "image/png"
    for bad, status in ((b"", 422), (b"GIF89a", 415), (b"%PDF" + b"0" * (10 * 1024 * 1024), 413)):
        with pytest.raises(GradOpsError) as refused:
            scan_media_type(bad, "receipt")
        assert refused.value.status == status
    # A zip is a format the shared sniffer knows, but not a scan.
    with pytest.raises(GradOpsError) as refused:
        scan_media_type(b"PK\x03\x04 zip", "receipt")
    assert refused.value.code == "certificates.scan_format"
