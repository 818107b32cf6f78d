"""Background checks, on the pixels above and beside the head (`Subject.background_regions`)."""

from __future__ import annotations

import cv2
import numpy as np

from gradops_photo.qc.checks.result import result
from gradops_photo.qc.measure import Subject, delta_e, rgb_to_lab
from gradops_photo.qc.report import Check


def check_background_colour(s: Subject) -> Check:
    colour = s.background_colour
    allowed = [c.name for c in s.profile.backgrounds]
    expected = {"colours": allowed, "max_delta_e": s.profile.background_max_delta_e}
    if colour is None:
        return result(
            "photo.background_colour",
            False,
            None,
            expected,
            severity="review",
            fail_zh="看不到足够的背景，无法判断背景颜色",
            fail_en="Too little background is visible to judge its colour",
            hint_zh="头部周围请留出背景空间",
            hint_en="leave background space around the head",
        )
    distances = {c.name: float(delta_e(colour, rgb_to_lab(c.rgb))) for c in s.profile.backgrounds}
    nearest = min(distances, key=lambda name: distances[name])
    rgb = _lab_to_rgb(colour)
    passed = distances[nearest] <= s.profile.background_max_delta_e
    return result(
        "photo.background_colour",
        passed,
        {"rgb": rgb, "nearest": nearest, "delta_e": round(distances[nearest], 1)},
        expected,
        fixable=s.profile.allow_background_replacement,
        fail_zh=f"背景颜色不符合要求（实测 RGB{tuple(rgb)}）",
        fail_en=f"The background colour is not allowed (measured RGB{tuple(rgb)})",
        hint_zh="请在" + "、".join(_COLOUR_ZH.get(n, n) for n in allowed) + "背景前重新拍摄",
        hint_en="take the photo again in front of a "
        + " / ".join(n.replace("_", " ") for n in allowed)
        + " background",
    )


_COLOUR_ZH = {"light_blue": "浅蓝色", "studio_blue": "蓝色", "white": "白色", "light_grey": "浅灰色"}


def _lab_to_rgb(lab: np.ndarray) -> list[int]:
    pixel = cv2.cvtColor(lab.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_LAB2RGB)[0, 0]
    return [round(float(v) * 255) for v in np.clip(pixel, 0, 1)]


def check_background_uniformity(s: Subject) -> Check:
    p = s.profile
    colour = s.background_colour
    expected = {
        "max_std": p.background_max_std,
        "max_gradient": p.background_max_gradient,
        "max_outliers": p.background_max_outliers,
    }
    if colour is None:
        return result(
            "photo.background_uniformity",
            False,
            None,
            expected,
            severity="review",
            fail_zh="看不到足够的背景，无法判断是否均匀",
            fail_en="Too little background is visible to judge its uniformity",
            hint_zh="头部周围请留出背景空间",
            hint_en="leave background space around the head",
        )
    pixels = s.background_pixels
    std = float(pixels[:, 0].std())
    outliers = float((delta_e(pixels, colour) > 20.0).mean())
    levels = [float(np.median(b.of(s.lab)[..., 0])) for b in s.background_regions.values() if not b.empty]
    gradient = max(levels) - min(levels) if levels else 0.0
    problems = []
    if std > p.background_max_std:
        problems.append(("明暗不均或有阴影", "uneven or shadowed"))
    if gradient > p.background_max_gradient:
        problems.append(("有渐变", "a gradient"))
    if outliers > p.background_max_outliers:
        problems.append(("有杂物或褶皱", "objects or creases"))
    return result(
        "photo.background_uniformity",
        not problems,
        {"std": round(std, 1), "gradient": round(gradient, 1), "outliers": round(outliers, 3)},
        expected,
        fail_zh="背景不均匀：" + "、".join(zh for zh, _ in problems),
        fail_en="The background is not uniform: " + ", ".join(en for _, en in problems),
        hint_zh="使用平整、无阴影、无杂物的纯色背景，人与背景保持距离并均匀布光",
        hint_en="use a flat, plain background with no shadows or objects; "
        "stand away from it and light it evenly",
    )
