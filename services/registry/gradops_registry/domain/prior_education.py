"""前置学历复查: the prior-education review of 专升本 students as a workflow.

none ─flag→ pending (deadline = notice + 3 months; no course selection)
pending ─first review passed→ passed            (正式学籍)
pending ─first review failed→ second_review     (复审 by the province)
second_review ─passed→ passed   ─failed→ failed (取消学籍, handled as withdrawal)
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from gradops_registry.errors import (
    PRIOR_EDUCATION_EVIDENCE_TYPE,
    PRIOR_EDUCATION_ILLEGAL_STEP,
    PRIOR_EDUCATION_NOT_APPLICABLE,
    PRIOR_GRADUATION_YEAR_MISSING,
)

if TYPE_CHECKING:
    from gradops_shared.problems import GradOpsError

ReviewState = Literal["none", "pending", "second_review", "passed", "failed"]
REVIEW_STATE_LABELS_ZH: dict[str, str] = {
    "none": "无需复查",
    "pending": "前置学历资格待查",
    "second_review": "复审中",
    "passed": "复查通过（正式学籍）",
    "failed": "复查未通过（取消学籍）",
}
# One document for the first review, chosen by when and where the prior diploma was obtained.
FIRST_REVIEW_EVIDENCE: dict[str, str] = {
    "registration_record": "教育部学历证书电子注册备案表",
    "credential_report": "中国高等教育学历认证报告",
    "overseas_credential": "国(境)外学历学位认证书",
}
# The second review needs every one of these; identity consistency matters most.
SECOND_REVIEW_EVIDENCE: dict[str, str] = {
    "prior_diploma": "前置学历毕业证书",
    "id_card": "居民身份证",
    "identity_consistency_proof": "身份一致性证明",
}
EVIDENCE_TYPES = {**FIRST_REVIEW_EVIDENCE, **SECOND_REVIEW_EVIDENCE}
DEADLINE_MONTHS = 3
# 备案表 exist for diplomas registered from 2002 on; older ones need the credential report.
REGISTRATION_RECORD_FROM_YEAR = 2002


@dataclass(frozen=True)
class ReviewStep:
    state: ReviewState
    stage: Literal["flagged", "first_review", "second_review"]
    outcome: Literal["pending", "passed", "failed", "second_review_required"]
    deadline: date | None


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def course_selection_allowed(review_state: str, status: str) -> bool:
    """A pending review blocks course selection (选课); so does any status other than 在籍."""
    return status == "enrolled" and review_state not in ("pending", "second_review")


def is_overdue(review_state: str, deadline: date | None, today: date) -> bool:
    return review_state in ("pending", "second_review") and deadline is not None and deadline < today


def _illegal(state: str, action: str) -> GradOpsError:
    return PRIOR_EDUCATION_ILLEGAL_STEP(
        f"The prior-education review is '{state}'; '{action}' is not possible now.",
        message_zh=f"前置学历复查当前为“{REVIEW_STATE_LABELS_ZH[state]}”，不能进行该操作",
        extra={"review_state": state, "action": action},
    )


def flag(state: str, *, level: str, notice_date: date) -> ReviewStep:
    """CHSI flagged the prior education (前置学历资格待查); only 专升本 students have one."""
    if level != "bachelor_from_junior_college":
        raise PRIOR_EDUCATION_NOT_APPLICABLE(
            "Only bachelor_from_junior_college (专升本) students have a prior-education review.",
            message_zh="仅专科起点本科（专升本）学生需要前置学历复查",
        )
    if state in ("pending", "second_review", "failed"):  # failed: the status is already cancelled
        raise _illegal(state, "flag")
    return ReviewStep("pending", "flagged", "pending", add_months(notice_date, DEADLINE_MONTHS))


def required_first_review_evidence(*, prior_graduation_year: int | None, abroad: bool) -> str:
    if abroad:
        return "overseas_credential"
    if prior_graduation_year is None:
        raise PRIOR_GRADUATION_YEAR_MISSING(
            "prior_graduation_year is needed to choose the first review's evidence.",
            message_zh="请填写前置学历毕业年份（用于确定初审材料）",
            extra={
                "errors": [
                    {
                        "field": "prior_graduation_year",
                        "in": "body",
                        "type": "missing",
                        "message": "required for the first review",
                    }
                ]
            },
        )
    if prior_graduation_year >= REGISTRATION_RECORD_FROM_YEAR:
        return "registration_record"
    return "credential_report"


def first_review(
    state: str,
    *,
    passed: bool,
    evidence_types: list[str],
    prior_graduation_year: int | None,
    abroad: bool,
    deadline: date | None,
) -> ReviewStep:
    if state != "pending":
        raise _illegal(state, "first_review")
    required = required_first_review_evidence(prior_graduation_year=prior_graduation_year, abroad=abroad)
    if evidence_types != [required]:
        raise PRIOR_EDUCATION_EVIDENCE_TYPE(
            f"The first review takes exactly one document of type {required} "
            f"({FIRST_REVIEW_EVIDENCE[required]}) for this prior diploma.",
            message_zh=f"初审须提交且仅提交一份“{FIRST_REVIEW_EVIDENCE[required]}”",
            extra={"required_evidence_type": required},
        )
    if passed:
        return ReviewStep("passed", "first_review", "passed", None)
    return ReviewStep("second_review", "first_review", "second_review_required", deadline)


def second_review(state: str, *, passed: bool, evidence_types: list[str]) -> ReviewStep:
    if state != "second_review":
        raise _illegal(state, "second_review")
    missing = [t for t in SECOND_REVIEW_EVIDENCE if t not in evidence_types]
    extra = [t for t in evidence_types if t not in SECOND_REVIEW_EVIDENCE]
    if missing or extra:
        raise PRIOR_EDUCATION_EVIDENCE_TYPE(
            "The second review takes the prior diploma, the ID card and the identity-consistency "
            f"proof (missing: {', '.join(missing) or 'none'}; not expected: {', '.join(extra) or 'none'}).",
            message_zh="复审须提交前置学历毕业证书、居民身份证和身份一致性证明",
            extra={"missing_evidence_types": missing},
        )
    if passed:
        return ReviewStep("passed", "second_review", "passed", None)
    return ReviewStep("failed", "second_review", "failed", None)


def required_evidence(state: str, *, abroad: bool, prior_graduation_year: int | None) -> list[str]:
    """What the next step of a review in `state` takes; `abroad` and `prior_graduation_year` as the
    last step recorded them (False/None before any step)."""
    if state == "pending":
        if abroad or prior_graduation_year is not None:
            return [
                required_first_review_evidence(prior_graduation_year=prior_graduation_year, abroad=abroad)
            ]
        return list(FIRST_REVIEW_EVIDENCE)  # one of them, by the prior diploma's year
    if state == "second_review":
        return list(SECOND_REVIEW_EVIDENCE)
    return []
