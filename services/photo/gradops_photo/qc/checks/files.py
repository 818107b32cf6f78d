"""Checks of the file itself: format by its bytes, colour mode, pixel size, KB window, dpi."""

from __future__ import annotations

from gradops_photo.qc.checks.result import result
from gradops_photo.qc.decode import Decoded, is_colourless
from gradops_photo.qc.profiles import Profile
from gradops_photo.qc.report import Check


def check_format(sniffed: str, decoded: Decoded | None, profile: Profile) -> Check:
    """Really a JPEG by its bytes, complete, and not compressed below the profile's quality."""
    if decoded is None or decoded.format != "JPEG":
        broken = sniffed == "JPEG"
        return result(
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
    return result(
        "photo.format",
        passed,
        {
            "format": "JPEG",
            "decodable": True,
            "quality": quality,
            "progressive": decoded.progressive,
            # Applied before every check: the photo is judged upright. Validators that ignore EXIF
            # see it turned; standardising writes the pixels upright.
            "exif_orientation": decoded.orientation,
            "downscaled_to": f"{decoded.width}x{decoded.height}" if decoded.downscaled else None,
        },
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
    return result(
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
    """The picture's own size, upright (a downscaled copy is what the other checks look at)."""
    width, height = decoded.source_width, decoded.source_height
    passed = (width, height) == (profile.width, profile.height)
    larger = width >= profile.width and height >= profile.height
    return result(
        "photo.dimensions",
        passed,
        f"{width}x{height}",
        f"{profile.width}x{profile.height}",
        fixable=larger,
        fail_zh=f"照片尺寸须为 {profile.width}×{profile.height} 像素（实际 {width}×{height}）",
        fail_en=f"The photo must be {profile.width}x{profile.height} px (it is {width}x{height})",
        hint_zh="可使用“照片标准化”自动裁剪缩放" if larger else "照片分辨率不足，请重新拍摄",
        hint_en="use standardise=true to crop and resize it"
        if larger
        else "the photo is too small: take it again",
    )


def check_file_size(data: bytes, profile: Profile) -> Check:
    kb = round(len(data) / 1024, 1)
    too_small = profile.min_kb is not None and kb < profile.min_kb
    too_big = kb > profile.max_kb
    return result(
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
    return result(
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
