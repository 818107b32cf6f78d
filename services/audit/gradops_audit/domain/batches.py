"""Batches (毕业批次): codes, cohorts, application windows and graduation dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gradops_audit.errors import (
    APPLICATION_WINDOW_CLOSED,
    BATCH_CODE_FORMAT,
    BATCH_ROUNDS_INVALID,
    ENROLMENT_TERM_FORMAT,
    GRADUATION_DATE_MISSING,
    ISSUE_DATE_MISMATCH,
    QUARTERLY_RULE_MONTH,
)

BATCH_MONTHS = (3, 6, 9, 12)
_TERM = re.compile(r"^(?P<year>\d{4})(?:-(?P<en>spring|autumn)|(?P<zh>[春秋]))$")


def check_batch_code(batch_code: str) -> str:
    if len(batch_code) != 6 or not batch_code.isdigit() or not 1 <= int(batch_code[4:]) <= 12:
        raise BATCH_CODE_FORMAT(
            "A batch code is YYYYMM, e.g. 202307.",
            message_zh="毕业批次代码格式应为 YYYYMM，例如 202307",
        )
    return batch_code


def default_batch_code(today: date) -> str:
    """The next quarterly batch (March, June, September, December) on or after today."""
    month = next(m for m in BATCH_MONTHS if m >= today.month)
    return f"{today.year}{month:02d}"


def graduation_date(batch_code: str) -> date:
    """Quarterly rule: December and March batches graduate on 31 January, June and September
    batches on 31 July (December 2023 and March 2024 both give 2024-01-31)."""
    check_batch_code(batch_code)
    year, month = int(batch_code[:4]), int(batch_code[4:])
    if month >= 10:
        return date(year + 1, 1, 31)
    if month <= 3:
        return date(year, 1, 31)
    return date(year, 7, 31)


def normalise_term(raw: str) -> str:
    """`2021春` / `2021-spring` -> `2021-spring` (the registry's spelling)."""
    match = _TERM.match(raw.strip())
    if not match:
        raise ENROLMENT_TERM_FORMAT(
            f"{raw!r} is not an enrolment term; write 2021-spring, 2021-autumn, 2021春 or 2021秋.",
            message_zh="入学年度学期格式应为 2021春 或 2021秋",
        )
    season = match["en"] or ("spring" if match["zh"] == "春" else "autumn")
    return f"{match['year']}-{season}"


def term_key(term: str) -> tuple[int, int]:
    """Orders terms: 2021-spring < 2021-autumn < 2022-spring. Unknown spellings sort last."""
    match = _TERM.match(term.strip())
    if not match:
        return (9999, 9)
    season = match["en"] or ("spring" if match["zh"] == "春" else "autumn")
    return (int(match["year"]), 0 if season == "spring" else 1)


def in_cohort(enrolment_term: str, cohort_cutoff_term: str) -> bool:
    """A batch's cohort: students enrolled in the cut-off term or earlier."""
    return term_key(enrolment_term) <= term_key(cohort_cutoff_term)


@dataclass(frozen=True)
class Round:
    number: int
    opens_on: date
    closes_on: date


@dataclass(frozen=True)
class DateRule:
    kind: Literal["quarterly", "fixed"]
    fixed_date: date | None = None


def check_rounds(rounds: list[Round]) -> None:
    """Rounds are numbered from 1, each window opens before it closes, and windows never overlap."""
    errors = []
    for i, rnd in enumerate(sorted(rounds, key=lambda r: r.opens_on)):
        if rnd.closes_on < rnd.opens_on:
            errors.append(f"round {rnd.number} closes before it opens")
        if i and rnd.opens_on <= sorted(rounds, key=lambda r: r.opens_on)[i - 1].closes_on:
            errors.append(f"round {rnd.number} overlaps the round before it")
    if len({r.number for r in rounds}) != len(rounds):
        errors.append("round numbers repeat")
    if errors:
        raise BATCH_ROUNDS_INVALID(
            "Rounds are not valid: " + "; ".join(errors) + ".",
            message_zh="批次轮次设置有误：申请窗口须先开后关、互不重叠、编号不重复",
        )


def check_date_rule(batch_code: str, rule: DateRule) -> None:
    if rule.kind == "fixed" and rule.fixed_date is None:
        raise GRADUATION_DATE_MISSING(
            "A fixed graduation date rule needs its date.",
            message_zh="固定毕业日期规则须给出日期",
        )
    if rule.kind == "quarterly" and int(batch_code[4:]) not in BATCH_MONTHS:
        raise QUARTERLY_RULE_MONTH(
            "The quarterly rule serves March, June, September and December batches; give this batch a "
            "fixed graduation date.",
            message_zh="季度毕业日期规则仅适用于 3、6、9、12 月批次，其他批次请指定固定毕业日期",
        )


def check_issue_date(batch_code: str, rule: DateRule, issue_date: date | None) -> date:
    """The batch's certificate issue date: its graduation date. 教学〔2014〕11号 art. 18 makes the issue
    date the day the registration is queryable on CHSI, which is the graduation date; a school's rules
    copied from it say so outright. None (not given) is that date; any other date is refused."""
    graduates_on = batch_graduation_date(batch_code, rule)
    if issue_date is not None and issue_date != graduates_on:
        raise ISSUE_DATE_MISMATCH(
            f"The issue date {issue_date} of batch {batch_code} must equal its graduation date "
            f"{graduates_on} ({rule.kind} rule).",
            message_zh=f"发证日期（{issue_date}）须与本批次毕业日期（{graduates_on}）一致",
            extra={"issue_date": str(issue_date), "graduation_date": str(graduates_on)},
        )
    return graduates_on


def batch_graduation_date(batch_code: str, rule: DateRule) -> date:
    if rule.kind == "fixed":
        assert rule.fixed_date is not None
        return rule.fixed_date
    return graduation_date(batch_code)


def open_round(rounds: list[Round], today: date) -> Round:
    """The round whose application window holds today; otherwise 409 with the windows named."""
    for rnd in rounds:
        if rnd.opens_on <= today <= rnd.closes_on:
            return rnd
    windows = ", ".join(f"round {r.number}: {r.opens_on}…{r.closes_on}" for r in rounds) or "none"
    raise APPLICATION_WINDOW_CLOSED(
        f"No application window of this batch is open on {today} (windows: {windows}).",
        message_zh=f"当前（{today}）不在该批次任何一轮的申请时间内",
        extra={
            "windows": [
                {"round": r.number, "opens_on": str(r.opens_on), "closes_on": str(r.closes_on)}
                for r in rounds
            ]
        },
    )
