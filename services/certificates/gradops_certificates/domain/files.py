"""Scans we keep (signed receipts, replacement forms): PDF, JPEG or PNG, told by their magic bytes,
not by the name or the content type the client claims."""

from __future__ import annotations

from gradops_shared.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

MAX_SCAN_BYTES = 10 * 1024 * 1024
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def scan_content_type(data: bytes, field: str) -> str:
    if not data:
        raise InvalidInput(
            f"`{field}` is empty.", code="certificates.scan_empty", message_zh="上传的扫描件为空"
        )
    if len(data) > MAX_SCAN_BYTES:
        raise PayloadTooLarge(
            f"`{field}` is larger than {MAX_SCAN_BYTES // (1024 * 1024)} MB.",
            code="certificates.scan_too_large",
            message_zh="扫描件超过 10 MB",
        )
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    raise UnsupportedMediaType(
        f"`{field}` is not a PDF, JPEG or PNG file.",
        code="certificates.scan_format",
        message_zh="扫描件须为 PDF、JPEG 或 PNG 文件",
    )
