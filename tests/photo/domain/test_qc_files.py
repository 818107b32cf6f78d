"""File-level QC: the bytes decide the format, the profile decides the numbers; and the state machine."""

from __future__ import annotations

import io
from typing import get_args

import pytest
from PIL import Image

from gradops_photo import domain, qc
from gradops_photo.qc.report import CHECK_CODES
from gradops_photo.schemas import CheckCode
from gradops_shared.errors import Conflict
from tests.factories import graduation_photo, jpeg, png

PLATFORM = qc.PROFILES["ouc-platform"]
CHSI = qc.PROFILES["chsi-2017"]


def _check(report: qc.QcReport, code: str) -> qc.Check:
    found = report.check(code)
    assert found is not None, f"{code} missing from {[c.code for c in report.checks]}"
    return found


def test_the_factory_graduation_photo_passes_every_profile_with_every_check() -> None:
    for profile in qc.PROFILES.values():
        report = qc.run_checks(graduation_photo(), profile)
        assert report.passed and not report.rejected, report.failed_codes()
        assert [c.code for c in report.checks] == list(CHECK_CODES[:-2])  # all but the admission pair


def test_a_plain_rectangle_is_a_valid_file_but_not_a_portrait() -> None:
    report = qc.run_checks(jpeg(), PLATFORM)
    assert report.decodable_jpeg
    for code in ("photo.format", "photo.colour_mode", "photo.dimensions", "photo.file_size", "photo.dpi"):
        assert _check(report, code).passed
    face_count = _check(report, "photo.face_count")
    assert not face_count.passed and face_count.measured == 0 and face_count.severity == "error"
    assert report.rejected
    assert report.check("photo.face_size") is None  # face checks need exactly one face


def test_png_renamed_jpg_is_judged_by_its_bytes() -> None:
    report = qc.run_checks(png(), PLATFORM)
    check = _check(report, "photo.format")
    assert not check.passed and check.measured["format"] == "PNG"
    assert not report.decodable_jpeg and report.rejected
    assert check.hint and check.hint_en and "JPEG" in check.hint_en
    assert check.fixable  # a readable PNG becomes a JPEG when standardised


def test_truncated_jpeg_fails_format_and_nothing_else_is_measured() -> None:
    data = graduation_photo()
    report = qc.run_checks(data[: len(data) // 2], PLATFORM)
    assert [c.code for c in report.checks] == ["photo.format", "photo.file_size"]
    assert not _check(report, "photo.format").passed and not _check(report, "photo.format").fixable
    assert "truncated" in _check(report, "photo.format").message_en


def test_over_compression_is_caught_by_the_quality_estimate() -> None:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(graduation_photo())).save(buffer, "JPEG", quality=30, dpi=(300, 300))
    check = _check(qc.run_checks(buffer.getvalue(), PLATFORM), "photo.format")
    assert not check.passed
    assert 25 <= check.measured["quality"] <= 35
    assert check.expected["min_quality"] == 60


def test_wrong_size_fails_dimensions_with_a_hint_and_is_fixable_when_larger() -> None:
    check = _check(qc.run_checks(jpeg(600, 800), PLATFORM), "photo.dimensions")
    assert not check.passed and check.measured == "600x800" and check.fixable
    assert check.hint is not None and "标准化" in check.hint
    small = _check(qc.run_checks(jpeg(300, 400), PLATFORM), "photo.dimensions")
    assert not small.fixable


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_greyscale_and_cmyk_fail_colour_mode(mode: str) -> None:
    check = _check(qc.run_checks(jpeg(mode=mode), PLATFORM), "photo.colour_mode")
    assert not check.passed and check.measured["mode"] == mode


def test_grey_pixels_saved_as_rgb_still_fail_colour_mode() -> None:
    grey = Image.open(io.BytesIO(graduation_photo())).convert("L").convert("RGB")
    buffer = io.BytesIO()
    grey.save(buffer, "JPEG", quality=90, dpi=(300, 300))
    check = _check(qc.run_checks(buffer.getvalue(), PLATFORM), "photo.colour_mode")
    assert not check.passed and check.measured == {"mode": "RGB", "colourless": True}


def test_file_size_window_follows_the_profile() -> None:
    small = jpeg()  # a flat colour compresses to a few KB
    assert _check(qc.run_checks(small, PLATFORM), "photo.file_size").passed
    too_small = _check(qc.run_checks(small, CHSI), "photo.file_size")
    assert not too_small.passed and too_small.expected == {"min_kb": 20, "max_kb": 40}


def test_dpi_is_an_error_only_where_the_profile_requires_it() -> None:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(graduation_photo())).save(buffer, "JPEG", quality=88, dpi=(72, 72))
    data = buffer.getvalue()
    platform, chsi = (
        _check(qc.run_checks(data, PLATFORM), "photo.dpi"),
        _check(qc.run_checks(data, CHSI), "photo.dpi"),
    )
    assert not platform.passed and platform.severity == "warning" and platform.measured == [72, 72]
    assert not chsi.passed and chsi.severity == "error"
    assert qc.run_checks(data, PLATFORM).passed  # a warning does not fail the photo


def test_only_error_failures_reject_and_review_items_go_to_a_human() -> None:
    review = qc.Check("photo.glasses", False, None, None, "review", False, "zh", "en")
    warning = qc.Check("photo.dpi", False, None, None, "warning", True, "zh", "en")
    error = qc.Check("photo.sharpness", False, None, None, "error", False, "zh", "en")
    assert domain.state_after_qc(qc.QcReport("p", (review, warning), True)) == "pending_review"
    assert not qc.QcReport("p", (review,), True).passed  # never a silent pass
    assert qc.QcReport("p", (warning,), True).passed
    assert domain.state_after_qc(qc.QcReport("p", (review, error), True)) == "auto_rejected"


def test_only_pending_photos_can_be_decided() -> None:
    assert domain.transition("pending_review", "approved") == "approved"
    with pytest.raises(Conflict) as raised:
        domain.transition("approved", "rejected")
    assert raised.value.code == "photo.illegal_transition"
    with pytest.raises(Conflict):
        domain.transition("auto_rejected", "approved")


def test_the_check_codes_are_one_list_everywhere() -> None:
    assert get_args(CheckCode) == CHECK_CODES
    assert tuple(qc.CHECK_MEANINGS) == CHECK_CODES
