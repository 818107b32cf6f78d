"""照片标准化: from a studio photo to the profile's exact deliverable, or a clear reason why not.

Steps: find the one face; level a small roll (rotation about the eyes); choose a 3:4 crop so the face
width, eye line and head top land inside the profile's bands; resize to 480×640; encode as sRGB 8-bit
baseline JPEG at 300 dpi with the quality found by search so the file lands in the KB window. Never
pads bytes, never goes below the profile's minimum quality, never touches the face or the background
(no retouching, no background replacement: no profile here allows it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from gradops_photo.qc.decode import Decoded, UnreadableImage, decode, is_colourless
from gradops_photo.qc.face import Face, detect_faces
from gradops_photo.qc.measure import Subject
from gradops_photo.qc.profiles import Profile

MAX_QUALITY = 95  # above this libjpeg gains bytes, not detail


@dataclass
class Standardised:
    fixed: bool
    data: bytes | None = None
    quality: int | None = None
    subsampling: str | None = None
    steps: list[str] = field(default_factory=list)
    reason_zh: str | None = None
    reason_en: str | None = None
    width: int | None = None
    height: int | None = None
    dpi: int | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "fixed": self.fixed,
            "bytes": None if self.data is None else len(self.data),
            "quality": self.quality,
            "subsampling": self.subsampling,
            "steps": self.steps,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


class CannotStandardise(Exception):
    def __init__(self, reason_en: str, reason_zh: str) -> None:
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_zh = reason_zh


def standardise(data: bytes, profile: Profile) -> Standardised:
    steps: list[str] = []
    try:
        decoded = decode(data, profile.pixel_budget)
        _refuse_lost_detail(decoded, profile)
        rgb, face = _level(decoded, profile, steps)
        crop = _choose_crop(rgb, face, decoded, profile)
        steps.append(f"crop {crop[2] - crop[0]:.0f}x{crop[3] - crop[1]:.0f} at ({crop[0]:.0f},{crop[1]:.0f})")
        frame = _crop_resize(rgb, crop, profile)
        steps.append(f"resize to {profile.width}x{profile.height}")
        encoded, quality, subsampling = encode_in_window(frame, profile)
        steps.append(f"JPEG quality {quality}, {subsampling}, {profile.dpi} dpi, {len(encoded)} bytes")
    except UnreadableImage:
        return Standardised(
            False,
            steps=steps,
            reason_en="The file is not a readable image.",
            reason_zh="文件不是可读取的图片",
        )
    except CannotStandardise as exc:
        return Standardised(False, steps=steps, reason_en=exc.reason_en, reason_zh=exc.reason_zh)
    return Standardised(
        True,
        encoded,
        quality,
        subsampling,
        steps,
        width=profile.width,
        height=profile.height,
        dpi=profile.dpi,
    )


def _refuse_lost_detail(decoded: Decoded, profile: Profile) -> None:
    """Re-encoding cannot bring back what a heavy compression or a greyscale copy threw away; doing it
    anyway would only hide the damage from the checks."""
    if decoded.quality is not None and decoded.quality < profile.min_jpeg_quality:
        raise CannotStandardise(
            f"The photo was compressed at quality ≈ {decoded.quality}: the lost detail cannot be restored.",
            f"照片已按质量约 {decoded.quality} 压缩，丢失的细节无法恢复，请提供原始照片",
        )
    if is_colourless(decoded.rgb):
        raise CannotStandardise(
            "The photo has no colour (greyscale): colour cannot be added back.",
            "照片为灰度（无彩色），无法恢复颜色，请提供彩色原片",
        )


def _level(decoded: Decoded, profile: Profile, steps: list[str]) -> tuple[np.ndarray, Face]:
    faces = detect_faces(decoded.rgb)
    if not faces:
        raise CannotStandardise("No face was found: nothing to frame.", "未检测到人脸，无法标准化")
    if len(faces) > 1:
        raise CannotStandardise(
            f"{len(faces)} faces were found: the photo must show one person.",
            f"检测到 {len(faces)} 张人脸，照片中只能有本人",
        )
    face = faces[0]
    roll = face.roll_degrees
    if abs(roll) > profile.max_roll_correction:
        raise CannotStandardise(
            f"The head is tilted {roll:.0f}°: more than the {profile.max_roll_correction:g}° "
            "that may be levelled.",
            f"头部倾斜 {roll:.0f}°，超过可自动校正的 {profile.max_roll_correction:g}°，请重新拍摄",
        )
    if abs(roll) < 0.5:
        return decoded.rgb, face
    centre = face.eye_mid
    matrix = cv2.getRotationMatrix2D(centre, roll, 1.0)
    height, width = decoded.rgb.shape[:2]
    # The corners the rotation uncovers copy the nearest edge (background): a fraction of a degree's
    # sliver, never the face.
    rotated = cv2.warpAffine(
        decoded.rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )

    def moved(point: tuple[float, float]) -> tuple[float, float]:
        x, y = point
        return (
            float(matrix[0, 0] * x + matrix[0, 1] * y + matrix[0, 2]),
            float(matrix[1, 0] * x + matrix[1, 1] * y + matrix[1, 2]),
        )

    steps.append(f"level roll {roll:.1f}°")
    return rotated, Face(
        face.box, face.score, moved(face.eye_left), moved(face.eye_right), moved(face.nose), None
    )


def _choose_crop(
    rgb: np.ndarray, face: Face, decoded: Decoded, profile: Profile
) -> tuple[float, float, float, float]:
    """The 3:4 crop (left, top, right, bottom) whose face width, eye line and head top fit the profile,
    preferring the middle of each band; inside the picture (we never add background)."""
    height, width = rgb.shape[:2]
    subject = Subject(b"", Decoded(rgb, "JPEG", "RGB", None, None, False), profile, faces=[face])
    eye_x, eye_y = (face.eye_mid[0] + face.nose[0]) / 2, face.eye_mid[1]
    head_top = subject.head_top if subject.head_top is not None else eye_y - 2.0 * face.eye_distance
    head_above_eyes = eye_y - head_top
    low, high = profile.face_width
    middle_first = sorted(range(low + 10, high - 9, 5), key=lambda w: abs(w - (low + high) / 2))
    eye_low, eye_high = profile.eye_line
    top_low, top_high = profile.head_top
    too_small = outside = False
    for target_width in middle_first:
        scale = target_width / face.width
        if scale > profile.max_upscale:
            too_small = True
            continue
        eye_candidates = sorted(
            range(eye_low + 8, eye_high - 7, 4), key=lambda e: abs(e - (eye_low + eye_high) / 2)
        )
        for eye_target in eye_candidates:
            top_out = eye_target - head_above_eyes * scale
            if not top_low + 4 <= top_out <= top_high - 4:
                continue
            left = eye_x - (profile.width / 2) / scale
            top = eye_y - eye_target / scale
            right, bottom = left + profile.width / scale, top + profile.height / scale
            if left < -0.5 or top < -0.5 or right > width + 0.5 or bottom > height + 0.5:
                outside = True
                continue
            return (max(0.0, left), max(0.0, top), min(float(width), right), min(float(height), bottom))
    if too_small and not outside:
        needed = low / face.width
        raise CannotStandardise(
            f"The face is {face.width:.0f} px wide: it would need {needed:.1f}× enlargement "
            f"(at most {profile.max_upscale:g}×).",
            f"人脸仅 {face.width:.0f} 像素宽，需放大 {needed:.1f} 倍"
            f"（上限 {profile.max_upscale:g} 倍），请靠近拍摄",
        )
    raise CannotStandardise(
        "The head is too close to an edge (or too large) to frame it without adding background.",
        "头部离照片边缘太近（或过大），无法在不添加背景的情况下裁剪，请留出更多背景重新拍摄",
    )


def _crop_resize(rgb: np.ndarray, crop: tuple[float, float, float, float], profile: Profile) -> np.ndarray:
    left, top, right, bottom = crop
    scale_x = profile.width / (right - left)
    scale_y = profile.height / (bottom - top)
    if scale_x <= 1.0:
        region = rgb[round(top) : round(bottom), round(left) : round(right)]
        out: np.ndarray = cv2.resize(region, (profile.width, profile.height), interpolation=cv2.INTER_AREA)
        return out
    matrix = np.array([[scale_x, 0, -left * scale_x], [0, scale_y, -top * scale_y]], dtype=np.float64)
    out = cv2.warpAffine(
        rgb, matrix, (profile.width, profile.height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return out


def _encode(image: Image.Image, quality: int, subsampling: str, dpi: int) -> bytes:
    buffer = io.BytesIO()
    # Baseline (not progressive), no EXIF, no ICC: plain sRGB as the national spec's validators expect.
    image.save(
        buffer,
        "JPEG",
        quality=quality,
        subsampling=subsampling,
        dpi=(dpi, dpi),
        optimize=False,
        progressive=False,
    )
    return buffer.getvalue()


def encode_in_window(frame: np.ndarray, profile: Profile) -> tuple[bytes, int, str]:
    """The highest quality whose file fits under max KB (binary search), never below the minimum
    quality; if even the best quality stays under min KB, 4:4:4 chroma buys real bytes; padding never."""
    image = Image.fromarray(frame, "RGB")
    max_bytes = int(profile.max_kb * 1024)
    min_bytes = int((profile.min_kb or 0) * 1024)
    for subsampling in ("4:2:0", "4:4:4"):
        low, high, best = profile.min_jpeg_quality, MAX_QUALITY, None
        while low <= high:
            middle = (low + high) // 2
            data = _encode(image, middle, subsampling, profile.dpi)
            if len(data) <= max_bytes:
                best, low = (data, middle), middle + 1
            else:
                high = middle - 1
        if best is None:
            raise CannotStandardise(
                f"Even at the minimum quality {profile.min_jpeg_quality} "
                f"the photo exceeds {profile.max_kb:g} KB.",
                f"即使以最低质量 {profile.min_jpeg_quality} 压缩，照片仍超过 {profile.max_kb:g} KB",
            )
        if len(best[0]) >= min_bytes:
            return best[0], best[1], subsampling
    raise CannotStandardise(
        f"The picture is too plain to reach {profile.min_kb:g} KB "
        "without padding bytes (which validators reject).",
        f"照片内容过于简单，不填充字节无法达到 {profile.min_kb:g} KB（填充字节会被校验拒绝）",
    )
