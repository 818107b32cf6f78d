from datetime import date

import pytest

from gradops_audit import domain
from gradops_shared.errors import InvalidInput


def facts(**overrides: object) -> domain.StudentFacts:
    values: dict[str, object] = {
        "student_no": "2021510001",
        "known": True,
        "status": "enrolled",
        "level": "junior_college",
        "graduation_photo_sha256": "ab" * 32,
    }
    values.update(overrides)
    return domain.StudentFacts(**values)  # type: ignore[arg-type]


def test_enrolled_student_with_approved_photo_passes() -> None:
    checks = domain.audit(facts())
    assert domain.passed(checks)
    assert domain.failed_codes(checks) == []


@pytest.mark.parametrize(
    ("overrides", "failed"),
    [
        ({"graduation_photo_sha256": None}, ["audit.graduation_photo_approved"]),
        ({"status": "suspended"}, ["audit.status_enrolled"]),
        (
            {"known": False, "status": None, "level": None},
            ["audit.student_registered", "audit.status_enrolled"],
        ),
    ],
)
def test_each_failed_check_is_named_with_a_hint(overrides: dict[str, object], failed: list[str]) -> None:
    checks = domain.audit(facts(**overrides))
    assert domain.failed_codes(checks) == failed
    for check in checks:
        if not check.passed:
            assert check.hint_zh and check.hint_en


def test_the_inputs_digest_changes_only_with_the_inputs() -> None:
    assert domain.inputs_digest(facts()) == domain.inputs_digest(facts())
    assert domain.inputs_digest(facts()) != domain.inputs_digest(facts(status="suspended"))


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
    assert domain.graduation_date(batch) == graduates_on


@pytest.mark.parametrize(
    ("today", "batch"),
    [(date(2026, 11, 23), "202612"), (date(2026, 3, 1), "202603"), (date(2026, 4, 1), "202606")],
)
def test_default_batch_is_the_next_quarter_month(today: date, batch: str) -> None:
    assert domain.default_batch_code(today) == batch


@pytest.mark.parametrize("code", ["2023", "202313", "abcdef", "2023-07"])
def test_malformed_batch_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidInput):
        domain.graduation_date(code)
