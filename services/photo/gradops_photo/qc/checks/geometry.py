"""How many faces, how large, where and how turned: the national spec's geometry in the 480×640 frame."""

from __future__ import annotations

from gradops_photo.qc.checks.result import result
from gradops_photo.qc.face import Face
from gradops_photo.qc.measure import Subject
from gradops_photo.qc.report import Check, Severity


def check_face_count(s: Subject) -> Check:
    count = len(s.faces)
    return result(
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
    return result(
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
    return result(
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
    return result(
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
