"""Picture quality on the face: sharpness, exposure, and clothes against the background."""

from __future__ import annotations

import cv2
import numpy as np

from gradops_photo.qc.checks.result import result
from gradops_photo.qc.face import Face
from gradops_photo.qc.measure import Box, Subject, delta_e
from gradops_photo.qc.report import Check


def check_sharpness(s: Subject, face: Face) -> Check:
    """Variance of the Laplacian over the face, resized so the eyes are 100 px apart and normalised to
    one contrast: independent of the photo's size and exposure."""
    region = s.face_box(face).of(s.gray).astype(np.float32)
    # Same contrast for every face (std 40), so a dark or flat-lit face is not mistaken for a blurred one.
    region = (region - region.mean()) * (40.0 / max(4.0, float(region.std())))
    factor = 100.0 / face.eye_distance
    resized = cv2.resize(
        region, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    )
    sharpness = float(cv2.Laplacian(resized, cv2.CV_32F).var())
    passed = sharpness >= s.profile.min_sharpness
    return result(
        "photo.sharpness",
        passed,
        {"laplacian_variance": round(sharpness, 1)},
        {"min_laplacian_variance": s.profile.min_sharpness},
        fail_zh="照片模糊、不清晰",
        fail_en="The photo is blurred",
        hint_zh="请对焦在眼睛上、保持相机稳定后重新拍摄",
        hint_en="focus on the eyes and hold the camera steady, then take it again",
    )


def check_exposure(s: Subject, face: Face) -> Check:
    p = s.profile
    region = s.face_box(face)
    lightness = region.of(s.lab)[..., 0]
    mean = float(lightness.mean())
    clipped = float(((lightness < 3) | (lightness > 97)).mean())
    split = round(face.nose[0]) - region.left
    left, right = float(lightness[:, :split].mean()), float(lightness[:, split:].mean())
    imbalance = abs(left - right) / max(1.0, (left + right) / 2)
    problems = []
    if mean < p.face_brightness[0]:
        problems.append(
            (
                "面部过暗",
                "the face is too dark",
                "增加正面光线，避免逆光",
                "add front light; do not shoot against the light",
            )
        )
    if mean > p.face_brightness[1]:
        problems.append(
            ("面部过亮", "the face is too bright", "减弱光线或降低曝光", "reduce the light or the exposure")
        )
    if clipped > p.max_clipped:
        problems.append(
            (
                "面部高光或暗部溢出",
                "highlights or shadows are clipped",
                "降低曝光、避免强光直射",
                "lower the exposure; avoid hard direct light",
            )
        )
    if imbalance > p.max_light_imbalance:
        problems.append(
            ("左右脸光线不均", "uneven light left and right", "两侧灯光对称布置", "light both sides evenly")
        )
    return result(
        "photo.exposure",
        not problems,
        {
            "face_lightness": round(mean, 1),
            "clipped": round(clipped, 3),
            "left_right_imbalance": round(imbalance, 2),
        },
        {
            "face_lightness": list(p.face_brightness),
            "max_clipped": p.max_clipped,
            "max_left_right_imbalance": p.max_light_imbalance,
        },
        fail_zh="曝光不当：" + "、".join(x[0] for x in problems),
        fail_en="Exposure: " + ", ".join(x[1] for x in problems),
        hint_zh="；".join(x[2] for x in problems),
        hint_en="; ".join(x[3] for x in problems),
    )


def check_clothing_contrast(s: Subject, face: Face) -> Check:
    """Clothes in the background's colour family merge with it ("black edge" in vendor tools)."""
    d = face.eye_distance
    cx, eye_y = face.eye_mid
    region = Box(round(cx - 1.5 * d), round(eye_y + 2.4 * d), round(cx + 1.5 * d), s.height).clip(
        s.width, s.height
    )
    colour = s.background_colour
    expected = {"max_share_like_background": s.profile.max_clothing_like_background}
    if region.empty or region.bottom - region.top < 0.3 * d or colour is None:
        return result(
            "photo.clothing_contrast", True, None, expected, fail_zh="", fail_en="",
            ok_zh="看不到衣着，未检查", ok_en="No clothing visible; not checked",
        )  # fmt: skip
    share = float((delta_e(region.of(s.lab), colour) < 18.0).mean())
    passed = share <= s.profile.max_clothing_like_background
    return result(
        "photo.clothing_contrast",
        passed,
        {"share_like_background": round(share, 2)},
        expected,
        fail_zh="衣服颜色与背景相近",
        fail_en="The clothes are in the background's colour family",
        hint_zh="请换与背景颜色反差明显的衣服（蓝底不要穿蓝色衣服）",
        hint_en="wear clothes that contrast with the background (no blue clothes on blue)",
    )
