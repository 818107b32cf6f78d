"""Replacement (毕业证明书) rules: once only (counting issued replacements and standing applications,
not rejected ones), never for a replacement, and the HQ decision's SLA."""

from __future__ import annotations

from typing import Literal

from gradops_shared.errors import Conflict

ReplacementState = Literal["applied", "centre_verified", "approved", "rejected"]
ReplacementReason = Literal["lost", "damaged"]
REASON_ZH = {"lost": "遗失", "damaged": "损坏"}


def ensure_replaceable(kind: str, status: str) -> None:
    if kind == "replacement":
        raise Conflict(
            "A 毕业证明书 cannot itself be replaced: CHSI records a replacement only once.",
            code="certificates.replacement_once_only",
            message_zh="毕业证明书只能补办一次，遗失或损坏后不能再次补办",
        )
    if kind != "diploma":
        raise Conflict(
            "Only a 毕业证书 is replaced by a 毕业证明书.",
            code="certificates.replacement_not_applicable",
            message_zh="只有毕业证书可以申请补办毕业证明书",
        )
    if status == "revoked":
        raise Conflict(
            "The certificate is revoked; there is nothing to replace.",
            code="certificates.revoked",
            message_zh="该证书已撤销，不能补办",
        )


def already_applied() -> Conflict:
    return Conflict(
        "A replacement application for this certificate is already in progress or approved; it can "
        "be replaced only once (a rejected application does not count).",
        code="certificates.replacement_once_only",
        message_zh="该证书已有补办毕业证明书的申请在办理中或已批准，只能补办一次",
    )


def already_replaced() -> Conflict:
    return Conflict(
        "This certificate was already replaced by a 毕业证明书; it can be replaced only once.",
        code="certificates.replacement_once_only",
        message_zh="该证书已补办过毕业证明书，只能补办一次",
    )


def ensure_transition(state: str, wanted: ReplacementState) -> None:
    allowed = {
        "centre_verified": {"applied"},
        "approved": {"centre_verified"},
        "rejected": {"applied", "centre_verified"},
    }
    if state not in allowed.get(wanted, set()):
        raise Conflict(
            f"A replacement that is {state} cannot become {wanted}.",
            code="certificates.replacement_illegal_transition",
            message_zh="补办申请的当前状态不允许该操作",
        )
