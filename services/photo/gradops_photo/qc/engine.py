"""Runs every check of a profile on one photo (and its admission photo, when given)."""

from __future__ import annotations

from gradops_photo.qc import checks
from gradops_photo.qc.checks import admission as admission_checks
from gradops_photo.qc.decode import Decoded, UnreadableImage, decode, sniff_format
from gradops_photo.qc.measure import Subject
from gradops_photo.qc.profiles import Profile
from gradops_photo.qc.report import Check, QcReport


class AdmissionUnreadable(Exception):
    """The admission photo sent for comparison is not a picture we can read."""


def _decode_or_none(data: bytes, pixel_budget: int) -> Decoded | None:
    try:
        return decode(data, pixel_budget)
    except UnreadableImage:
        return None


def run_checks(data: bytes, profile: Profile, admission: bytes | None = None) -> QcReport:
    """The full report. Raises `ImageRefused` (decompression bomb) and `AdmissionUnreadable`."""
    decoded = _decode_or_none(data, profile.pixel_budget)
    result = [checks.check_format(sniff_format(data), decoded, profile)]
    if decoded is None:
        result.append(checks.check_file_size(data, profile))
        return QcReport(profile.name, tuple(result), decodable_jpeg=False)
    subject = Subject(data, decoded, profile)
    result += [
        checks.check_colour_mode(decoded),
        checks.check_dimensions(decoded, profile),
        checks.check_file_size(data, profile),
        checks.check_dpi(decoded, profile),
        checks.check_background_colour(subject),
        checks.check_background_uniformity(subject),
        checks.check_face_count(subject),
    ]
    face = subject.face
    if face is not None:
        result += [check(subject, face) for check in checks.FACE_CHECKS]
    if admission is not None:
        result += compare_with_admission(subject, admission)
    return QcReport(profile.name, tuple(result), decodable_jpeg=decoded.format == "JPEG")


def compare_with_admission(subject: Subject, admission: bytes) -> list[Check]:
    admitted = _decode_or_none(admission, subject.profile.pixel_budget)
    if admitted is None:
        raise AdmissionUnreadable("the admission photo cannot be decoded")
    other = Subject(admission, admitted, subject.profile)
    return [admission_checks.same_as_admission(subject, other), admission_checks.face_match(subject, other)]
