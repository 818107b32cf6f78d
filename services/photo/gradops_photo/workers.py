"""The photo API process's background work, started by the app's lifespan (never from a router):
the QC worker pool, the import runner, and the housekeeping loop (expired rejections, imports whose
process died)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from gradops_photo.qc.pool import QcPool
from gradops_photo.service.import_runner import ImportRunner
from gradops_photo.service.imports import fail_stale_imports
from gradops_photo.service.reviews import expire_overdue
from gradops_photo.settings import PhotoSettings
from gradops_shared.runtime import Runtime

log = structlog.get_logger(__name__)


async def housekeeping_once(runtime: Runtime, settings: PhotoSettings) -> tuple[int, int]:
    """Expired rejections and imports whose process died; returns (expired, failed imports).
    One transaction each: the loop is its own edge."""
    async with runtime.db.transaction() as session:
        expired = await expire_overdue(session)
    async with runtime.db.transaction() as session:
        failed = await fail_stale_imports(session, settings.import_stale_seconds)
    return expired, failed


async def _housekeeping(runtime: Runtime, settings: PhotoSettings) -> None:
    while True:
        try:
            await housekeeping_once(runtime, settings)
        except Exception:  # a database hiccup must not end the loop
            log.warning("photo_housekeeping_failed", exc_info=True)
        await asyncio.sleep(min(settings.expiry_sweep_seconds, settings.import_stale_seconds / 2))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The QC pool, the import runner and the housekeeping loop live as long as the app."""
    settings: PhotoSettings = app.state.settings
    runtime: Runtime = app.state.runtime
    pool = QcPool(settings.qc_workers)
    app.state.qc_pool = pool
    runner = ImportRunner(runtime, pool, settings)
    app.state.import_runner = runner
    housekeeping = asyncio.create_task(_housekeeping(runtime, settings), name="photo-housekeeping")
    try:
        yield
    finally:
        housekeeping.cancel()
        await asyncio.gather(housekeeping, return_exceptions=True)
        await runner.stop()
        await asyncio.to_thread(pool.shutdown)
