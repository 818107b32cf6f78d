from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_certificates.domain.files import scan_content_type
from gradops_certificates.models import StoredFile
from gradops_certificates.repository import CertificateRepository


async def store_scan(session: AsyncSession, data: bytes, field: str) -> str:
    """Checks the scan by its magic bytes and stores it once per content; returns its SHA-256."""
    content_type = scan_content_type(data, field)
    sha256 = hashlib.sha256(data).hexdigest()
    await CertificateRepository(session).store_file(
        StoredFile(
            sha256=sha256, content_type=content_type, size=len(data), data=data, uploaded_at=datetime.now(UTC)
        )
    )
    return sha256
