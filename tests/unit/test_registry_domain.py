from datetime import date

import pytest

from gradops_registry import domain
from gradops_shared.errors import Conflict, InvalidInput

TODAY = date(2026, 11, 23)


def test_the_contract_example_id_number_is_valid_and_female() -> None:
    parsed = domain.parse_resident_id("11010519491231002X", today=TODAY)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "female"


def test_lower_case_x_is_normalised() -> None:
    assert domain.parse_resident_id("11010519491231002x", today=TODAY).number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "registry.id_number_checksum"),
        ("11010519491331002X", "registry.id_number_birth_date"),
        ("110105203012310026", "registry.id_number_birth_date"),
        ("1101051949123100", "registry.id_number_format"),
        ("11010519491231002Y", "registry.id_number_format"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_stable_code(number: str, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        domain.parse_resident_id(number, today=TODAY)
    assert raised.value.code == code


def test_birth_date_and_gender_must_agree_with_the_id_number() -> None:
    parsed = domain.parse_resident_id("11010519491231002X", today=TODAY)
    domain.check_identity_consistency(parsed, birth_date=date(1949, 12, 31), gender="female")
    with pytest.raises(InvalidInput, match="birth_date"):
        domain.check_identity_consistency(parsed, birth_date=date(1950, 1, 1), gender=None)
    with pytest.raises(InvalidInput) as raised:
        domain.check_identity_consistency(parsed, birth_date=None, gender="male")
    assert raised.value.code == "registry.gender_mismatch"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("2021春", "2021-spring"),
        ("2021秋", "2021-autumn"),
        ("2021-spring", "2021-spring"),
        (" 2019-autumn ", "2019-autumn"),
    ],
)
def test_enrolment_terms_accept_chinese_and_english(raw: str, normalised: str) -> None:
    assert domain.normalise_term(raw) == normalised


@pytest.mark.parametrize("raw", ["2021", "2021夏", "21春", "2021-summer", ""])
def test_malformed_terms_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        domain.normalise_term(raw)


def test_id_numbers_are_masked_to_the_last_four() -> None:
    assert domain.mask_id_number("530102199001018746") == "*****8746"


def test_clients_cannot_set_graduated() -> None:
    with pytest.raises(Conflict):
        domain.check_status_via_record_update("enrolled", "graduated")
    domain.check_status_via_record_update("graduated", "graduated")  # unchanged is fine
