"""Bulk zip import (批量导入照片) as a background job with persisted progress and per-file outcomes.

The request checks the zip's directory (its declared entry count first, then the parse in a worker
thread) and records a `queued` job; a task of the same API process then works through the zip, which
it holds in memory only: the zip is never stored (dry runs included), only its digest, its size and
the per-file report. Registry look-ups and QC run concurrently (QC on the process pool, so both cores
work), results are written in small batches, each batch moving the job's heartbeat. If the process
dies the heartbeat stops and the job is marked `failed` ("interrupted") by the next sweep of any API
process (the zip died with it): a job is never left `running` for ever and never half-reported as
done. The centre uploads the zip again (students already stored are then skipped or, with overwrite,
replaced).

Outcomes per file: `stored` (a submission pending review), `accepted` (dry run: would be stored),
`skipped` (why: folder, name, not in 在籍, already has a photo …) and `rejected` (a zip attack, an
unreadable entry, or the QC checks that failed: the picture is not stored; the centre fixes it and
uploads again).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.domain.archive import ArchiveLimits, NotAZip, TooManyEntries, plan_archive
from gradops_photo.errors import IMPORT_NOT_A_ZIP, IMPORT_NOT_FOUND, IMPORT_TOO_MANY_ENTRIES
from gradops_photo.models import PhotoImport, PhotoImportFile
from gradops_photo.repository import PhotoRepository
from gradops_photo.service.qc import profile_of
from gradops_photo.settings import PhotoSettings
from gradops_shared.db import Database, sha256_hex
from gradops_shared.errors import GradOpsError
from gradops_shared.principal import Principal

OUTCOMES = ("stored", "accepted", "skipped", "rejected")


@dataclass(frozen=True)
class ImportOptions:
    kind: str = "graduation"
    level: str | None = None
    overwrite: bool = False
    dry_run: bool = False
    profile: str = "ouc-platform"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def limits_of(settings: PhotoSettings) -> ArchiveLimits:
    return ArchiveLimits(
        max_entries=settings.import_max_entries,
        max_entry_bytes=settings.import_max_entry_bytes,
        max_total_bytes=settings.import_max_total_bytes,
        max_ratio=settings.import_max_ratio,
    )


async def create_import(
    session: AsyncSession,
    *,
    data: bytes,
    options: ImportOptions,
    principal: Principal,
    limits: ArchiveLimits,
) -> PhotoImport:
    """Validates that the upload is a zip and records the job; the work happens in the background
    (`ImportRunner.start(job.id, data)`). The zip is not stored."""
    try:
        plans = await asyncio.to_thread(plan_archive, data, limits)
    except NotAZip as exc:
        raise IMPORT_NOT_A_ZIP(
            "The upload is not a readable zip archive.",
            message_zh="上传的文件不是有效的 zip 压缩包",
        ) from exc
    except TooManyEntries as exc:
        raise IMPORT_TOO_MANY_ENTRIES(
            f"The zip has too many entries: {exc}.",
            message_zh="压缩包内文件过多",
        ) from exc
    now = datetime.now(UTC)
    archive_sha256 = await asyncio.to_thread(sha256_hex, data)
    job = PhotoImport(
        id=str(uuid.uuid4()),
        status="queued",
        options=options.as_dict(),
        centres=None if principal.centres is None else sorted(principal.centres),
        actor=principal.subject,
        archive_sha256=archive_sha256,
        archive_bytes=len(data),
        total=len(plans),
        processed=0,
        counts=dict.fromkeys(OUTCOMES, 0),
        created_at=now,
        heartbeat_at=now,
    )
    PhotoRepository(session).add(job)
    return job


def _job_not_found(import_id: str) -> GradOpsError:
    return IMPORT_NOT_FOUND(f"No photo import {import_id}.", message_zh="照片导入任务不存在")


def visible_to(job: PhotoImport, principal: Principal) -> bool:
    """HQ sees every job; a centre's key sees the jobs started with a reach inside its own."""
    if principal.centres is None:
        return True
    return job.centres is not None and set(job.centres) <= principal.centres


async def get_import(session: AsyncSession, import_id: str, principal: Principal) -> PhotoImport:
    job = await PhotoRepository(session).get_import(import_id)
    if job is None or not visible_to(job, principal):
        raise _job_not_found(import_id)
    return job


async def import_with_files(
    session: AsyncSession, import_id: str, principal: Principal
) -> tuple[PhotoImport, list[PhotoImportFile]]:
    """A job the caller may see, with every file's outcome (in zip order)."""
    job = await get_import(session, import_id, principal)
    return job, await PhotoRepository(session).import_files(import_id)


async def start_import(
    db: Database,
    launch: Callable[[str, bytes], object],
    settings: PhotoSettings,
    principal: Principal,
    *,
    data: bytes,
    kind: str,
    level: str | None,
    overwrite: bool,
    dry_run: bool,
    profile: str | None,
) -> PhotoImport:
    """Records a queued job for the zip and hands the zip to the import runner (`launch`).

    Takes the database, not a session: the runner works from the committed job row, so the job is
    committed here, in its own transaction, before the zip is handed over."""
    options = ImportOptions(kind, level, overwrite, dry_run, profile_of(profile, settings).name)
    async with db.transaction() as session:
        job = await create_import(
            session, data=data, options=options, principal=principal, limits=limits_of(settings)
        )
    launch(job.id, data)
    return job


async def fail_stale_imports(session: AsyncSession, stale_seconds: float, now: datetime | None = None) -> int:
    """Jobs whose process stopped beating: failed, with what they managed already reported."""
    moment = now or datetime.now(UTC)
    cutoff = moment - timedelta(seconds=stale_seconds)
    failed = 0
    for job in await PhotoRepository(session).stale_imports(cutoff):
        job.status, job.finished_at = "failed", moment
        job.error = "interrupted: the process running the import stopped; upload the zip again"
        failed += 1
    return failed
