"""A short Chinese and English line per event, and the event's data fit to show (no pure logic
elsewhere needs it, and no I/O here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Never shown on a timeline, whatever an event carries now or in a later optional field: the ID
# number (in any form), and personal data a registrar does not need to explain what happened.
SENSITIVE_KEYS = frozenset({"birth_date", "exam_no"})
SENSITIVE_MARKERS = ("id_number", "id_card", "identity_number", "password", "secret")

STATUS_ZH = {
    "enrolled": "在籍",
    "suspended": "休学",
    "withdrawn": "退学",
    "cancelled": "注销学籍",
    "graduated": "毕业",
}
KIND_ZH = {"admission": "入学照片", "graduation": "毕业照片"}
KIND_EN = {"admission": "admission photo", "graduation": "graduation photo"}
REVIEW_STAGE_ZH = {"flagged": "列入复查", "first_review": "初审", "second_review": "复审"}
REVIEW_OUTCOME_ZH = {
    "pending": "待复查",
    "passed": "通过",
    "failed": "未通过",
    "second_review_required": "需复审",
}
CERTIFICATE_KIND_ZH = {"diploma": "毕业证书", "degree": "学位证书"}


def visible_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data without the student number (it is the path) or anything sensitive."""

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: clean(inner)
                for key, inner in value.items()
                if key not in SENSITIVE_KEYS and not any(m in key.lower() for m in SENSITIVE_MARKERS)
            }
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    cleaned: dict[str, Any] = clean({k: v for k, v in data.items() if k != "student_no"})
    return cleaned


Summary = tuple[str, str]


class _Fields(dict[str, Any]):
    """An event's data where an absent field reads as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def _filled(zh: str, en: str) -> Callable[[Mapping[str, Any]], Summary]:
    """A summary that only puts the event's fields (`{name}`) into its two sentences."""

    def summary(d: Mapping[str, Any]) -> Summary:
        fields = _Fields(d)
        return zh.format_map(fields), en.format_map(fields)

    return summary


def _status_changed(d: Mapping[str, Any]) -> Summary:
    before, after, reason = d.get("from_status"), d.get("to_status", ""), d.get("reason", "")
    return (
        f"学籍异动：{STATUS_ZH.get(before or '', '—')} → {STATUS_ZH.get(after, after)}（{reason}）",
        f"Status changed: {before or '—'} → {after} ({reason})",
    )


def _prior_education(d: Mapping[str, Any]) -> Summary:
    stage, outcome = d.get("stage", ""), d.get("outcome", "")
    return (
        f"前置学历复查：{REVIEW_STAGE_ZH.get(stage, stage)}，{REVIEW_OUTCOME_ZH.get(outcome, outcome)}",
        f"Prior-education review: {stage.replace('_', ' ')}, {outcome.replace('_', ' ')}",
    )


def _identity(d: Mapping[str, Any]) -> Summary:
    if d.get("in_doubt"):
        return (
            f"标记身份存疑（{d.get('kind') or ''}）",
            f"Identity flagged as in doubt ({d.get('kind') or 'unspecified'})",
        )
    return "身份存疑已解除", "Identity flag cleared"


def _photo_kind(d: Mapping[str, Any]) -> tuple[str, str]:
    """The photo's kind as (zh, en): "毕业照片", "graduation photo" (or just "照片", "photo")."""
    kind = d.get("kind", "")
    return KIND_ZH.get(kind, "照片"), KIND_EN.get(kind, "photo")


def _photo(verb_zh: str, verb_en: str) -> Callable[[Mapping[str, Any]], Summary]:
    def summary(d: Mapping[str, Any]) -> Summary:
        kind_zh, kind_en = _photo_kind(d)
        return f"{kind_zh}{verb_zh}", f"{kind_en.capitalize()} {verb_en}"

    return summary


def _photo_submitted(d: Mapping[str, Any]) -> Summary:
    (kind_zh, kind_en), state = _photo_kind(d), d.get("state", "")
    return f"提交{kind_zh}（{state}）", f"{kind_en.capitalize()} submitted ({state})"


def _photo_rejected(d: Mapping[str, Any]) -> Summary:
    (kind_zh, kind_en), reasons = _photo_kind(d), ", ".join(d.get("reasons") or [])
    return f"{kind_zh}审核未通过：{reasons}", f"{kind_en.capitalize()} rejected: {reasons}"


def _photo_chsi(d: Mapping[str, Any]) -> Summary:
    kind_zh, kind_en = _photo_kind(d)
    if d.get("chsi_state") == "on_chsi":
        return f"{kind_zh}已在学信网", f"{kind_en.capitalize()} is on CHSI"
    return f"学信网退回{kind_zh}（照片存疑）", f"CHSI rejected the {kind_en} (photo in doubt)"


def _proofread(d: Mapping[str, Any]) -> Summary:
    if d.get("outcome") == "confirmed":
        return "图像校对：信息确认无误", "Proofreading: details confirmed"
    return "图像校对：报告信息有误", "Proofreading: an error was reported"


def _audit_failed(d: Mapping[str, Any]) -> Summary:
    checks = ", ".join(d.get("failed_checks") or [])
    return (
        f"毕业审核未通过（批次 {d.get('batch_code', '')}）：{checks}",
        f"Graduation audit failed (batch {d.get('batch_code', '')}): {checks}",
    )


def _issued(d: Mapping[str, Any]) -> Summary:
    kind = d.get("kind", "diploma")
    return (
        f"颁发{CERTIFICATE_KIND_ZH.get(kind, '证书')} {d.get('number', '')}",
        f"{'Degree certificate' if kind == 'degree' else 'Diploma'} {d.get('number', '')} issued",
    )


VERIFICATION_RESULT_ZH = {
    "valid": "有效",
    "superseded": "已被证明书替代",
    "revoked": "已撤销",
    "unknown": "未通过",
}


def _verified(d: Mapping[str, Any]) -> Summary:
    result, number = d.get("result", ""), d.get("number", "")
    via_zh, via_en = ("验证码", "share code") if d.get("via") == "share_code" else ("证书编号", "number")
    mismatch_zh = "，姓名不符" if d.get("name_matched") is False else ""
    mismatch_en = ", name did not match" if d.get("name_matched") is False else ""
    return (
        f"证书 {number} 被公开查验（{via_zh}）：{VERIFICATION_RESULT_ZH.get(result, result)}{mismatch_zh}",
        f"Certificate {number} verified publicly (by {via_en}): {result}{mismatch_en}",
    )


SUMMARIES: dict[str, Callable[[Mapping[str, Any]], Summary]] = {
    "StudentRegistered": _filled(
        "学籍注册：{name}，{major}，学习中心 {learning_centre}",
        "Registered: {name}, {major}, learning centre {learning_centre}",
    ),
    "StudentUpdated": _filled(
        "学籍信息更新（专业 {major}，学习中心 {learning_centre}）",
        "Record updated (major {major}, learning centre {learning_centre})",
    ),
    "StudentStatusChanged": _status_changed,
    "PriorEducationReviewed": _prior_education,
    "IdentityFlagChanged": _identity,
    "PhotoSubmitted": _photo_submitted,
    "PhotoApproved": _photo("审核通过", "approved"),
    "PhotoRejected": _photo_rejected,
    "PhotoReopened": _photo("重新开放采集", "reopened for a new capture"),
    "PhotoChsiStatusChanged": _photo_chsi,
    "PhotoProofread": _proofread,
    "AuditPassed": _filled(
        "毕业审核通过（批次 {batch_code}，毕业日期 {graduation_date}）",
        "Graduation audit passed (batch {batch_code}, graduation date {graduation_date})",
    ),
    "AuditFailed": _audit_failed,
    "CertificateIssued": _issued,
    "CertificateReplaced": _filled(
        "补发毕业证明书 {number}，原证书 {original_number} 作废",
        "Replacement {number} issued; {original_number} superseded",
    ),
    "CertificateRevoked": _filled(
        "证书 {number} 已撤销（{reason}）", "Certificate {number} revoked ({reason})"
    ),
    "VerificationPerformed": _verified,
}


def summarise(event_type: str, data: Mapping[str, Any]) -> Summary:
    """(zh, en). An event type this gateway does not know yet still gets a line."""
    summary = SUMMARIES.get(event_type)
    if summary is None:
        return f"事件 {event_type}", f"Event {event_type}"
    return summary(data)
