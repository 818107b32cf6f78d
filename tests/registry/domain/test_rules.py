from datetime import date

import pytest

from gradops_registry import domain
from gradops_registry.domain import org
from gradops_registry.domain import prior_education as review
from gradops_registry.domain.evidence import check_evidence_media_type
from gradops_shared.errors import Conflict, InvalidInput, UnsupportedMediaType
from gradops_shared.uploads import sniff

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


# ---- other ID types, masking ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("passport", "e12345678"),
        ("military_officer", "南字第2008456号"),
        ("soldier", "20084561"),
        ("other", "HK-123"),
    ],
)
def test_other_id_types_are_checked_by_their_own_shape(id_type: str, number: str) -> None:
    assert domain.normalise_other_id(id_type, number) == number.upper()


@pytest.mark.parametrize(
    ("id_type", "number"), [("passport", "E12 345"), ("military_officer", "第2008456"), ("passport", "坏")]
)
def test_malformed_other_ids_are_refused(id_type: str, number: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        domain.normalise_other_id(id_type, number)
    assert raised.value.code == "registry.id_number_format"


def test_id_number_errors_never_repeat_the_number() -> None:
    with pytest.raises(InvalidInput) as raised:
        domain.parse_resident_id("110105194912310021", today=TODAY)
    assert "110105194912310021" not in str(raised.value) + raised.value.message_zh


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张小三", "张**三"), ("欧阳小明", "欧**明"), ("王", "王")]
)
def test_names_are_masked_like_chsi(name: str, masked: str) -> None:
    assert domain.mask_name(name) == masked


# ---- vocabularies and terms -------------------------------------------------------------------


def test_vocabularies_take_codes_or_chinese_labels() -> None:
    assert domain.normalise_code("level", "专科起点本科") == "bachelor_from_junior_college"
    assert domain.normalise_code("category", "中高衔接") == "secondary_vocational_bridge"
    assert domain.normalise_code("study_form", "part_time") == "part_time"
    with pytest.raises(InvalidInput) as raised:
        domain.normalise_code("category", "火星教育")
    assert raised.value.code == "registry.category_unknown"


def test_terms_order_by_year_then_spring_before_autumn() -> None:
    terms = ["2022春", "2021-autumn", "2021春", "2020秋"]
    assert sorted(terms, key=domain.term_key) == ["2020秋", "2021春", "2021-autumn", "2022春"]


def test_implausible_enrolment_terms_are_refused() -> None:
    domain.check_term_plausible("2021-spring", birth_date=date(1990, 1, 1), today=TODAY)
    domain.check_term_plausible("2027-autumn", birth_date=None, today=TODAY)  # next intake
    for term, birth in (("2028-spring", None), ("1995-autumn", date(1990, 1, 1))):
        with pytest.raises(InvalidInput) as raised:
            domain.check_term_plausible(term, birth_date=birth, today=TODAY)
        assert raised.value.code == "registry.enrolment_term_out_of_range"


# ---- status changes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "change", "after"),
    [
        ("enrolled", "suspend", "suspended"),
        ("suspended", "resume", "enrolled"),
        ("enrolled", "change_major", "enrolled"),
        ("suspended", "transfer_centre", "suspended"),
        ("suspended", "withdraw", "withdrawn"),
        ("enrolled", "cancel", "cancelled"),
    ],
)
def test_legal_status_changes(current: str, change: str, after: str) -> None:
    assert domain.apply_change(current, change) == after


@pytest.mark.parametrize(
    ("current", "change"),
    [
        ("enrolled", "resume"),
        ("suspended", "suspend"),
        ("withdrawn", "resume"),
        ("cancelled", "change_major"),
        ("graduated", "withdraw"),
        ("graduated", "transfer_centre"),
    ],
)
def test_illegal_status_changes_get_a_stable_code(current: str, change: str) -> None:
    with pytest.raises(Conflict) as raised:
        domain.apply_change(current, change)
    assert raised.value.code == "registry.illegal_status_change"


def test_a_status_set_on_the_record_maps_to_its_typed_change() -> None:
    assert domain.change_for_status("enrolled", "suspended") == "suspend"
    assert domain.change_for_status("suspended", "enrolled") == "resume"
    assert domain.change_for_status("enrolled", "withdrawn") == "withdraw"
    with pytest.raises(Conflict) as raised:
        domain.change_for_status("withdrawn", "enrolled")
    assert raised.value.code == "registry.illegal_status_change"
    with pytest.raises(Conflict) as raised:
        domain.change_for_status("enrolled", "graduated")
    assert raised.value.code == "registry.status_graduated_reserved"


# ---- prior-education review -------------------------------------------------------------------


def test_flag_sets_a_three_month_deadline_and_blocks_course_selection() -> None:
    step = review.flag("none", level="bachelor_from_junior_college", notice_date=date(2026, 11, 30))
    assert (step.state, step.deadline) == ("pending", date(2027, 2, 28))  # month end clamps
    assert not review.course_selection_allowed(step.state, "enrolled")
    assert review.course_selection_allowed("passed", "enrolled")
    assert not review.course_selection_allowed("none", "suspended")
    with pytest.raises(Conflict) as raised:
        review.flag("none", level="junior_college", notice_date=TODAY)
    assert raised.value.code == "registry.prior_education_not_applicable"
    with pytest.raises(Conflict):
        review.flag("pending", level="bachelor_from_junior_college", notice_date=TODAY)


@pytest.mark.parametrize(
    ("year", "abroad", "required"),
    [
        (2002, False, "registration_record"),
        (2001, False, "credential_report"),
        (1998, True, "overseas_credential"),
    ],
)
def test_first_review_evidence_depends_on_the_prior_diploma(year: int, abroad: bool, required: str) -> None:
    assert review.required_first_review_evidence(prior_graduation_year=year, abroad=abroad) == required
    step = review.first_review(
        "pending",
        passed=True,
        evidence_types=[required],
        prior_graduation_year=year,
        abroad=abroad,
        deadline=None,
    )
    assert step.state == "passed"
    wrong = "credential_report" if required != "credential_report" else "registration_record"
    with pytest.raises(InvalidInput) as raised:
        review.first_review(
            "pending",
            passed=True,
            evidence_types=[wrong],
            prior_graduation_year=year,
            abroad=abroad,
            deadline=None,
        )
    assert raised.value.code == "registry.prior_education_evidence_type"


def test_first_review_takes_exactly_one_document() -> None:
    with pytest.raises(InvalidInput):
        review.first_review(
            "pending",
            passed=True,
            evidence_types=["registration_record", "registration_record"],
            prior_graduation_year=2010,
            abroad=False,
            deadline=None,
        )


def test_failed_first_review_goes_to_the_province_and_keeps_the_deadline() -> None:
    deadline = date(2027, 1, 1)
    step = review.first_review(
        "pending",
        passed=False,
        evidence_types=["registration_record"],
        prior_graduation_year=2010,
        abroad=False,
        deadline=deadline,
    )
    assert (step.state, step.outcome, step.deadline) == ("second_review", "second_review_required", deadline)


def test_second_review_needs_every_listed_document() -> None:
    all_docs = ["prior_diploma", "id_card", "identity_consistency_proof"]
    assert review.second_review("second_review", passed=False, evidence_types=all_docs).state == "failed"
    with pytest.raises(InvalidInput) as raised:
        review.second_review("second_review", passed=True, evidence_types=["prior_diploma", "id_card"])
    assert raised.value.extra["missing_evidence_types"] == ["identity_consistency_proof"]
    with pytest.raises(Conflict):
        review.second_review("pending", passed=True, evidence_types=all_docs)


def test_overdue_means_past_the_deadline_while_still_open() -> None:
    assert review.is_overdue("pending", date(2026, 1, 1), TODAY)
    assert not review.is_overdue("passed", date(2026, 1, 1), TODAY)
    assert not review.is_overdue("pending", date(2027, 1, 1), TODAY)


# ---- evidence and the tree ----------------------------------------------------------------------


def test_evidence_is_recognised_by_its_bytes() -> None:
    assert check_evidence_media_type(sniff(b"%PDF-1.7 ...")) == "application/pdf"
    assert check_evidence_media_type(sniff(b"\x89PNG\r\n\x1a\n...")) == "image/png"
    assert check_evidence_media_type(sniff(b"\xff\xd8\xff\xe0...")) == "image/jpeg"
    with pytest.raises(UnsupportedMediaType):
        check_evidence_media_type(sniff(b"GIF89a"))
    with pytest.raises(UnsupportedMediaType):  # a zip is a roster, never evidence
        check_evidence_media_type(sniff(b"PK\x03\x04..."))


def test_the_tree_has_the_university_at_the_root() -> None:
    org.check_placement(
        code="5135701",
        kind="learning_centre",
        parent_code="51357",
        parent_kind="university",
        school_code="51357",
    )
    org.check_placement(
        code="51357", kind="university", parent_code=None, parent_kind=None, school_code="51357"
    )
    for kwargs, code in (
        (
            {"code": "B1", "kind": "branch", "parent_code": "C1", "parent_kind": "learning_centre"},
            "registry.org_parent_kind",
        ),
        (
            {"code": "C1", "kind": "learning_centre", "parent_code": "X", "parent_kind": None},
            "registry.org_parent_not_found",
        ),
        (
            {"code": "51357", "kind": "branch", "parent_code": "51357", "parent_kind": "university"},
            "registry.org_root",
        ),
        (
            {"code": "99999", "kind": "university", "parent_code": None, "parent_kind": None},
            "registry.org_root",
        ),
    ):
        with pytest.raises(InvalidInput) as raised:
            org.check_placement(school_code="51357", **kwargs)
        assert raised.value.code == code
