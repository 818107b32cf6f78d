"""Photo rules: the submission state machine and which QC outcome decides it. Pure, no I/O.

The QC checks themselves live in the `gradops_photo.qc` package (one function per check).
"""

from __future__ import annotations

from typing import Literal

from gradops_photo.qc.report import QcReport
from gradops_shared.errors import Conflict

State = Literal["submitted", "auto_rejected", "pending_review", "approved", "rejected", "expired"]

# State machine: which decisions are legal from where.
_TRANSITIONS: dict[str, set[str]] = {
    "submitted": {"auto_rejected", "pending_review"},
    "pending_review": {"approved", "rejected"},
}


def transition(current: str, target: str) -> str:
    if target not in _TRANSITIONS.get(current, set()):
        raise Conflict(
            f"A submission in state {current!r} cannot become {target!r}.",
            code="photo.illegal_transition",
            message_zh=f"照片当前状态为 {current}，不能变为 {target}",
        )
    return target


def state_after_qc(report: QcReport) -> str:
    """A failed `error` check rejects at once; anything else (including `review` items) goes to a human."""
    return transition("submitted", "auto_rejected" if report.rejected else "pending_review")
