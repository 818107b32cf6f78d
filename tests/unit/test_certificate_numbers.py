import pytest

from gradops_certificates import domain
from gradops_shared.errors import InvalidInput


def test_number_follows_the_national_18_digit_layout() -> None:
    number = domain.make_number(
        school_code="51357", education_type_code="5", year=2023, level="junior_college", serial=1
    )
    assert str(number) == "513575202306000001"
    assert len(str(number)) == 18


def test_bachelor_levels_share_code_05() -> None:
    for level in ("bachelor", "bachelor_from_junior_college"):
        number = domain.make_number(
            school_code="10476", education_type_code="1", year=2024, level=level, serial=42
        )
        assert str(number) == "104761202405000042"


def test_parse_round_trips() -> None:
    parsed = domain.parse_number("513575202306000001")
    assert (
        parsed.school_code,
        parsed.education_type_code,
        parsed.year,
        parsed.level_code,
        parsed.serial,
    ) == (
        "51357",
        "5",
        2023,
        "06",
        1,
    )


@pytest.mark.parametrize("raw", ["51357520230600000", "5135752023060000012", "51357520230600000A"])
def test_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        domain.parse_number(raw)


@pytest.mark.parametrize("serial", [0, 1_000_000])
def test_serial_must_fit_six_digits(serial: int) -> None:
    with pytest.raises(InvalidInput):
        domain.make_number(
            school_code="51357", education_type_code="5", year=2023, level="bachelor", serial=serial
        )
