"""照片标准化: exact 480×640, 300 dpi, baseline sRGB JPEG inside the KB window, or a reason why not."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gradops_photo import qc
from gradops_photo.qc.standardise import CannotStandardise, encode_in_window
from tests.photo.fixtures import FIXTURES, Fixture, graduation_rgb

FIXABLE = [f for f in FIXTURES if f.standardise_fixes]
UNFIXABLE = [f for f in FIXTURES if f.standardise_fixes is False]


@pytest.mark.parametrize("profile", list(qc.PROFILES))
@pytest.mark.parametrize("fixture", FIXABLE, ids=lambda f: f.name)
def test_standardised_photo_meets_the_profile_exactly(fixture: Fixture, profile: str) -> None:
    chosen = qc.PROFILES[profile]
    result = qc.standardise(fixture.data, chosen)
    assert result.fixed and result.data is not None, result.reason_en
    image = Image.open(io.BytesIO(result.data))
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (480, 640)
    assert image.info["dpi"] == (300, 300)
    assert not image.info.get("progressive") and not image.info.get("progression")
    kb = len(result.data) / 1024
    assert (chosen.min_kb or 0) <= kb <= chosen.max_kb
    assert result.quality is not None and result.quality >= chosen.min_jpeg_quality
    assert result.data.endswith(b"\xff\xd9"), "nothing after the end-of-image marker: no padding"
    final = qc.run_checks(result.data, chosen)
    assert final.passed, final.failed_codes()


@pytest.mark.parametrize("fixture", UNFIXABLE, ids=lambda f: f.name)
def test_unfixable_photos_say_why_in_both_languages(fixture: Fixture) -> None:
    result = qc.standardise(fixture.data, qc.PROFILES["ouc-platform"])
    assert not result.fixed and result.data is None
    assert result.reason_zh and result.reason_en


def test_the_background_is_never_replaced() -> None:
    white = next(f for f in FIXTURES if f.name == "white_background")
    result = qc.standardise(white.data, qc.PROFILES["ouc-platform"])
    assert result.fixed and result.data is not None
    colour = qc.run_checks(result.data, qc.PROFILES["ouc-platform"]).check("photo.background_colour")
    assert colour is not None and not colour.passed and colour.measured["nearest"] == "light_blue"
    assert colour.measured["rgb"][0] > 240  # still white: no profile here allows replacing it


def test_two_faces_and_closed_eyes_are_reported_not_hidden() -> None:
    two = next(f for f in FIXTURES if f.name == "two_faces")
    assert "2 faces" in (qc.standardise(two.data, qc.PROFILES["ouc-platform"]).reason_en or "")
    closed = next(f for f in FIXTURES if f.name == "eyes_closed")
    result = qc.standardise(closed.data, qc.PROFILES["ouc-platform"])
    assert result.data is not None
    assert "photo.eyes_open" in qc.run_checks(result.data, qc.PROFILES["ouc-platform"]).failed_codes()


def test_a_plain_picture_that_cannot_reach_the_minimum_is_not_padded() -> None:
    flat = graduation_rgb()
    flat[:] = (100, 197, 255)
    with pytest.raises(CannotStandardise) as raised:
        encode_in_window(flat, qc.PROFILES["studio-30-40"])
    assert "padding" in raised.value.reason_en
