"""A certificate's way to the student (external.md 2.7, 3.3): HQ notifies the centre, the centre
collects within 15 days of the notice (later only with a recorded explanation), hands it to the
student within 15 days with a signed receipt, and the student checks it against CHSI."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from gradops_certificates.errors import (
    DISTRIBUTION_DATE_IN_FUTURE,
    DISTRIBUTION_DATE_ORDER,
    DISTRIBUTION_ILLEGAL_TRANSITION,
    LATE_COLLECTION_NEEDS_EXPLANATION,
    RECEIPT_REQUIRED,
)
from gradops_shared.problems import GradOpsError

DistributionState = Literal["at_hq", "collected_by_centre", "handed_to_student"]
DistributionEventKind = Literal["notified", "collected_by_centre", "handed_to_student", "chsi_checked"]
STATE_LABELS_ZH: dict[str, str] = {
    "at_hq": "在总部待领取",
    "collected_by_centre": "学习中心已领取",
    "handed_to_student": "已发放给学生",
}


@dataclass(frozen=True)
class DistributionStatus:
    state: str
    notified_on: date | None
    collection_due: date | None
    collected_on: date | None
    handover_due: date | None
    handed_on: date | None


@dataclass(frozen=True)
class DistributionChange:
    """What an event does: the new status and whether it came late."""

    status: DistributionStatus
    late: bool


def _illegal(event: str, state: str) -> GradOpsError:
    return DISTRIBUTION_ILLEGAL_TRANSITION(
        f"{event} cannot be recorded while the certificate is {state}.",
        message_zh=f"证书当前状态为“{STATE_LABELS_ZH.get(state, state)}”，不能登记该发放环节",
    )


def _follows(
    current: DistributionStatus, event: str, state: str, before: date | None, on: date, order: tuple[str, str]
) -> None:
    """The step comes in `state`, on or after the step `before` it; `order` says so (en, zh) when not."""
    if current.state != state:
        raise _illegal(event, current.state)
    if before is not None and on < before:
        raise DISTRIBUTION_DATE_ORDER(order[0], message_zh=order[1])


def apply_event(
    current: DistributionStatus,
    event: DistributionEventKind,
    on: date,
    *,
    explanation: str | None,
    has_receipt: bool,
    collection_days: int,
    handover_days: int,
) -> DistributionChange:
    """The next status, or the reason the event is refused. `chsi_checked` leaves the status alone."""
    if event == "notified":
        if current.state != "at_hq" or current.notified_on is not None:
            raise _illegal(event, current.state if current.notified_on is None else "notified")
        status = DistributionStatus("at_hq", on, on + timedelta(days=collection_days), None, None, None)
        return DistributionChange(status, late=False)
    if event == "collected_by_centre":
        order = ("A certificate cannot be collected before the notice.", "领取日期不能早于通知日期")
        _follows(current, event, "at_hq", current.notified_on, on, order)
        late = current.collection_due is not None and on > current.collection_due
        if late and not (explanation and explanation.strip()):
            raise LATE_COLLECTION_NEEDS_EXPLANATION(
                f"Collected on {on}, after the deadline {current.collection_due}: record the centre's "
                "signed explanation in `explanation`.",
                message_zh="超过领取期限，须填写学习中心的书面说明",
            )
        status = replace(
            current,
            state="collected_by_centre",
            collected_on=on,
            handover_due=on + timedelta(days=handover_days),
            handed_on=None,
        )
        return DistributionChange(status, late=late)
    if event == "handed_to_student":
        order = (
            "A certificate cannot be handed over before the centre collected it.",
            "发放日期不能早于学习中心领取日期",
        )
        _follows(current, event, "collected_by_centre", current.collected_on, on, order)
        if not has_receipt:
            raise RECEIPT_REQUIRED(
                "Upload the scan of the receipt the student signed (`receipt`: PDF, JPEG or PNG).",
                message_zh="请上传学生签收单扫描件（PDF、JPEG 或 PNG）",
            )
        late = current.handover_due is not None and on > current.handover_due
        return DistributionChange(replace(current, state="handed_to_student", handed_on=on), late=late)
    # chsi_checked: the student compared the paper with CHSI; only once they hold it.
    order = (
        f"The CHSI check ({on}) cannot come before the handover to the student ({current.handed_on}).",
        "学信网核对日期不能早于发放给学生的日期",
    )
    _follows(current, event, "handed_to_student", current.handed_on, on, order)
    return DistributionChange(current, late=False)


def ensure_not_future(on: date, today: date) -> None:
    """A distribution step is recorded after it happened: a date after today (at the university)
    is a typo, and would start or stop deadlines that have not begun."""
    if on > today:
        raise DISTRIBUTION_DATE_IN_FUTURE(
            f"occurred_on {on} is in the future (today is {today}, China time).",
            message_zh="发放环节的日期不能晚于今天",
        )


def overdue_stage(status: DistributionStatus, today: date) -> tuple[str, date] | None:
    """('collection' | 'handover', due date) when a deadline has passed, else None."""
    if status.state == "at_hq" and status.collection_due is not None and today > status.collection_due:
        return "collection", status.collection_due
    if (
        status.state == "collected_by_centre"
        and status.handover_due is not None
        and today > status.handover_due
    ):
        return "handover", status.handover_due
    return None
