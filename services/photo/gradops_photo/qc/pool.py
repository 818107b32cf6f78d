"""QC runs in worker processes so the API's event loop never waits on pixels.

The pool is created in the app's lifespan, sized by `GRADOPS_PHOTO_QC_WORKERS`, and shut down with it.
Workers start with `forkserver` (a clean process, not a fork of a process holding event loops, sockets
and threads) and load the face models once. A worker that dies on a photo (a crash inside a native
decoder) breaks only that request: the pool is replaced and the photo is reported as unreadable.
`workers=0` runs QC in a thread of the API process: only for hosts where processes cannot be started
(some sandboxes and serverless runtimes); it still keeps the event loop free, but shares the GIL.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import structlog

from gradops_photo.qc.decode import ImageRefused, preview_jpeg
from gradops_photo.qc.engine import AdmissionUnreadable, run_checks
from gradops_photo.qc.face import warm_up
from gradops_photo.qc.profiles import Profile
from gradops_photo.qc.report import QcReport
from gradops_photo.qc.standardise import Standardised, standardise
from gradops_shared.metrics import count

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class QcJob:
    data: bytes
    profile: Profile
    admission: bytes | None = None
    standardise: bool = False
    # Uploads larger than this also get a small preview (kept instead of them if QC rejects them).
    preview_above: int | None = None


@dataclass(frozen=True)
class QcOutcome:
    """What a job produced; exceptions become fields so they cross the process boundary as data."""

    report: QcReport | None = None
    standardised: Standardised | None = None
    standardised_report: QcReport | None = None
    refused: tuple[str, str] | None = None  # (English, Chinese) reason: the header was a bomb
    admission_unreadable: bool = False
    preview: bytes | None = None  # a 640-px upright JPEG of an upload over `QcJob.preview_above`
    cpu_ms: float = 0.0  # CPU time the job took in its worker (fair figure on a busy machine)


def run_job(job: QcJob) -> QcOutcome:
    """The unit of work a worker runs: checks, and standardisation with the checks re-run on its bytes."""
    started = time.process_time()

    def cpu_ms() -> float:
        return round((time.process_time() - started) * 1000, 2)

    try:
        report = run_checks(job.data, job.profile, job.admission)
        preview = (
            preview_jpeg(job.data)
            if job.preview_above is not None and len(job.data) > job.preview_above
            else None
        )
        if not job.standardise:
            return QcOutcome(report=report, preview=preview, cpu_ms=cpu_ms())
        fixed = standardise(job.data, job.profile)
        final = run_checks(fixed.data, job.profile, job.admission) if fixed.data is not None else None
        return QcOutcome(
            report=report, standardised=fixed, standardised_report=final, preview=preview, cpu_ms=cpu_ms()
        )
    except ImageRefused as exc:
        return QcOutcome(refused=(exc.reason_en, exc.reason_zh), cpu_ms=cpu_ms())
    except AdmissionUnreadable:
        return QcOutcome(admission_unreadable=True, cpu_ms=cpu_ms())


def count_checks(report: QcReport) -> None:
    """Metrics in the parent process (a worker's counters would never be scraped): every check run
    by outcome, and each failed `error` check as a failure reason."""
    for check in report.checks:
        count("photo_qc_checks", check=check.code, outcome="pass" if check.passed else "fail")
        if not check.passed and check.severity == "error":
            count("photo_qc_failures", reason=check.code)


def _start_worker() -> None:
    """A worker ignores Ctrl-C: the terminal sends it to the whole process group, and the API process
    shuts the pool down itself (a worker dying on SIGINT would only print a traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()


class QcWorkerLost(Exception):
    """The worker died while analysing the photo (the photo is treated as unreadable)."""


class QcPool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = self._new_executor() if workers > 0 else None

    def _new_executor(self) -> ProcessPoolExecutor:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
        )

    async def run(self, job: QcJob, timeout_seconds: float) -> QcOutcome:
        outcome = await self._run(job, timeout_seconds)
        if outcome.report is not None:
            count_checks(outcome.report)
        return outcome

    async def _run(self, job: QcJob, timeout_seconds: float) -> QcOutcome:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            return await asyncio.wait_for(asyncio.to_thread(run_job, job), timeout_seconds)
        try:
            # Submitted from a thread: the executor starts its worker processes inside `submit` (the
            # first jobs, and after a crash), which takes a few hundred ms the event loop must not wait.
            future = await asyncio.to_thread(self._executor.submit, run_job, job)
            return await asyncio.wait_for(asyncio.wrap_future(future, loop=loop), timeout_seconds)
        except BrokenProcessPool as exc:
            log.error("qc_worker_lost", bytes=len(job.data))
            broken, self._executor = self._executor, self._new_executor()
            broken.shutdown(wait=False, cancel_futures=True)
            raise QcWorkerLost("the QC worker died on this photo") from exc

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
