"""The pixel budget (a picture larger than the checks need is downscaled once, while decoding) and the
EXIF orientation (a phone photo tagged "rotate 90°" is judged upright)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gradops_photo import qc
from gradops_photo.qc.decode import budget_size, decode, preview_jpeg
from tests.photo.fixtures import BY_NAME, phone_photo, solid_jpeg

PLATFORM = qc.PROFILES["ouc-platform"]


def test_every_profile_has_a_budget_far_above_its_frame() -> None:
    for profile in qc.PROFILES.values():
        assert profile.pixel_budget >= 10 * profile.width * profile.height


def test_a_solid_6000_square_is_decoded_within_the_budget_and_reported_at_its_own_size() -> None:
    data = solid_jpeg(6000, 6000)
    assert len(data) < 1024 * 1024  # small on the wire, 36 MP once decoded: under the 40 MP cap
    decoded = decode(data, PLATFORM.pixel_budget)
    assert decoded.width * decoded.height <= PLATFORM.pixel_budget
    assert (decoded.source_width, decoded.source_height) == (6000, 6000) and decoded.downscaled
    report = qc.run_checks(data, PLATFORM)
    dimensions, fmt = report.check("photo.dimensions"), report.check("photo.format")
    assert dimensions is not None and dimensions.measured == "6000x6000" and not dimensions.passed
    assert fmt is not None and fmt.measured["downscaled_to"] == f"{decoded.width}x{decoded.height}"
    assert report.rejected


@pytest.mark.parametrize(("width", "height"), [(7000, 5000), (2100, 2100), (5000, 7000)])
def test_the_downscale_keeps_the_aspect_and_lands_inside_the_budget(width: int, height: int) -> None:
    decoded = decode(solid_jpeg(width, height, quality=60), 4_000_000)
    assert decoded.width * decoded.height <= 4_000_000
    assert abs(decoded.width / decoded.height - width / height) < 0.01
    target = budget_size(width, height, 4_000_000)
    assert target is not None and target[0] * target[1] <= 4_000_000


def test_a_png_over_the_budget_is_downscaled_too() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), (100, 197, 255)).save(buffer, "PNG")
    decoded = decode(buffer.getvalue(), 1_000_000)
    assert decoded.width * decoded.height <= 1_000_000 and decoded.source_size == (3000, 2000)


def test_a_studio_original_under_the_budget_is_judged_at_full_detail() -> None:
    decoded = decode(BY_NAME["studio_large"].data, PLATFORM.pixel_budget)
    assert not decoded.downscaled and (decoded.width, decoded.height) == (1200, 1600)


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_phone_photo_tagged_rotate_90_is_judged_upright(orientation: int) -> None:
    data = phone_photo(orientation)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (640, 480)  # the bytes are turned; only the tag says so
    report = qc.run_checks(data, PLATFORM)
    failed = set(report.failed_codes("error"))
    assert "photo.dimensions" not in failed and "photo.face_count" not in failed, failed
    assert report.passed
    fmt = report.check("photo.format")
    assert fmt is not None and fmt.measured["exif_orientation"] == orientation


def test_without_the_tag_the_same_turned_photo_fails_as_before() -> None:
    report = qc.run_checks(phone_photo(6, tagged=1), PLATFORM)
    assert {"photo.dimensions", "photo.face_count"} <= set(report.failed_codes("error"))


@pytest.mark.parametrize("orientation", [6, 8])
def test_standardising_a_tagged_photo_writes_it_upright(orientation: int) -> None:
    fixed = qc.standardise(phone_photo(orientation), PLATFORM)
    assert fixed.fixed and fixed.data is not None
    with Image.open(io.BytesIO(fixed.data)) as image:
        assert image.size == (480, 640) and image.getexif().get(0x0112) is None
    assert qc.run_checks(fixed.data, PLATFORM).passed


def test_a_broken_orientation_value_is_ignored_not_fatal() -> None:
    report = qc.run_checks(phone_photo(None, tagged=9), PLATFORM)
    assert report.passed


def test_the_preview_of_a_big_upload_is_small_and_upright() -> None:
    preview = preview_jpeg(solid_jpeg(6000, 4000))
    assert preview is not None and len(preview) < 100 * 1024
    with Image.open(io.BytesIO(preview)) as image:
        assert max(image.size) == 640 and image.size == (640, 427)
    turned = preview_jpeg(phone_photo(6))
    assert turned is not None
    with Image.open(io.BytesIO(turned)) as image:
        assert image.width < image.height
    assert preview_jpeg(b"not a picture") is None
