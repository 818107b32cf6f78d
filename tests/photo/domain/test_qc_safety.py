"""Decompression bombs are refused from the header; admission comparisons catch reuse and impostors."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from gradops_photo import qc
from gradops_photo.qc.decode import MAX_PIXELS, inspect_header
from tests.factories import graduation_photo, jpeg
from tests.photo.fixtures import admission_photo

PLATFORM = qc.PROFILES["ouc-platform"]


def with_claimed_size(data: bytes, width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) claims another size: a few KB that would decode to a
    huge bitmap."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


@pytest.mark.parametrize(
    ("width", "height"),
    [(10_000, 9_000), (7_000, 6_000), (30_000, 100), (480, 50_000)],
)
def test_bombs_and_absurd_headers_are_refused_before_decoding(
    width: int, height: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Refused from the header: Pillow's decoder is never reached (asserted, not timed).
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def counting_load(image: ImageFile.ImageFile) -> Any:
        decoded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    bomb = with_claimed_size(jpeg(), width, height)
    with pytest.raises(qc.ImageRefused) as raised:
        qc.run_checks(bomb, PLATFORM)
    assert decoded == [], "refused from the header, not after decoding"
    assert raised.value.reason_zh and raised.value.reason_en


def test_the_limit_is_forty_megapixels() -> None:
    assert MAX_PIXELS == 40_000_000
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS
    header = inspect_header(with_claimed_size(jpeg(), 6_000, 6_000))  # 36 MP: allowed
    assert header is not None and (header.width, header.height) == (6_000, 6_000)


@pytest.mark.parametrize(("width", "height"), [(4_000, 3_000), (0, 640)])
def test_a_header_the_data_cannot_fill_is_a_broken_file_not_a_crash(width: int, height: int) -> None:
    report = qc.run_checks(with_claimed_size(jpeg(), width, height), PLATFORM)
    assert report.rejected and not report.passed


@pytest.mark.parametrize("garbage", [b"", b"\xff\xd8\xff", b"\x00" * 5000, b"GIF89a" + b"\x01" * 100])
def test_garbage_never_raises(garbage: bytes) -> None:
    report = qc.run_checks(garbage, PLATFORM)
    assert not report.passed and not report.decodable_jpeg


def test_the_same_picture_as_the_admission_photo_is_caught_even_re_encoded() -> None:
    report = qc.run_checks(graduation_photo(), PLATFORM, admission_photo(same_picture=True))
    same = report.check("photo.same_as_admission")
    assert same is not None and not same.passed and same.severity == "error"
    assert same.measured["identical_bytes"] is False and same.measured["phash_distance"] <= 6
    identical = qc.run_checks(graduation_photo(), PLATFORM, graduation_photo()).check(
        "photo.same_as_admission"
    )
    assert identical is not None and identical.measured["identical_bytes"] is True and not identical.passed


def test_another_shot_of_the_same_person_matches_and_another_person_does_not() -> None:
    report = qc.run_checks(graduation_photo(), PLATFORM, admission_photo())
    same, match = report.check("photo.same_as_admission"), report.check("photo.face_match")
    assert same is not None and same.passed
    assert match is not None and match.passed and match.measured["distance"] < 0.45
    other = qc.run_checks(graduation_photo(), PLATFORM, admission_photo(person="grace_hopper"))
    mismatch = other.check("photo.face_match")
    assert mismatch is not None and not mismatch.passed and mismatch.measured["distance"] > 0.6
    assert mismatch.severity == "error" and mismatch.hint


def test_an_admission_photo_without_a_face_goes_to_a_human() -> None:
    match = qc.run_checks(graduation_photo(), PLATFORM, jpeg()).check("photo.face_match")
    assert match is not None and not match.passed and match.severity == "review"


def test_an_unreadable_admission_photo_is_an_input_error() -> None:
    with pytest.raises(qc.AdmissionUnreadable):
        qc.run_checks(graduation_photo(), PLATFORM, b"not a picture")


def test_decoding_keeps_the_dpi_and_the_quality() -> None:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(graduation_photo())).save(buffer, "JPEG", quality=75, dpi=(300, 300))
    fmt = qc.run_checks(buffer.getvalue(), PLATFORM).check("photo.format")
    assert fmt is not None and 73 <= fmt.measured["quality"] <= 77


def test_the_non_commercial_68_point_model_is_never_referenced() -> None:
    package = Path(qc.__file__).resolve().parents[1]
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "68_face_landmarks" not in text and "pose_predictor_model_location" not in text, source
