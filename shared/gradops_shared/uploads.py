"""Uploads, once: read a file part up to a limit (checked before anything expensive) and tell what it
is by its magic bytes, never by the name or the Content-Type the client claims."""

from __future__ import annotations

from fastapi import UploadFile

from gradops_shared.errors import ProblemType

# Magic bytes of the formats GradOps accepts somewhere (photos, scans, rosters, zips).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # an empty archive
)


def sniff(data: bytes) -> str | None:
    """The media type the bytes say they are (PDF, JPEG, PNG, zip), or None."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def megabytes(limit: int) -> str:
    """A byte limit as people say it ("10 MB"), for messages."""
    return f"{limit / (1024 * 1024):g} MB"


async def read_limited(
    upload: UploadFile, limit: int, too_large: ProblemType, *, what: str = "file"
) -> bytes:
    """The whole part, or `too_large` (413) as soon as it exceeds `limit` bytes: never reads more
    than `limit + 1` bytes, so an oversize upload costs nothing beyond that."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise too_large(
            f"The {what} exceeds {megabytes(limit)}.",
            message_zh=f"上传文件超过 {megabytes(limit)}",
            extra={"limit_bytes": limit},
        )
    return data
