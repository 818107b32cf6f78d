"""Every fixture of the evaluation set fails exactly its expected codes, and the report explains itself."""

from __future__ import annotations

import pytest

from gradops_photo import qc
from gradops_photo.qc.report import CHECK_CODES
from tests.photo.fixtures import FIXTURES, Fixture


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_fails_exactly_its_expected_codes(fixture: Fixture) -> None:
    report = qc.run_checks(fixture.data, qc.PROFILES[fixture.profile])
    failed = {c.code for c in report.checks if not c.passed}
    assert failed == fixture.engine_fails, {c.code: c.measured for c in report.checks if c.code in failed}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_every_check_explains_itself(fixture: Fixture) -> None:
    report = qc.run_checks(fixture.data, qc.PROFILES[fixture.profile])
    codes = [c.code for c in report.checks]
    assert codes == sorted(codes, key=CHECK_CODES.index), "checks come in the documented order"
    assert len(set(codes)) == len(codes)
    for check in report.checks:
        assert check.severity in ("error", "warning", "review")
        assert check.message_zh and check.message_en
        if check.passed:
            assert check.hint is None and check.hint_en is None
        else:
            assert check.hint and check.hint_en, f"{check.code} failed without telling what to do"
    face_checks = {"photo.face_size", "photo.face_position", "photo.head_pose", "photo.eyes_open"}
    face_count = report.check("photo.face_count")
    assert (face_checks <= set(codes)) == (face_count is not None and face_count.passed)


def test_the_position_hint_says_which_way_and_how_far() -> None:
    fixture = next(f for f in FIXTURES if f.name == "head_too_high")
    check = qc.run_checks(fixture.data, qc.PROFILES[fixture.profile]).check("photo.face_position")
    assert check is not None and not check.passed
    assert check.measured["eye_line_px"] < 200
    assert check.hint is not None and "眼睛偏上" in check.hint and "请下移" in check.hint
    assert check.hint_en is not None and "move the eyes down" in check.hint_en


def test_tilt_is_measured_in_degrees_and_fixable_when_small() -> None:
    by_name = {f.name: f for f in FIXTURES}
    small = qc.run_checks(by_name["rotated_11"].data, qc.PROFILES["ouc-platform"]).check("photo.head_pose")
    large = qc.run_checks(by_name["rotated_20"].data, qc.PROFILES["ouc-platform"]).check("photo.head_pose")
    assert small is not None and large is not None
    assert 9 <= abs(small.measured["roll_deg"]) <= 13 and small.fixable and small.severity == "error"
    assert abs(large.measured["roll_deg"]) >= 17 and not large.fixable
