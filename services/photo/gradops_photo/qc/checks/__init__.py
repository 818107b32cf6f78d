"""Each check is one small function: it measures, compares with the profile and explains in zh and en.

File checks look at the bytes; picture checks at the decoded pixels; face checks at the one face (they
are left out when there is not exactly one face: `photo.face_count` already failed and says why).
"""

from __future__ import annotations

from collections.abc import Callable

from gradops_photo.qc.checks.background import check_background_colour, check_background_uniformity
from gradops_photo.qc.checks.features import (
    check_ears_eyebrows,
    check_eyes_open,
    check_glasses,
    check_mouth_closed,
)
from gradops_photo.qc.checks.files import (
    check_colour_mode,
    check_dimensions,
    check_dpi,
    check_file_size,
    check_format,
)
from gradops_photo.qc.checks.geometry import (
    check_face_count,
    check_face_position,
    check_face_size,
    check_head_pose,
)
from gradops_photo.qc.checks.quality import check_clothing_contrast, check_exposure, check_sharpness
from gradops_photo.qc.checks.result import result
from gradops_photo.qc.face import Face
from gradops_photo.qc.measure import Subject
from gradops_photo.qc.report import Check

FaceCheck = Callable[[Subject, Face], Check]
# In report order (gradops_photo.qc.report.CHECK_CODES).
FACE_CHECKS: tuple[FaceCheck, ...] = (
    check_face_size,
    check_face_position,
    check_head_pose,
    check_eyes_open,
    check_mouth_closed,
    check_sharpness,
    check_exposure,
    check_clothing_contrast,
    check_glasses,
    check_ears_eyebrows,
)

__all__ = [
    "FACE_CHECKS",
    "check_background_colour",
    "check_background_uniformity",
    "check_colour_mode",
    "check_dimensions",
    "check_dpi",
    "check_face_count",
    "check_file_size",
    "check_format",
    "result",
]
