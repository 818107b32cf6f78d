"""Photo rules: the QC checks and the submission state machine. Pure functions, no I/O.

The foundation checks what the file itself must be (real JPEG, 24-bit RGB, exact pixel size, file
size window); the face and background checks of the national spec come with the QC engine.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

from gradops_shared.errors import Conflict

Severity = Literal["error", "warning"]
State = Literal["submitted", "auto_rejected", "pending_review", "approved", "rejected", "expired"]


@dataclass(frozen=True)
class Profile:
    name: str
    width: int
    height: int
    min_kb: float | None
    max_kb: float


PROFILES: dict[str, Profile] = {
    "ouc-platform": Profile("ouc-platform", 480, 640, None, 50),
    "chsi-2017": Profile("chsi-2017", 480, 640, 20, 40),
    "studio-30-40": Profile("studio-30-40", 480, 640, 30, 40),
}


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    measured: Any
    expected: Any
    severity: Severity
    fixable: bool
    message_zh: str
    message_en: str
    hint: str | None = None


@dataclass(frozen=True)
class QcReport:
    passed: bool
    profile: str
    checks: list[Check]
    decodable_jpeg: bool

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "profile": self.profile, "checks": [asdict(c) for c in self.checks]}


def run_qc(data: bytes, profile: Profile) -> QcReport:
    checks: list[Check] = []
    image = _decode_jpeg(data)
    checks.append(
        Check(
            code="photo.format",
            passed=image is not None,
            measured=_sniff_format(data),
            expected="JPEG",
            severity="error",
            fixable=False,
            message_zh="照片须为完整的 JPEG 文件" if image is None else "JPEG 格式正确",
            message_en="The photo must be a complete JPEG file" if image is None else "Valid JPEG",
            hint=None if image is not None else "请上传 .jpg 格式的照片 / upload a .jpg photo",
        )
    )
    if image is not None:
        checks.append(
            Check(
                code="photo.colour_mode",
                passed=image.mode == "RGB",
                measured=image.mode,
                expected="RGB (24-bit)",
                severity="error",
                fixable=True,
                message_zh="照片须为 24 位 RGB 彩色" if image.mode != "RGB" else "色彩模式正确",
                message_en="The photo must be 24-bit RGB colour" if image.mode != "RGB" else "Colour mode OK",
                hint=None if image.mode == "RGB" else "请另存为 RGB 彩色 JPEG / save as an RGB colour JPEG",
            )
        )
        size_ok = image.size == (profile.width, profile.height)
        checks.append(
            Check(
                code="photo.dimensions",
                passed=size_ok,
                measured=f"{image.width}x{image.height}",
                expected=f"{profile.width}x{profile.height}",
                severity="error",
                fixable=True,
                message_zh=f"照片尺寸须为 {profile.width}×{profile.height} 像素",
                message_en=f"The photo must be {profile.width}x{profile.height} pixels",
                hint=None
                if size_ok
                else f"请裁剪为宽 {profile.width}、高 {profile.height} 像素 / "
                f"crop to {profile.width}x{profile.height}",
            )
        )
    kb = round(len(data) / 1024, 1)
    too_small = profile.min_kb is not None and kb < profile.min_kb
    too_big = kb > profile.max_kb
    window = f"{profile.min_kb or 0:g}-{profile.max_kb:g} KB"
    checks.append(
        Check(
            code="photo.file_size",
            passed=not (too_small or too_big),
            measured=f"{kb:g} KB",
            expected=window,
            severity="error",
            fixable=True,
            message_zh=f"文件大小须在 {window} 之间",
            message_en=f"The file size must be within {window}",
            hint=None
            if not (too_small or too_big)
            else ("请降低压缩率 / use less compression" if too_small else "请提高压缩率 / compress more"),
        )
    )
    passed = all(c.passed for c in checks if c.severity == "error")
    return QcReport(passed=passed, profile=profile.name, checks=checks, decodable_jpeg=image is not None)


def _sniff_format(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return "unknown"


def _decode_jpeg(data: bytes) -> Image.Image | None:
    """The format is judged by the bytes, not the file name; a truncated file does not pass."""
    if _sniff_format(data) != "JPEG":
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != "JPEG" or image.width * image.height > 40_000_000:
                return None
            image.load()  # full decode: raises on truncated data
        return image
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        return None


# State machine: which decisions are legal from where.
_TRANSITIONS: dict[str, set[str]] = {
    "submitted": {"auto_rejected", "pending_review"},
    "pending_review": {"approved", "rejected"},
}


def transition(current: str, target: str) -> str:
    if target not in _TRANSITIONS.get(current, set()):
        raise Conflict(
            f"A submission in state {current!r} cannot become {target!r}.",
            code="photo.illegal_transition",
            message_zh=f"照片当前状态为 {current}，不能变为 {target}",
        )
    return target
