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


# The validator: every kind of number we may be shown, and a reason naming the wrong part.


@pytest.mark.parametrize(
    ("raw", "kind", "year", "serial"),
    [
        ("513575202306000001", "diploma", 2023, "000001"),
        (" 104761202405000042 ", "diploma", 2024, "000042"),
        ("10476120020500001", "legacy_diploma", 2002, "00001"),  # 17 digits, 5-digit serial
        ("1047642024000123", "degree", 2024, "000123"),
        ("C1047642024000123", "degree", 2024, "000123"),  # adult-education bachelor
        ("1047642024S00123", "degree", 2024, "S00123"),  # double degree
        ("51357B202606000007", "replacement", 2026, "000007"),
        ("51357b202606000007", "replacement", 2026, "000007"),
    ],
)
def test_validator_reads_every_layout(raw: str, kind: str, year: int, serial: str) -> None:
    parsed = domain.validate_number(raw)
    assert (parsed.kind, parsed.year, parsed.serial) == (kind, year, serial)
    assert parsed.number == raw.strip().upper()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("513573202306000001", "certificates.number_type_code"),  # 3 is no education type
        ("513575202303000001", "certificates.number_level"),  # 03 is no level
        ("513575202307000001", "certificates.number_level"),  # 07 only on legacy numbers
        ("513575199906000001", "certificates.number_year"),  # 18 digits before 2001
        ("513575202306000000", "certificates.number_serial"),
        ("51357520100600001", "certificates.number_year"),  # 17 digits after 2003
        ("1047652024000123", "certificates.number_degree_code"),
        ("1047632024S00123", "certificates.number_degree_code"),  # S/E only for a bachelor
        ("5135752023", "certificates.number_format"),
        ("51357X202306000001", "certificates.number_format"),
    ],
)
def test_validator_names_what_is_wrong(raw: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        domain.validate_number(raw)
    assert refused.value.code == code
    assert refused.value.message_zh


def test_configured_education_type_is_accepted() -> None:
    # Open education's digit is not published: the university configures it.
    with pytest.raises(InvalidInput):
        domain.validate_number("513578202306000001")
    assert domain.validate_number("513578202306000001", education_type_codes=("8",)).kind == "diploma"


def test_legacy_level_07_is_read_on_17_digit_numbers_only() -> None:
    assert domain.validate_number("10476520020700001").level_code == "07"


def test_degree_and_replacement_numbers_have_their_layouts() -> None:
    degree = domain.make_degree_number(school_code="51357", year=2024, serial=9)
    assert str(degree) == "5135742024000009" and len(str(degree)) == 16
    adult = domain.make_degree_number(school_code="51357", year=2024, serial=9, prefix="C")
    assert str(adult) == "C5135742024000009"
    proof = domain.make_replacement_number(school_code="51357", year=2026, level="bachelor", serial=3)
    assert str(proof) == "51357B202605000003"
    # A 补证号 never collides with a 毕业证书 number: position 6 is a letter.
    assert domain.validate_number(str(proof)).kind == "replacement"
