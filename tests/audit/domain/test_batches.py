"""Batch rules: codes, terms and cohorts, application windows, graduation dates."""

from datetime import date

import pytest

from gradops_audit.domain import batches
from gradops_shared.errors import Conflict, InvalidInput


@pytest.mark.parametrize(
    ("batch", "graduates_on"),
    [
        ("202312", date(2024, 1, 31)),
        ("202403", date(2024, 1, 31)),
        ("202406", date(2024, 7, 31)),
        ("202409", date(2024, 7, 31)),
    ],
)
def test_quarterly_graduation_date_rule(batch: str, graduates_on: date) -> None:
    assert batches.graduation_date(batch) == graduates_on
    assert batches.batch_graduation_date(batch, batches.DateRule("quarterly")) == graduates_on


def test_a_fixed_date_wins_over_the_quarterly_rule() -> None:
    rule = batches.DateRule("fixed", date(2023, 7, 20))
    assert batches.batch_graduation_date("202307", rule) == date(2023, 7, 20)


@pytest.mark.parametrize(
    ("batch", "rule", "issued_on"),
    [
        ("202312", batches.DateRule("quarterly"), date(2024, 1, 31)),
        ("202406", batches.DateRule("quarterly"), date(2024, 7, 31)),
        ("202307", batches.DateRule("fixed", date(2023, 7, 20)), date(2023, 7, 20)),
    ],
)
def test_the_issue_date_is_the_graduation_date_and_defaults_to_it(
    batch: str, rule: batches.DateRule, issued_on: date
) -> None:
    assert batches.check_issue_date(batch, rule, issued_on) == issued_on
    assert batches.check_issue_date(batch, rule, None) == issued_on


@pytest.mark.parametrize(
    ("batch", "rule", "issued_on"),
    [
        ("202406", batches.DateRule("quarterly"), date(2023, 1, 1)),  # accepted before issue 13
        ("202406", batches.DateRule("quarterly"), date(2024, 7, 30)),
        ("202403", batches.DateRule("quarterly"), date(2024, 3, 31)),
        ("202307", batches.DateRule("fixed", date(2023, 7, 20)), date(2023, 7, 31)),
    ],
)
def test_any_other_issue_date_is_refused_with_both_dates_named(
    batch: str, rule: batches.DateRule, issued_on: date
) -> None:
    with pytest.raises(InvalidInput) as refused:
        batches.check_issue_date(batch, rule, issued_on)
    assert refused.value.code == "audit.issue_date_mismatch"
    assert refused.value.extra == {
        "issue_date": str(issued_on),
        "graduation_date": str(batches.batch_graduation_date(batch, rule)),
    }


def test_the_quarterly_rule_serves_only_quarter_months_and_a_fixed_rule_needs_its_date() -> None:
    with pytest.raises(InvalidInput) as refused:
        batches.check_date_rule("202307", batches.DateRule("quarterly"))
    assert refused.value.code == "audit.quarterly_rule_month"
    with pytest.raises(InvalidInput) as missing:
        batches.check_date_rule("202307", batches.DateRule("fixed"))
    assert missing.value.code == "audit.graduation_date_missing"
    batches.check_date_rule("202312", batches.DateRule("quarterly"))


@pytest.mark.parametrize(
    ("today", "batch"),
    [(date(2026, 11, 23), "202612"), (date(2026, 3, 1), "202603"), (date(2026, 4, 1), "202606")],
)
def test_default_batch_is_the_next_quarter_month(today: date, batch: str) -> None:
    assert batches.default_batch_code(today) == batch


@pytest.mark.parametrize("code", ["2023", "202313", "abcdef", "2023-07", "202300"])
def test_malformed_batch_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        batches.check_batch_code(code)
    assert refused.value.code == "audit.batch_code_format"


def test_terms_are_normalised_and_ordered() -> None:
    assert batches.normalise_term("2021春") == "2021-spring"
    assert batches.normalise_term("2021秋") == "2021-autumn"
    assert batches.term_key("2021-spring") < batches.term_key("2021-autumn") < batches.term_key("2022-spring")
    with pytest.raises(InvalidInput) as refused:
        batches.normalise_term("2021 fall")
    assert refused.value.code == "audit.enrolment_term_format"


@pytest.mark.parametrize(
    ("enrolled", "in_cohort"),
    [
        ("2020-autumn", True),
        ("2021-spring", True),
        ("2021春", True),
        ("2021-autumn", False),
        ("2022-spring", False),
    ],
)
def test_cohort_is_the_cut_off_term_or_earlier(enrolled: str, in_cohort: bool) -> None:
    # 202307: students enrolled in 2021 spring or earlier.
    assert batches.in_cohort(enrolled, "2021-spring") is in_cohort


ROUNDS = [
    batches.Round(1, date(2023, 7, 6), date(2023, 7, 16)),
    batches.Round(2, date(2023, 9, 4), date(2023, 10, 12)),
]


@pytest.mark.parametrize(
    ("today", "round_no"),
    [(date(2023, 7, 6), 1), (date(2023, 7, 16), 1), (date(2023, 9, 4), 2), (date(2023, 10, 12), 2)],
)
def test_an_application_falls_in_the_round_whose_window_holds_the_day(today: date, round_no: int) -> None:
    assert batches.open_round(ROUNDS, today).number == round_no


@pytest.mark.parametrize("today", [date(2023, 7, 5), date(2023, 7, 17), date(2023, 9, 3), date(2023, 10, 13)])
def test_outside_every_window_the_application_is_refused_with_the_windows_named(today: date) -> None:
    with pytest.raises(Conflict) as refused:
        batches.open_round(ROUNDS, today)
    assert refused.value.code == "audit.application_window_closed"
    assert refused.value.status == 409
    assert [w["round"] for w in refused.value.extra["windows"]] == [1, 2]


def test_rounds_must_not_overlap_or_close_before_they_open() -> None:
    with pytest.raises(InvalidInput) as overlapping:
        batches.check_rounds([*ROUNDS, batches.Round(3, date(2023, 10, 1), date(2023, 10, 30))])
    assert overlapping.value.code == "audit.batch_rounds_invalid"
    with pytest.raises(InvalidInput):
        batches.check_rounds([batches.Round(1, date(2023, 7, 16), date(2023, 7, 6))])
    batches.check_rounds(ROUNDS)
