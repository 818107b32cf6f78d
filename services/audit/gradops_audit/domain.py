"""Audit rules: pure functions over the facts the audit service holds. No I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from gradops_shared.errors import InvalidInput


@dataclass(frozen=True)
class StudentFacts:
    student_no: str
    known: bool
    status: str | None
    level: str | None
    graduation_photo_sha256: str | None


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    measured: Any
    expected: Any
    message_zh: str
    message_en: str
    hint_zh: str | None = None
    hint_en: str | None = None


def audit(facts: StudentFacts) -> list[CheckResult]:
    """Every check is reported, passed or not, so a registrar sees why."""
    return [
        CheckResult(
            code="audit.student_registered",
            passed=facts.known,
            measured=facts.known,
            expected=True,
            message_zh="学籍信息已登记" if facts.known else "未找到该学生的学籍信息",
            message_en="Student record present" if facts.known else "No student record",
            hint_zh=None if facts.known else "请先在学籍系统登记该学生",
            hint_en=None if facts.known else "Register the student in the registry first",
        ),
        CheckResult(
            code="audit.status_enrolled",
            passed=facts.status == "enrolled",
            measured=facts.status,
            expected="enrolled",
            message_zh="学籍状态为在籍" if facts.status == "enrolled" else "学籍状态不是在籍",
            message_en="Status is enrolled" if facts.status == "enrolled" else "Status is not enrolled",
            hint_zh=None if facts.status == "enrolled" else "只有在籍学生可以毕业",
            hint_en=None if facts.status == "enrolled" else "Only enrolled students can graduate",
        ),
        CheckResult(
            code="audit.graduation_photo_approved",
            passed=facts.graduation_photo_sha256 is not None,
            measured=facts.graduation_photo_sha256 is not None,
            expected=True,
            message_zh="已有审核通过的毕业照片"
            if facts.graduation_photo_sha256
            else "缺少审核通过的毕业照片",
            message_en="Approved graduation photo present"
            if facts.graduation_photo_sha256
            else "No approved graduation photo",
            hint_zh=None if facts.graduation_photo_sha256 else "请上传毕业照片并等待审核通过",
            hint_en=None
            if facts.graduation_photo_sha256
            else "Upload a graduation photo and have it approved",
        ),
    ]


def passed(checks: list[CheckResult]) -> bool:
    return all(c.passed for c in checks)


def failed_codes(checks: list[CheckResult]) -> list[str]:
    return [c.code for c in checks if not c.passed]


def inputs_digest(facts: StudentFacts) -> str:
    """Same inputs, same digest: two audits are comparable at a glance."""
    return hashlib.sha256(json.dumps(asdict(facts), sort_keys=True).encode()).hexdigest()


BATCH_MONTHS = (3, 6, 9, 12)


def default_batch_code(today: date) -> str:
    """The next quarterly batch (March, June, September, December) on or after today."""
    month = next(m for m in BATCH_MONTHS if m >= today.month)
    return f"{today.year}{month:02d}"


def graduation_date(batch_code: str) -> date:
    """Quarterly rule: December and March batches graduate on 31 January, June and September
    batches on 31 July (December 2023 and March 2024 both give 2024-01-31)."""
    if len(batch_code) != 6 or not batch_code.isdigit() or not 1 <= int(batch_code[4:]) <= 12:
        raise InvalidInput(
            "A batch code is YYYYMM, e.g. 202307.",
            code="audit.batch_code_format",
            message_zh="毕业批次代码格式应为 YYYYMM，例如 202307",
        )
    year, month = int(batch_code[:4]), int(batch_code[4:])
    if month >= 10:
        return date(year + 1, 1, 31)
    if month <= 3:
        return date(year, 1, 31)
    return date(year, 7, 31)
