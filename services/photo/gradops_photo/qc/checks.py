"""Each check is one small function: it measures, compares with the profile and explains in zh and en.

File checks look at the bytes; picture checks at the decoded pixels; face checks at the one face (they
are left out when there is not exactly one face: `photo.face_count` already failed and says why).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from gradops_photo.qc.decode import Decoded, is_colourless
from gradops_photo.qc.face import Face
from gradops_photo.qc.measure import Box, Subject, delta_e, rgb_to_lab
from gradops_photo.qc.profiles import Profile
from gradops_photo.qc.report import Check, Severity

OK_ZH = "符合要求"
OK_EN = "OK"


def _result(
    code: str,
    passed: bool,
    measured: object,
    expected: object,
    *,
    severity: Severity = "error",
    fixable: bool = False,
    fail_zh: str,
    fail_en: str,
    hint_zh: str | None = None,
    hint_en: str | None = None,
    ok_zh: str = OK_ZH,
    ok_en: str = OK_EN,
) -> Check:
    return Check(
        code=code,
        passed=passed,
        measured=measured,
        expected=expected,
        severity=severity,
        fixable=fixable,
        message_zh=ok_zh if passed else fail_zh,
        message_en=ok_en if passed else fail_en,
        hint=None if passed else hint_zh,
        hint_en=None if passed else hint_en,
    )


# -- file checks ---------------------------------------------------------------------------------------


def check_format(sniffed: str, decoded: Decoded | None, profile: Profile) -> Check:
    """Really a JPEG by its bytes, complete, and not compressed below the profile's quality."""
    if decoded is None or decoded.format != "JPEG":
        broken = sniffed == "JPEG"
        return _result(
            "photo.format",
            False,
            {"format": sniffed, "decodable": decoded is not None},
            {"format": "JPEG", "min_quality": profile.min_jpeg_quality},
            fixable=decoded is not None,  # a readable PNG, WebP, ... becomes a JPEG when standardised
            fail_zh="JPEG 文件不完整或已损坏" if broken else f"文件不是 JPEG（实际为 {sniffed}）",
            fail_en="The JPEG file is truncated or corrupt"
            if broken
            else f"The file is not a JPEG ({sniffed})",
            hint_zh="请重新导出完整的 .jpg 照片" if broken else "请上传 JPEG（.jpg）照片，不要只改扩展名",
            hint_en="export the photo again as a complete .jpg"
            if broken
            else "upload a real JPEG (.jpg); renaming a file does not convert it",
        )
    quality = decoded.quality
    passed = quality is None or quality >= profile.min_jpeg_quality
    return _result(
        "photo.format",
        passed,
        {"format": "JPEG", "decodable": True, "quality": quality, "progressive": decoded.progressive},
        {"format": "JPEG", "min_quality": profile.min_jpeg_quality},
        fail_zh=f"JPEG 压缩过度（质量约 {quality}，要求 ≥ {profile.min_jpeg_quality}）",
        fail_en=f"The JPEG is over-compressed (quality ≈ {quality}, needs ≥ {profile.min_jpeg_quality})",
        hint_zh="请从原始照片重新导出，压缩质量不低于 "
        f"{profile.min_jpeg_quality}（重新压缩已受损的照片无法恢复细节）",
        hint_en=f"export again from the original at quality ≥ {profile.min_jpeg_quality} "
        "(re-saving a damaged photo does not bring the detail back)",
    )


def check_colour_mode(decoded: Decoded) -> Check:
    """24-bit RGB by the file's mode, and colour in the pixels (a grey picture saved as RGB fails too)."""
    colourless = is_colourless(decoded.rgb)
    passed = decoded.mode == "RGB" and not colourless
    return _result(
        "photo.colour_mode",
        passed,
        {"mode": decoded.mode, "colourless": colourless},
        {"mode": "RGB", "bits": 24},
        fixable=decoded.mode in ("CMYK", "P", "YCbCr", "RGBA") and not colourless,
        fail_zh=f"照片须为 24 位 RGB 彩色（实际为 {decoded.mode}{'、无彩色' if colourless else ''}）",
        fail_en=f"The photo must be 24-bit RGB colour (it is {decoded.mode}"
        f"{', colourless' if colourless else ''})",
        hint_zh="请提供彩色原片并另存为 RGB JPEG（不要 CMYK 或灰度）",
        hint_en="use the colour original, saved as an RGB JPEG (not CMYK or greyscale)",
    )


def check_dimensions(decoded: Decoded, profile: Profile) -> Check:
    passed = (decoded.width, decoded.height) == (profile.width, profile.height)
    larger = decoded.width >= profile.width and decoded.height >= profile.height
    return _result(
        "photo.dimensions",
        passed,
        f"{decoded.width}x{decoded.height}",
        f"{profile.width}x{profile.height}",
        fixable=larger,
        fail_zh=f"照片尺寸须为 {profile.width}×{profile.height} 像素"
        f"（实际 {decoded.width}×{decoded.height}）",
        fail_en=f"The photo must be {profile.width}x{profile.height} px"
        f" (it is {decoded.width}x{decoded.height})",
        hint_zh="可使用“照片标准化”自动裁剪缩放" if larger else "照片分辨率不足，请重新拍摄",
        hint_en="use standardise=true to crop and resize it"
        if larger
        else "the photo is too small: take it again",
    )


def check_file_size(data: bytes, profile: Profile) -> Check:
    kb = round(len(data) / 1024, 1)
    too_small = profile.min_kb is not None and kb < profile.min_kb
    too_big = kb > profile.max_kb
    return _result(
        "photo.file_size",
        not (too_small or too_big),
        {"kb": kb, "bytes": len(data)},
        {"min_kb": profile.min_kb, "max_kb": profile.max_kb},
        fixable=True,
        fail_zh=f"文件大小须在 {profile.kb_window} 之间（实际 {kb:g} KB）",
        fail_en=f"The file size must be within {profile.kb_window} (it is {kb:g} KB)",
        hint_zh="请降低压缩率重新导出" if too_small else "请提高压缩率重新导出（或使用照片标准化）",
        hint_en="export with less compression"
        if too_small
        else "export with more compression (or standardise)",
    )


def check_dpi(decoded: Decoded, profile: Profile) -> Check:
    dpi = decoded.dpi
    passed = dpi is not None and all(abs(value - profile.dpi) < 1 for value in dpi)
    return _result(
        "photo.dpi",
        passed,
        None if dpi is None else [round(v) for v in dpi],
        [profile.dpi, profile.dpi],
        severity="error" if profile.dpi_required else "warning",
        fixable=True,
        fail_zh=f"分辨率须为 {profile.dpi} dpi",
        fail_en=f"The resolution must be {profile.dpi} dpi",
        hint_zh=f"导出时将分辨率设为 {profile.dpi} dpi（或使用照片标准化）",
        hint_en=f"set {profile.dpi} dpi when exporting (or standardise)",
    )


# -- background ----------------------------------------------------------------------------------------


def check_background_colour(s: Subject) -> Check:
    colour = s.background_colour
    allowed = [c.name for c in s.profile.backgrounds]
    expected = {"colours": allowed, "max_delta_e": s.profile.background_max_delta_e}
    if colour is None:
        return _result(
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
    return _result(
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
        return _result(
            "photo.background_uniformity",
            False,
            None,
            expected,
            severity="review",
            fail_zh="看不到足够的背景，无法判断是否均匀",
            fail_en="Too little background is visible to judge its uniformity",
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
    return _result(
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


# -- face ----------------------------------------------------------------------------------------------


def check_face_count(s: Subject) -> Check:
    count = len(s.faces)
    return _result(
        "photo.face_count",
        count == 1,
        count,
        1,
        fail_zh="未检测到人脸" if count == 0 else f"检测到 {count} 张人脸",
        fail_en="No face was found" if count == 0 else f"{count} faces were found",
        hint_zh="请正面免冠、露出面部拍摄" if count == 0 else "照片中只能有本人一人",
        hint_en="face the camera with the face uncovered"
        if count == 0
        else "only the student may be in the photo",
    )


def _scale(s: Subject) -> float:
    """Geometry is specified on the 480-wide frame; a larger photo is judged as if resized to it."""
    return float(s.profile.width / s.width)


def check_face_size(s: Subject, face: Face) -> Check:
    low, high = s.profile.face_width
    width = round(face.width * _scale(s))
    passed = low <= width <= high
    return _result(
        "photo.face_size",
        passed,
        {"face_width_px": width},
        {"face_width_px": [low, high]},
        # Standardising enlarges a small face up to max_upscale (face.width is in the photo's own pixels).
        fixable=(width < low and face.width * s.profile.max_upscale >= low) or width > high,
        fail_zh=f"脸宽 {width} 像素，应为 {low}–{high} 像素",
        fail_en=f"The face is {width} px wide; it must be {low}–{high} px",
        hint_zh="人脸太小，请靠近镜头或裁剪得更紧"
        if width < low
        else "人脸太大，请离镜头远一些或留出更多空间",
        hint_en="the face is too small: move closer or crop tighter"
        if width < low
        else "the face is too large: move back or leave more space",
    )


def check_face_position(s: Subject, face: Face) -> Check:
    p = s.profile
    scale = _scale(s)
    eye_line = round(face.eye_mid[1] * scale)
    head_top = None if s.head_top is None else round(s.head_top * scale)
    offset = round((face.eye_mid[0] + face.nose[0]) / 2 * scale - p.width / 2)
    hints_zh: list[str] = []
    hints_en: list[str] = []
    if head_top is None or head_top < p.head_top[0]:
        gap = p.head_top[0] - (head_top or 0)
        hints_zh.append(f"头部偏上 {gap} 像素，请下移")
        hints_en.append(f"move the head down {gap} px")
    elif head_top > p.head_top[1]:
        gap = head_top - p.head_top[1]
        hints_zh.append(f"头顶离上边过远 {gap} 像素，请上移")
        hints_en.append(f"move the head up {gap} px")
    if not p.eye_line[0] <= eye_line <= p.eye_line[1]:
        up = eye_line > p.eye_line[1]
        gap = eye_line - p.eye_line[1] if up else p.eye_line[0] - eye_line
        hints_zh.append(f"眼睛偏{'下' if up else '上'} {gap} 像素，请{'上' if up else '下'}移")
        hints_en.append(f"move the eyes {'up' if up else 'down'} {gap} px")
    if abs(offset) > p.max_centre_offset:
        gap = abs(offset) - p.max_centre_offset
        hints_zh.append(
            f"人像偏{'右' if offset > 0 else '左'}，请{'左' if offset > 0 else '右'}移 {gap} 像素"
        )
        hints_en.append(f"move the face {'left' if offset > 0 else 'right'} {gap} px")
    return _result(
        "photo.face_position",
        not hints_zh,
        {"head_top_px": head_top, "eye_line_px": eye_line, "centre_offset_px": offset},
        {
            "head_top_px": list(p.head_top),
            "eye_line_px": list(p.eye_line),
            "max_centre_offset_px": p.max_centre_offset,
        },
        fixable=True,
        fail_zh="人像位置不符合要求：" + "；".join(hints_zh),
        fail_en="The head is not where the spec puts it: " + "; ".join(hints_en),
        hint_zh="；".join(hints_zh) + "（或使用照片标准化）",
        hint_en="; ".join(hints_en) + " (or standardise)",
    )


def check_head_pose(s: Subject, face: Face) -> Check:
    p = s.profile
    roll, yaw, pitch = face.roll_degrees, face.yaw_degrees, face.pitch_degrees
    roll_bad = abs(roll) > p.max_roll
    turned = abs(yaw) > p.max_yaw or abs(pitch) > p.max_pitch
    # Roll is measured reliably (two eyes); yaw and pitch are estimates from five points: a human decides.
    severity: Severity = "error" if roll_bad else "review"
    problems_zh = (["头部歪斜"] if roll_bad else []) + (["脸部未正对镜头"] if turned else [])
    problems_en = (["the head is tilted"] if roll_bad else []) + (
        ["the face is turned from the camera"] if turned else []
    )
    return _result(
        "photo.head_pose",
        not (roll_bad or turned),
        {"roll_deg": round(roll, 1), "yaw_deg": round(yaw, 1), "pitch_deg": round(pitch, 1)},
        {"max_roll_deg": p.max_roll, "max_yaw_deg": p.max_yaw, "max_pitch_deg": p.max_pitch},
        severity=severity,
        fixable=roll_bad and not turned and abs(roll) <= p.max_roll_correction,
        fail_zh="头部姿态不正：" + "、".join(problems_zh),
        fail_en="Head pose: " + ", ".join(problems_en),
        hint_zh="头部摆正、双眼平视镜头，两耳对称可见",
        hint_en="hold the head straight, eyes level, looking into the lens",
    )


def _dark_height(gray: np.ndarray, reference: float) -> float:
    """Rows of the region holding clearly dark pixels (pupil and iris, or a mouth's opening)."""
    dark = gray < reference * 0.55
    rows = (dark.sum(axis=1) >= max(2, gray.shape[1] // 12)).sum()
    return float(rows)


def check_eyes_open(s: Subject, face: Face) -> Check:
    """An open eye shows a dark iris several pixels tall; a closed lid shows skin with a lash line."""
    d = face.eye_distance
    skin = float(np.median(s.face_box(face).of(s.gray)))
    openness = []
    for eye in (face.eye_left, face.eye_right):
        region = Box(
            round(eye[0] - 0.25 * d),
            round(eye[1] - 0.2 * d),
            round(eye[0] + 0.25 * d),
            round(eye[1] + 0.2 * d),
        )
        region = region.clip(s.width, s.height)
        openness.append(_dark_height(region.of(s.gray), skin) / d if not region.empty else 0.0)
    least = min(openness)
    closed, unsure = least < 0.06, least < 0.1
    return _result(
        "photo.eyes_open",
        not unsure,
        {"openness": [round(v, 2) for v in openness]},
        {"min_openness": 0.1},
        severity="error" if closed else "review",
        fail_zh="眼睛闭合或看不清" if closed else "眼睛可能半闭，需人工确认",
        fail_en="The eyes are closed or not visible"
        if closed
        else "The eyes may be half closed: a reviewer will check",
        hint_zh="请睁开双眼、平视镜头",
        hint_en="open both eyes and look into the lens",
    )


def check_mouth_closed(s: Subject, face: Face) -> Check:
    """An open mouth shows a dark opening below the nose; a closed (or gently smiling) one does not."""
    d = face.eye_distance
    nose_x, nose_y = face.nose
    region = Box(
        round(nose_x - 0.45 * d), round(nose_y + 0.15 * d), round(nose_x + 0.45 * d), round(nose_y + 0.75 * d)
    )
    region = region.clip(s.width, s.height)
    if region.empty:
        return _result(
            "photo.mouth_closed", False, None, {"max_opening": 0.12}, severity="review",
            fail_zh="看不到嘴部，需人工确认", fail_en="The mouth is not visible: a reviewer will check",
        )  # fmt: skip
    skin = float(np.median(s.face_box(face).of(s.gray)))
    opening = _dark_height(region.of(s.gray), skin) / d
    open_, unsure = opening > 0.2, opening > 0.12
    return _result(
        "photo.mouth_closed",
        not unsure,
        {"opening": round(opening, 2)},
        {"max_opening": 0.12},
        severity="error" if open_ else "review",
        fail_zh="嘴巴张开" if open_ else "嘴巴可能张开，需人工确认",
        fail_en="The mouth is open" if open_ else "The mouth may be open: a reviewer will check",
        hint_zh="请闭上嘴巴，表情自然",
        hint_en="close the mouth, neutral expression",
    )


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
    return _result(
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
    return _result(
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
        return _result(
            "photo.clothing_contrast", True, None, expected, fail_zh="", fail_en="",
            ok_zh="看不到衣着，未检查", ok_en="No clothing visible; not checked",
        )  # fmt: skip
    share = float((delta_e(region.of(s.lab), colour) < 18.0).mean())
    passed = share <= s.profile.max_clothing_like_background
    return _result(
        "photo.clothing_contrast",
        passed,
        {"share_like_background": round(share, 2)},
        expected,
        fail_zh="衣服颜色与背景相近",
        fail_en="The clothes are in the background's colour family",
        hint_zh="请换与背景颜色反差明显的衣服（蓝底不要穿蓝色衣服）",
        hint_en="wear clothes that contrast with the background (no blue clothes on blue)",
    )


def check_glasses(s: Subject, face: Face) -> Check:
    """Best effort: frames leave strong horizontal edges across the nose bridge and under the eyes,
    where bare skin is smooth. Clear evidence either way passes or fails; in between a human looks."""
    d = face.eye_distance
    (lx, ly), (rx, ry) = face.eye_left, face.eye_right
    eye_y = (ly + ry) / 2
    edges = np.abs(cv2.Sobel(s.gray, cv2.CV_32F, 0, 1, ksize=3))
    bridge = Box(round(lx + 0.3 * d), round(eye_y - 0.3 * d), round(rx - 0.3 * d), round(eye_y + 0.1 * d))
    under = [
        Box(round(x - 0.3 * d), round(eye_y + 0.2 * d), round(x + 0.3 * d), round(eye_y + 0.5 * d))
        for x in (lx, rx)
    ]
    cheek = [
        Box(round(x - 0.2 * d), round(eye_y + 0.6 * d), round(x + 0.2 * d), round(eye_y + 0.85 * d))
        for x in (lx, rx)
    ]

    def strength(boxes: list[Box]) -> float:
        rows = [
            box.clip(s.width, s.height).of(edges).mean(axis=1)
            for box in boxes
            if not box.clip(s.width, s.height).empty
        ]
        return float(max((r.max() for r in rows if len(r)), default=0.0))

    baseline = max(4.0, strength(cheek))
    evidence = min(strength([bridge]), strength(under)) / baseline
    clean, present = evidence < 1.0, evidence > 1.5
    return _result(
        "photo.glasses",
        clean,
        {"frame_evidence": round(evidence, 2)},
        {"max_frame_evidence": 1.0},
        severity="review",
        fail_zh="可能佩戴眼镜，需人工确认" if not present else "检测到眼镜框，需人工确认",
        fail_en="Glasses may be worn: a reviewer will check"
        if not present
        else "Spectacle frames were detected: a reviewer will check",
        hint_zh="请摘下眼镜拍摄（不得佩戴有色或反光镜片）",
        hint_en="take off the glasses (no tinted or reflective lenses)",
    )


def _skin_share(s: Subject, box: Box, skin: np.ndarray) -> float:
    """Share of the box's pixels in the skin's colour; lightness counts half, so a shaded brow still
    counts as skin while hair (another hue and much darker) does not."""
    box = box.clip(s.width, s.height)
    if box.empty:
        return 0.0
    lab = box.of(s.lab)
    distance = np.sqrt(
        ((lab[..., 0] - skin[0]) * 0.5) ** 2 + (lab[..., 1] - skin[1]) ** 2 + (lab[..., 2] - skin[2]) ** 2
    )
    return float((distance < 16.0).mean())


def check_ears_eyebrows(s: Subject, face: Face) -> Check:
    """Best effort: skin must show around each eyebrow (a brow is a dark band between skin) and beside
    the cheeks where the ears are; hair there (a fringe, hair over the ears) sends the photo to a human."""
    d = face.eye_distance
    skin = s.skin_colour
    cx, eye_y = face.eye_mid
    if skin is None:
        return _result(
            "photo.ears_eyebrows_visible", False, None, None, severity="review",
            fail_zh="无法判断眉毛和耳朵是否露出", fail_en="Could not tell whether eyebrows and ears show",
        )  # fmt: skip
    brows = [
        _skin_share(
            s,
            Box(round(x - 0.3 * d), round(eye_y - 0.65 * d), round(x + 0.3 * d), round(eye_y - 0.25 * d)),
            skin,
        )
        for x in (face.eye_left[0], face.eye_right[0])
    ]
    # Beside the cheeks, along the eye line (so a tilted head still has its ears where we look).
    cos, sin = math.cos(math.radians(face.roll_degrees)), math.sin(math.radians(face.roll_degrees))
    ears = []
    for side in (-1, 1):
        x = cx + side * 1.2 * d * cos - 0.45 * d * sin
        y = eye_y + side * 1.2 * d * sin + 0.45 * d * cos
        ears.append(
            _skin_share(
                s, Box(round(x - 0.2 * d), round(y - 0.35 * d), round(x + 0.2 * d), round(y + 0.35 * d)), skin
            )
        )
    brows_ok, ears_ok = min(brows) >= 0.3, min(ears) >= 0.05
    covered_zh = ([] if brows_ok else ["眉毛"]) + ([] if ears_ok else ["耳朵"])
    covered_en = ([] if brows_ok else ["eyebrows"]) + ([] if ears_ok else ["ears"])
    return _result(
        "photo.ears_eyebrows_visible",
        brows_ok and ears_ok,
        {"eyebrow_skin": [round(b, 2) for b in brows], "ear_skin": [round(e, 2) for e in ears]},
        {"min_eyebrow_skin": 0.3, "min_ear_skin": 0.05},
        severity="review",
        fail_zh="、".join(covered_zh) + "可能被头发遮挡，需人工确认",
        fail_en="Hair may cover the " + " and ".join(covered_en) + ": a reviewer will check",
        hint_zh="请将头发梳到耳后，露出眉毛和双耳",
        hint_en="pull the hair back to show the eyebrows and both ears",
    )


FaceCheck = Callable[[Subject, Face], Check]
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
