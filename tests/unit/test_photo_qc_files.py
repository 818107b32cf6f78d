import pytest

from gradops_photo import domain
from gradops_shared.errors import Conflict
from tests.factories import jpeg, png

PLATFORM = domain.PROFILES["ouc-platform"]


def _check(report: domain.QcReport, code: str) -> domain.Check:
    return next(c for c in report.checks if c.code == code)


def test_a_right_sized_rgb_jpeg_passes_the_file_checks() -> None:
    report = domain.run_qc(jpeg(), PLATFORM)
    assert report.passed
    assert {c.code for c in report.checks} == {
        "photo.format",
        "photo.colour_mode",
        "photo.dimensions",
        "photo.file_size",
    }


def test_png_renamed_jpg_is_judged_by_its_bytes() -> None:
    report = domain.run_qc(png(), PLATFORM)
    assert not report.passed
    assert not report.decodable_jpeg
    assert _check(report, "photo.format").measured == "PNG"


def test_truncated_jpeg_fails_format() -> None:
    data = jpeg()
    report = domain.run_qc(data[: len(data) // 2], PLATFORM)
    assert not _check(report, "photo.format").passed


def test_wrong_size_fails_dimensions_with_a_hint() -> None:
    check = _check(domain.run_qc(jpeg(600, 800), PLATFORM), "photo.dimensions")
    assert not check.passed
    assert check.measured == "600x800"
    assert check.hint is not None and "480" in check.hint


def test_greyscale_fails_colour_mode() -> None:
    report = domain.run_qc(jpeg(mode="L"), PLATFORM)
    assert not _check(report, "photo.colour_mode").passed
    assert not report.passed


def test_file_size_window_follows_the_profile() -> None:
    small = jpeg()  # a flat colour compresses to a few KB
    assert _check(domain.run_qc(small, PLATFORM), "photo.file_size").passed
    assert not _check(domain.run_qc(small, domain.PROFILES["chsi-2017"]), "photo.file_size").passed


def test_only_pending_photos_can_be_decided() -> None:
    assert domain.transition("pending_review", "approved") == "approved"
    with pytest.raises(Conflict) as raised:
        domain.transition("approved", "rejected")
    assert raised.value.code == "photo.illegal_transition"
    with pytest.raises(Conflict):
        domain.transition("auto_rejected", "approved")
