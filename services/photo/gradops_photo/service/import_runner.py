"""Works through a bulk-import zip in the background (a task of the API process per job): registry
look-ups and QC concurrently, results written in small batches that move the job's heartbeat.

Takes the runtime, not a session: the job commits batch by batch (progress is visible while it runs,
and a crash loses one batch, not the job), so it opens its own short transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain
from gradops_photo.domain.archive import (
    ArchiveLimits,
    EntryPlan,
    EntryUnreadable,
    open_archive,
    plan_archive,
    read_entry,
)
from gradops_photo.models import PhotoImportFile
from gradops_photo.qc import PROFILES
from gradops_photo.qc.pool import QcJob, QcPool, QcWorkerLost
from gradops_photo.repository import PhotoRepository
from gradops_photo.schemas import QcReportOut
from gradops_photo.service.history import Deadlines, deadlines_of
from gradops_photo.service.imports import ImportOptions, limits_of
from gradops_photo.service.registry import lookup_student, registry_client
from gradops_photo.service.submissions import submit_photo
from gradops_photo.settings import PhotoSettings
from gradops_shared.errors import Conflict, GradOpsError, NotFound
from gradops_shared.principal import Principal
from gradops_shared.runtime import Runtime

log = structlog.get_logger(__name__)

# Up to this many pictures the registry is asked per student; above, the roster is listed in pages.
_PER_FILE_LOOKUPS = 20
_HEARTBEAT_SECONDS = 5.0
_FLUSH_SECONDS = 0.5


@dataclass
class FileResult:
    position: int
    name: str
    outcome: str
    reason: str | None = None
    detail: str | None = None
    student_no: str | None = None
    failed_checks: list[str] | None = None
    # To store (not dry run): the picture, its report and the student's centre.
    data: bytes | None = None
    judged: Any = None
    learning_centre: str | None = None
    submission_id: str | None = None
    first_of_student: bool = False  # no submission of this kind before the job: nothing to check


@dataclass(frozen=True)
class _Judging:
    """What judging one picture of a job needs: the open zip, the limits, the students' current
    photos, the roster (large jobs) and the concurrency bounds of look-ups and QC."""

    archive: zipfile.ZipFile
    limits: ArchiveLimits
    existing: dict[str, set[str]]
    roster: dict[str, dict[str, Any]] | None
    lookups: asyncio.Semaphore
    checks: asyncio.Semaphore


@dataclass
class _Run:
    job_id: str
    options: ImportOptions
    principal: Principal
    results: list[FileResult] = field(default_factory=list)


class ImportRunner:
    """Runs import jobs as tasks of the API process (one task per job)."""

    def __init__(self, runtime: Runtime, pool: QcPool, settings: PhotoSettings) -> None:
        self.runtime = runtime
        self.pool = pool
        self.settings = settings
        self.registry = registry_client(runtime, settings)
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, import_id: str, data: bytes) -> asyncio.Task[None]:
        """Works through the job's zip (held by the task only, never stored)."""
        task = asyncio.create_task(self._run(import_id, data), name=f"photo-import-{import_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, import_id: str, data: bytes) -> None:
        try:
            await self._process(import_id, data)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._fail(import_id, "interrupted: the service stopped; upload the zip again")
            )
            raise
        except GradOpsError as exc:  # e.g. the registry could not be reached for the roster
            log.warning("photo_import_failed", import_id=import_id, code=exc.code)
            await self._fail(import_id, f"{exc.code}: {exc.detail}; upload the zip again")
        except Exception as exc:
            log.exception("photo_import_failed", import_id=import_id)
            await self._fail(import_id, f"internal error ({type(exc).__name__}); upload the zip again")

    async def _fail(self, import_id: str, error: str) -> None:
        async with self.runtime.db.transaction() as session:
            job = await PhotoRepository(session).get_import(import_id)
            if job is not None and job.status in ("queued", "running"):
                job.status, job.error, job.finished_at = "failed", error, datetime.now(UTC)

    async def _process(self, import_id: str, data: bytes) -> None:
        async with self.runtime.db.transaction() as session:
            job = await PhotoRepository(session).get_import(import_id)
            if job is None or job.status != "queued":
                return
            job.status = "running"
            job.started_at = job.heartbeat_at = datetime.now(UTC)
            options = ImportOptions(**job.options)
            principal = Principal(
                subject=job.actor,
                scopes=frozenset({"photos:write"}),
                centres=None if job.centres is None else frozenset(job.centres),
            )
        run = _Run(import_id, options, principal)
        limits = limits_of(self.settings)
        plans = await asyncio.to_thread(plan_archive, data, limits)
        for plan in plans:
            if plan.outcome is not None:
                run.results.append(
                    FileResult(plan.position, plan.name, plan.outcome, plan.reason, plan.detail)
                )
        candidates = [plan for plan in plans if plan.outcome is None]
        existing = await self._existing_photos(
            [p.student_no for p in candidates if p.student_no], options.kind
        )
        done = asyncio.Event()
        flusher = asyncio.create_task(self._flush_loop(run, done))
        try:
            roster = await self._roster(run) if len(candidates) > _PER_FILE_LOOKUPS else None
            archive = open_archive(data)
            lookups = asyncio.Semaphore(16)
            checks = asyncio.Semaphore(max(2, self.pool.workers * 2))
            with archive:
                ctx = _Judging(archive, limits, existing, roster, lookups, checks)
                await asyncio.gather(*(self._one(run, plan, ctx) for plan in candidates))
        finally:
            done.set()
            await flusher
        await self._flush(run, final=True)

    async def _roster(self, run: _Run) -> dict[str, dict[str, Any]]:
        """The students within the job's reach, listed in pages: one registry call per 500 students
        instead of one per picture (a look-up costs as much as listing ~100 students)."""
        params: dict[str, Any] = {}
        if run.principal.centres is not None:
            params["centre"] = sorted(run.principal.centres)
        students = await self.registry.students(run.principal, params)
        return {str(student["student_no"]): student for student in students}

    async def _existing_photos(self, student_nos: list[str], kind: str) -> dict[str, set[str]]:
        async with self.runtime.db.session() as session:
            found = await PhotoRepository(session).submissions_of_many(student_nos, kind)
        states: dict[str, set[str]] = {}
        for submission in found:
            states.setdefault(submission.student_no, set()).add(submission.state)
        return states

    async def _one(self, run: _Run, plan: EntryPlan, ctx: _Judging) -> None:
        result = await self._judge(run, plan, ctx)
        # Appended after the await: the flusher may have swapped the list in the meantime.
        run.results.append(result)

    async def _judge(self, run: _Run, plan: EntryPlan, ctx: _Judging) -> FileResult:
        student_no = plan.student_no
        assert student_no is not None and plan.info is not None

        def skipped(reason: str | None, detail: str | None, outcome: str = "skipped") -> FileResult:
            return FileResult(plan.position, plan.name, outcome, reason, detail, student_no)

        states = ctx.existing.get(student_no, set())
        if states & domain.LOCKED_STATES:
            return skipped("photo_import.photo_locked", "the student's photo is approved (locked)")
        if states & domain.HAS_PHOTO_STATES and not run.options.overwrite:
            return skipped(
                "photo_import.already_has_photo", "the student already has a photo (overwrite=false)"
            )
        if ctx.roster is not None:
            found = ctx.roster.get(student_no)
            if found is None:
                return skipped("photo_import.student_not_found", "no such student (or not in your centres)")
            student = found
        else:
            async with ctx.lookups:
                try:
                    student = await lookup_student(self.registry, run.principal, student_no)
                except NotFound:
                    return skipped(
                        "photo_import.student_not_found", "no such student (or not in your centres)"
                    )
                except Conflict as exc:
                    return skipped("photo_import.student_not_enrolled", exc.detail or "not 在籍")
                except GradOpsError as exc:
                    return skipped("photo_import.registry_unavailable", exc.detail or "registry unavailable")
        status = student.get("status")
        if status != "enrolled":
            why = "graduated students: single upload only" if status == "graduated" else f"status {status}"
            return skipped("photo_import.student_not_enrolled", f"only 在籍 students are imported ({why})")
        if run.options.level is not None and student.get("level") != run.options.level:
            return skipped("photo_import.level_mismatch", f"the student's level is {student.get('level')}")
        try:  # inflating up to 2 MB: off the event loop
            content = await asyncio.to_thread(read_entry, ctx.archive, plan.info, ctx.limits)
        except EntryUnreadable as exc:
            return skipped(exc.reason, exc.detail, "rejected")
        async with ctx.checks:
            try:
                outcome = await self.pool.run(
                    QcJob(content, PROFILES[run.options.profile]), self.settings.qc_timeout_seconds
                )
            except (TimeoutError, QcWorkerLost):
                return skipped("photo.format", "the picture could not be analysed", "rejected")
        report = outcome.report
        if outcome.refused is not None or report is None or not report.decodable_jpeg:
            return skipped("photo.format", "not a complete JPEG image", "rejected")
        if report.rejected:
            failed = report.failed_codes("error")
            result = skipped("photo_import.qc_failed", "failed: " + ", ".join(failed), "rejected")
            result.failed_checks = failed
            return result
        result = skipped(None, None, "accepted" if run.options.dry_run else "stored")
        result.first_of_student = not states
        result.data, result.judged, result.learning_centre = content, report, student.get("learning_centre")
        return result

    async def _flush_loop(self, run: _Run, done: asyncio.Event) -> None:
        """Writes results as they come and beats at least every few seconds, even while nothing
        finishes (a slow roster listing must not look like a dead process)."""
        last = time.monotonic()
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), _FLUSH_SECONDS)
            if done.is_set():
                return
            if run.results or time.monotonic() - last > _HEARTBEAT_SECONDS:
                await self._flush(run, final=False)
                last = time.monotonic()

    async def _flush(self, run: _Run, *, final: bool) -> None:
        """Writes the finished files (and their submissions) and moves the job's progress."""
        batch, run.results = run.results, []
        deadlines = deadlines_of(self.settings)
        started = time.monotonic()
        async with self.runtime.db.transaction() as session:
            repo = PhotoRepository(session)
            job = await repo.get_import(run.job_id, for_update=True)
            assert job is not None
            counts = dict(job.counts)
            for result in batch:
                if result.outcome == "stored":
                    await self._store(session, run, result, deadlines)
                counts[result.outcome] = counts.get(result.outcome, 0) + 1
                repo.add(
                    PhotoImportFile(
                        import_id=run.job_id,
                        position=result.position,
                        name=result.name,
                        outcome=result.outcome,
                        reason=result.reason,
                        detail=result.detail,
                        student_no=result.student_no,
                        submission_id=result.submission_id,
                        failed_checks=result.failed_checks,
                    )
                )
            now = datetime.now(UTC)
            job.counts, job.processed, job.heartbeat_at = counts, job.processed + len(batch), now
            if final:
                job.status, job.finished_at = "done", now
        log.debug("photo_import_flush", files=len(batch), ms=round((time.monotonic() - started) * 1000))

    async def _store(
        self, session: AsyncSession, run: _Run, result: FileResult, deadlines: Deadlines
    ) -> None:
        assert result.data is not None and result.student_no is not None

        async def store() -> None:
            submission = await submit_photo(
                session,
                student_no=result.student_no or "",
                kind=run.options.kind,
                source="bulk_import",
                data=result.data or b"",
                judged=result.judged,
                qc_report=QcReportOut.model_validate(result.judged.as_dict()).model_dump(mode="json"),
                actor=run.principal.subject,
                learning_centre=result.learning_centre,
                deadlines=deadlines,
                first_of_student=result.first_of_student,
            )
            result.submission_id = submission.id

        if result.first_of_student:
            await store()
            return
        try:  # a photo may have been approved by a reviewer while the job ran
            async with session.begin_nested():
                await store()
        except Conflict as exc:
            result.outcome, result.reason, result.detail = "skipped", "photo_import.photo_locked", exc.detail
