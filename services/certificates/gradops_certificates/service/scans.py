"""Scans we keep (signed receipts, replacement forms): PDF, JPEG or PNG, told by their magic bytes
(the shared sniffer), not by the name or the content type the client claims; at most 10 MB (the edge
refuses a larger upload while reading it: api/deps.py `read_scan`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates.errors import SCAN_EMPTY, SCAN_FORMAT, SCAN_TOO_LARGE
from gradops_certificates.repository import CertificateRepository
from gradops_shared.uploads import megabytes, sniff

MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def scan_media_type(data: bytes, field: str) -> str:
    """The media type of a scan by its bytes, or the reason it is refused."""
    if not data:
        raise SCAN_EMPTY(f"`{field}` is empty.", message_zh="上传的扫描件为空")
    if len(data) > MAX_SCAN_BYTES:
        raise SCAN_TOO_LARGE(
            f"`{field}` is larger than {megabytes(MAX_SCAN_BYTES)}.", message_zh="扫描件超过 10 MB"
        )
    media_type = sniff(data)
    if media_type not in SCAN_MEDIA_TYPES:
        raise SCAN_FORMAT(
            f"`{field}` is not a PDF, JPEG or PNG file.", message_zh="扫描件须为 PDF、JPEG 或 PNG 文件"
        )
    return media_type


async def store_scan(session: AsyncSession, data: bytes, field: str) -> str:
    """Checks the scan by its magic bytes and stores it once per content; returns its SHA-256."""
    return await CertificateRepository(session).store_file(data, scan_media_type(data, field))
