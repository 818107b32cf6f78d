"""Replacement (毕业证明书) rules: once only (counting issued replacements and standing applications,
not rejected ones), never for a replacement, and the HQ decision's SLA."""

from __future__ import annotations

from typing import Literal

from gradops_certificates.errors import (
    REPLACEMENT_ILLEGAL_TRANSITION,
    REPLACEMENT_NOT_APPLICABLE,
    REPLACEMENT_ONCE_ONLY,
    REVOKED,
)
from gradops_shared.problems import GradOpsError

ReplacementState = Literal["applied", "centre_verified", "approved", "rejected"]
ReplacementReason = Literal["lost", "damaged"]
REASON_ZH = {"lost": "遗失", "damaged": "损坏"}


def ensure_replaceable(kind: str, status: str) -> None:
    if kind == "replacement":
        raise REPLACEMENT_ONCE_ONLY(
            "A 毕业证明书 cannot itself be replaced: CHSI records a replacement only once.",
            message_zh="毕业证明书只能补办一次，遗失或损坏后不能再次补办",
        )
    if kind != "diploma":
        raise REPLACEMENT_NOT_APPLICABLE(
            "Only a 毕业证书 is replaced by a 毕业证明书.",
            message_zh="只有毕业证书可以申请补办毕业证明书",
        )
    if status == "revoked":
        raise REVOKED(
            "The certificate is revoked; there is nothing to replace.",
            message_zh="该证书已撤销，不能补办",
        )


def already_applied() -> GradOpsError:
    return REPLACEMENT_ONCE_ONLY(
        "A replacement application for this certificate is already in progress or approved; it can "
        "be replaced only once (a rejected application does not count).",
        message_zh="该证书已有补办毕业证明书的申请在办理中或已批准，只能补办一次",
    )


def already_replaced() -> GradOpsError:
    return REPLACEMENT_ONCE_ONLY(
        "This certificate was already replaced by a 毕业证明书; it can be replaced only once.",
        message_zh="该证书已补办过毕业证明书，只能补办一次",
    )


def ensure_transition(state: str, wanted: ReplacementState) -> None:
    allowed = {
        "centre_verified": {"applied"},
        "approved": {"centre_verified"},
        "rejected": {"applied", "centre_verified"},
    }
    if state not in allowed.get(wanted, set()):
        raise REPLACEMENT_ILLEGAL_TRANSITION(
            f"A replacement that is {state} cannot become {wanted}.",
            message_zh="补办申请的当前状态不允许该操作",
        )
