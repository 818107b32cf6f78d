"""Evidence files of a review: PDF, JPEG or PNG only, recognised by their first bytes."""

from __future__ import annotations

from gradops_registry.errors import EVIDENCE_TYPE_UNSUPPORTED

EVIDENCE_MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def check_evidence_media_type(sniffed: str | None) -> str:
    """The media type the bytes say they are (see `gradops_shared.uploads.sniff`), if evidence may
    be of that type: the declared content type and file name are not trusted."""
    if sniffed in EVIDENCE_MEDIA_TYPES:
        return sniffed
    raise EVIDENCE_TYPE_UNSUPPORTED(
        "Evidence must be a PDF, JPEG or PNG file.",
        message_zh="证明材料仅支持 PDF、JPEG 或 PNG 文件",
    )
