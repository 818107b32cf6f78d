"""Evidence files of a review: PDF, JPEG or PNG only, recognised by their first bytes."""

from __future__ import annotations

from gradops_shared.errors import UnsupportedMediaType

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_media_type(content: bytes) -> str:
    """The declared content type and file name are not trusted: the bytes decide."""
    for magic, media_type in _MAGIC:
        if content.startswith(magic):
            return media_type
    raise UnsupportedMediaType(
        "Evidence must be a PDF, JPEG or PNG file.",
        code="registry.evidence_type_unsupported",
        message_zh="证明材料仅支持 PDF、JPEG 或 PNG 文件",
    )
