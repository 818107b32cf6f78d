"""Reading an upload safely: the header first (no pixels), then the pixels only when the header is sane.

A decompression bomb is a small file that claims a huge picture; Pillow reads the size from the header
without decoding, so we refuse before a single pixel is allocated. A broken file raises
`UnreadableImage`, which the checks turn into a failed `photo.format`, never a crashed worker.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

MAX_PIXELS = 40_000_000
MAX_SIDE = 20_000  # no camera makes a side longer than this; such a header is absurd
MAX_ASPECT = 8.0
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

    rgb: np.ndarray  # H×W×3 uint8, converted to sRGB when the file carried another ICC profile
    format: str
    mode: str  # the file's own mode: RGB, L, CMYK, ...
    dpi: tuple[float, float] | None
    quality: int | None  # estimated JPEG quality factor (IJG scale)
    progressive: bool

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


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


def decode(data: bytes) -> Decoded:
    """Header check, then a full decode (a truncated file raises here, not later)."""
    header = inspect_header(data)
    if header is None:
        raise UnreadableImage("not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                dpi_info = image.info.get("dpi")
                dpi = (float(dpi_info[0]), float(dpi_info[1])) if dpi_info else None
                quality = estimate_jpeg_quality(image) if image.format == "JPEG" else None
                progressive = bool(image.info.get("progressive") or image.info.get("progression"))
                rgb = np.asarray(_to_srgb(image), dtype=np.uint8)
                return Decoded(rgb, image.format or "unknown", image.mode, dpi, quality, progressive)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise UnreadableImage(str(exc)) from exc
