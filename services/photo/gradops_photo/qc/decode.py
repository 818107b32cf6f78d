"""Reading an upload safely: the header first (no pixels), then the pixels only when the header is sane.

A decompression bomb is a small file that claims a huge picture; Pillow reads the size from the header
without decoding, so we refuse before a single pixel is allocated. A broken file raises
`UnreadableImage`, which the checks turn into a failed `photo.format`, never a crashed worker.

A picture over the profile's pixel budget (but under the 40 MP cap) is downscaled once, while it is
decoded: a JPEG with libjpeg's DCT scaling (`draft`, 1/2 to 1/8 at a fraction of the cost), then one
area resize to the budget. Every check then works on at most the budget: a 6000×6000 JPEG used to cost
seconds and 1.4 GB per worker, most of it on pixels no check needs. The EXIF orientation is applied
before anything is measured, so a phone photo tagged "rotate 90°" is judged upright.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

MAX_PIXELS = 40_000_000
MAX_SIDE = 20_000  # no camera makes a side longer than this; such a header is absurd
MAX_ASPECT = 8.0
# What a check needs at most when the profile does not say: about 13 times the 480×640 frame, enough
# for a studio original (1200×1600, 2000×2667) to be judged and standardised at full detail.
DEFAULT_PIXEL_BUDGET = 4_000_000
_EXIF_ORIENTATION = 0x0112
# What each EXIF orientation asks to make the picture upright (the table of ImageOps.exif_transpose,
# applied here to the decoded sRGB copy, which no longer carries the EXIF block).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Orientations 5–8 turn the picture a quarter: the upright picture's width is the stored height.
_QUARTER_TURNS = {5, 6, 7, 8}
# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; we refuse ourselves at MAX_PIXELS
# (see `inspect_header`), so Pillow's own guard only backs ours up.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# IJG's standard luminance quantisation table (quality 50); its sum scales with the quality factor.
_IJG_LUMINANCE = (
    (16, 11, 10, 16, 24, 40, 51, 61),
    (12, 12, 14, 19, 26, 58, 60, 55),
    (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62),
    (18, 22, 37, 56, 68, 109, 103, 77),
    (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101),
    (72, 92, 95, 98, 112, 100, 103, 99),
)
_IJG_LUMINANCE_SUM = sum(sum(row) for row in _IJG_LUMINANCE)


class ImageRefused(Exception):
    """The header claims a picture too large or absurd to decode (decompression bomb)."""

    def __init__(self, reason_en: str, reason_zh: str) -> None:
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_zh = reason_zh


class UnreadableImage(Exception):
    """Not an image we can decode: wrong format, truncated or corrupt."""


def sniff_format(data: bytes) -> str:
    """The format by the file's bytes, whatever its name says."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:2] == b"BM":
        return "BMP"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIF"
    return "unknown"


@dataclass(frozen=True)
class Header:
    format: str
    width: int
    height: int
    mode: str


def inspect_header(data: bytes) -> Header | None:
    """Reads the header only. None when Pillow does not recognise the bytes at all."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                header = Header(image.format or "unknown", image.width, image.height, image.mode)
    except Image.DecompressionBombError as exc:
        raise ImageRefused(
            "The image header claims more pixels than allowed.", "图片像素数超过上限，拒绝解码"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    if header.width <= 0 or header.height <= 0 or max(header.width, header.height) > MAX_SIDE:
        raise ImageRefused(
            f"The image header claims an absurd size {header.width}x{header.height}.",
            f"图片头部声明的尺寸不合理（{header.width}×{header.height}）",
        )
    if header.width * header.height > MAX_PIXELS:
        raise ImageRefused(
            f"The image has {header.width * header.height / 1e6:.0f} megapixels; at most "
            f"{MAX_PIXELS // 1_000_000} are accepted.",
            f"图片像素数超过 {MAX_PIXELS // 1_000_000} 百万，拒绝解码",
        )
    if max(header.width, header.height) / min(header.width, header.height) > MAX_ASPECT:
        raise ImageRefused(
            f"The image's aspect ratio {header.width}x{header.height} is absurd for a portrait.",
            f"图片宽高比不合理（{header.width}×{header.height}）",
        )
    return header


@dataclass(frozen=True)
class Decoded:
    """The decoded picture as 8-bit sRGB pixels plus what the file said about itself."""

    rgb: np.ndarray  # H×W×3 uint8 upright, sRGB, at most the pixel budget
    format: str
    mode: str  # the file's own mode: RGB, L, CMYK, ...
    dpi: tuple[float, float] | None
    quality: int | None  # estimated JPEG quality factor (IJG scale)
    progressive: bool
    # The picture's own size, upright (before any downscale); None: the pixels are the picture's size.
    source_size: tuple[int, int] | None = None
    orientation: int | None = None  # the EXIF orientation that was applied (None or 1: none)

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def source_width(self) -> int:
        return self.source_size[0] if self.source_size else self.width

    @property
    def source_height(self) -> int:
        return self.source_size[1] if self.source_size else self.height

    @property
    def downscaled(self) -> bool:
        return self.source_size is not None and self.source_size != (self.width, self.height)


def is_colourless(rgb: np.ndarray) -> bool:
    """Greyscale content, whatever the file's mode says (a grey picture saved as RGB)."""
    sample = rgb[::7, ::7].astype(np.int16)
    spread = sample.max(axis=2) - sample.min(axis=2)
    return bool(np.percentile(spread, 99) < 6)


def estimate_jpeg_quality(image: Image.Image) -> int | None:
    """The IJG quality factor whose luminance table matches the file's best (libjpeg's own formula)."""
    tables = getattr(image, "quantization", None)
    if not tables or 0 not in tables:
        return None
    scale = sum(tables[0]) * 100.0 / _IJG_LUMINANCE_SUM
    quality = (200.0 - scale) / 2.0 if scale <= 100 else 5000.0 / scale
    rounded: int = round(quality)
    return max(1, min(100, rounded))


def _to_srgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion below
    return image.convert("RGB")


def budget_size(width: int, height: int, budget: int) -> tuple[int, int] | None:
    """The size a picture is downscaled to so it fits the budget (aspect kept), or None if it fits."""
    if width * height <= budget:
        return None
    factor = math.sqrt(width * height / budget)
    return max(1, int(width / factor)), max(1, int(height / factor))


def exif_orientation(image: Image.Image) -> int | None:
    """The EXIF orientation tag (1–8), or None when absent or unreadable (a broken EXIF block is not
    a reason to refuse a picture)."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError, struct.error):
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _load_within(image: Image.Image, budget: int | None) -> Image.Image:
    """Loads the pixels, downscaled once to the budget: a JPEG is decoded by libjpeg at the largest
    DCT scale (1/2, 1/4 or 1/8) that fits the budget, never at full size; anything still above it
    (another format, or beyond 1/8) gets one area resize."""
    target = None if budget is None else budget_size(image.width, image.height, budget)
    if target is not None and budget is not None and image.format == "JPEG":
        width, height = image.width, image.height
        scale = next((s for s in (2, 4, 8) if math.ceil(width / s) * math.ceil(height / s) <= budget), 8)
        image.draft(image.mode, (math.ceil(width / scale), math.ceil(height / scale)))
    image.load()
    if target is not None and image.width * image.height > target[0] * target[1]:
        resized = image.resize(target, Image.Resampling.BOX, reducing_gap=2.0)
        resized.info = image.info
        return resized
    return image


def decode(data: bytes, pixel_budget: int | None = DEFAULT_PIXEL_BUDGET) -> Decoded:
    """Header check, then a decode at most `pixel_budget` pixels, upright (a truncated file raises
    here, not later)."""
    header = inspect_header(data)
    if header is None:
        raise UnreadableImage("not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                orientation = exif_orientation(opened)
                fmt, mode = opened.format or "unknown", opened.mode
                quality = estimate_jpeg_quality(opened) if fmt == "JPEG" else None
                image = _load_within(opened, pixel_budget)
                dpi_info = image.info.get("dpi")
                dpi = (float(dpi_info[0]), float(dpi_info[1])) if dpi_info else None
                progressive = bool(image.info.get("progressive") or image.info.get("progression"))
                upright = _to_srgb(image)
                if orientation in _TRANSPOSE:
                    upright = upright.transpose(_TRANSPOSE[orientation])
                rgb = np.asarray(upright, dtype=np.uint8)
                width, height = header.width, header.height
                if orientation in _QUARTER_TURNS:
                    width, height = height, width
                return Decoded(rgb, fmt, mode, dpi, quality, progressive, (width, height), orientation)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise UnreadableImage(str(exc)) from exc


def preview_jpeg(data: bytes, max_side: int = 640) -> bytes | None:
    """A small upright JPEG of the picture (what is kept of a rejected oversize upload): decoded at
    reduced scale, never at full size. None when the bytes are not a picture we can read."""
    try:
        decoded = decode(data, pixel_budget=4 * max_side * max_side)  # then one LANCZOS step down
    except (UnreadableImage, ImageRefused):
        return None
    image = Image.fromarray(decoded.rgb, "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
