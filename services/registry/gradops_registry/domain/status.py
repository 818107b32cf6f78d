"""学籍异动: the typed status changes and which ones each status allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gradops_registry.errors import ILLEGAL_STATUS_CHANGE, STATUS_GRADUATED_RESERVED

StudentStatus = Literal["enrolled", "suspended", "withdrawn", "cancelled", "graduated"]
ChangeType = Literal["suspend", "resume", "change_major", "transfer_centre", "withdraw", "cancel"]

STATUS_LABELS_ZH: dict[str, str] = {
    "enrolled": "在籍",
    "suspended": "休学",
    "withdrawn": "退学",
    "cancelled": "取消学籍",
    "graduated": "毕业",
}
CHANGE_LABELS_ZH: dict[str, str] = {
    "registered": "注册学籍",
    "suspend": "休学",
    "resume": "复学",
    "change_major": "转专业",
    "transfer_centre": "转学习中心",
    "withdraw": "退学",
    "cancel": "取消学籍",
    "graduate": "毕业",
}


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    to_status: str | None  # None: the status stays (change of major or centre)


TRANSITIONS: dict[str, Transition] = {
    "suspend": Transition(frozenset({"enrolled"}), "suspended"),
    "resume": Transition(frozenset({"suspended"}), "enrolled"),
    "change_major": Transition(frozenset({"enrolled", "suspended"}), None),
    "transfer_centre": Transition(frozenset({"enrolled", "suspended"}), None),
    "withdraw": Transition(frozenset({"enrolled", "suspended"}), "withdrawn"),
    "cancel": Transition(frozenset({"enrolled", "suspended"}), "cancelled"),
}


def apply_change(current: str, change: str) -> str:
    """The status after `change`, or 409 `registry.illegal_status_change` when it is not allowed
    from `current` (graduated, withdrawn and cancelled are final)."""
    transition = TRANSITIONS[change]
    if current not in transition.allowed_from:
        raise ILLEGAL_STATUS_CHANGE(
            f"A '{change}' change is not allowed for a student who is {current}.",
            message_zh=f"学籍状态为“{STATUS_LABELS_ZH[current]}”的学生不能办理“{CHANGE_LABELS_ZH[change]}”",
            extra={"from_status": current, "change_type": change},
        )
    return transition.to_status or current


def change_for_status(current: str, requested: str) -> str:
    """A status set directly on the record (PUT, import) goes through the same rules: the typed
    change that leads there, or 409 when none does."""
    check_status_via_record_update(current, requested)
    for change, transition in TRANSITIONS.items():
        if transition.to_status == requested and current in transition.allowed_from:
            return change
    raise ILLEGAL_STATUS_CHANGE(
        f"A student who is {current} cannot become {requested}.",
        message_zh=f"学籍状态不能从“{STATUS_LABELS_ZH[current]}”变为“{STATUS_LABELS_ZH[requested]}”",
        extra={"from_status": current, "to_status": requested},
    )


def check_status_via_record_update(current: str | None, requested: str) -> None:
    """`graduated` is set only by the certificates flow (CertificateIssued), never by a client."""
    if requested == "graduated" and current != "graduated":
        raise STATUS_GRADUATED_RESERVED(
            "A student becomes graduated only when a certificate is issued.",
            message_zh="毕业状态只能由证书发放流程设置",
        )
