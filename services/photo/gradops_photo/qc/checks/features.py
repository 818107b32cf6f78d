"""Eyes, mouth, glasses, ears and eyebrows: image measures in regions placed by the five landmarks.

Five points give no eyelids or lips, so these are heuristics: clear evidence decides, doubt goes to a
human (`review`), never a silent pass.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from gradops_photo.qc.checks.result import result
from gradops_photo.qc.face import Face
from gradops_photo.qc.measure import Box, Subject
from gradops_photo.qc.report import Check


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
    return result(
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
        return result(
            "photo.mouth_closed", False, None, {"max_opening": 0.12}, severity="review",
            fail_zh="看不到嘴部，需人工确认", fail_en="The mouth is not visible: a reviewer will check",
            hint_zh="请让整张脸完整出现在照片中", hint_en="keep the whole face inside the photo",
        )  # fmt: skip
    skin = float(np.median(s.face_box(face).of(s.gray)))
    opening = _dark_height(region.of(s.gray), skin) / d
    open_, unsure = opening > 0.2, opening > 0.12
    return result(
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
    return result(
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
        return result(
            "photo.ears_eyebrows_visible", False, None, None, severity="review",
            fail_zh="无法判断眉毛和耳朵是否露出", fail_en="Could not tell whether eyebrows and ears show",
            hint_zh="请将头发梳到耳后，露出眉毛和双耳",
            hint_en="pull the hair back to show the eyebrows and both ears",
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
    return result(
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
