"""Builders for test data: one place that knows what a valid student or photo looks like."""

from __future__ import annotations

import io
import itertools
from datetime import date
from typing import Any

from PIL import Image

from gradops_registry.domain import resident_id_check_char

_sequence = itertools.count(1)


def resident_id(birth: date = date(1990, 5, 17), *, gender: str = "female", region: str = "110105") -> str:
    seq = next(_sequence) % 500
    order = seq * 2 + (1 if gender == "male" else 0)  # odd 17th digit = male
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + resident_id_check_char(first17)


def student_no() -> str:
    return f"2021{next(_sequence):06d}"


def student_payload(**overrides: Any) -> dict[str, Any]:
    birth = overrides.pop("birth", date(1990, 5, 17))
    gender = overrides.get("gender", "female")
    payload: dict[str, Any] = {
        "name": "张三",
        "gender": gender,
        "birth_date": birth.isoformat(),
        "id_type": "resident_id",
        "id_number": resident_id(birth, gender=gender),
        "learning_centre": "5135701",
        "level": "junior_college",
        "category": "open_education",
        "major": "机电一体化技术",
        "enrolment_term": "2021-spring",
        "study_form": "part_time",
        "status": "enrolled",
    }
    payload.update(overrides)
    return payload


def jpeg(
    width: int = 480,
    height: int = 640,
    colour: tuple[int, int, int] = (100, 197, 255),
    *,
    mode: str = "RGB",
    quality: int = 90,
) -> bytes:
    """A light-blue picture of the right size: passes the file-level QC checks."""
    image = Image.new(mode, (width, height), colour if mode == "RGB" else 128)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, dpi=(300, 300))
    return buffer.getvalue()


def png(width: int = 480, height: int = 640) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (100, 197, 255)).save(buffer, "PNG")
    return buffer.getvalue()
