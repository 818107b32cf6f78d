"""The one way a check builds its answer: passed or not, with both languages and the hint."""

from __future__ import annotations

from gradops_photo.qc.report import Check, Severity

OK_ZH = "符合要求"
OK_EN = "OK"


def result(
    code: str,
    passed: bool,
    measured: object,
    expected: object,
    *,
    severity: Severity = "error",
    fixable: bool = False,
    fail_zh: str,
    fail_en: str,
    hint_zh: str | None = None,
    hint_en: str | None = None,
    ok_zh: str = OK_ZH,
    ok_en: str = OK_EN,
) -> Check:
    return Check(
        code=code,
        passed=passed,
        measured=measured,
        expected=expected,
        severity=severity,
        fixable=fixable,
        message_zh=ok_zh if passed else fail_zh,
        message_en=ok_en if passed else fail_en,
        hint=None if passed else hint_zh,
        hint_en=None if passed else hint_en,
    )
