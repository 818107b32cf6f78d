"""QC runs in worker processes: the event loop keeps ticking, and a worker that dies is replaced."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from gradops_photo.qc import PROFILES
from gradops_photo.qc.pool import QcJob, QcPool, QcWorkerLost
from tests.factories import graduation_photo, jpeg
from tests.photo.domain.test_qc_safety import with_claimed_size

JOB = QcJob(graduation_photo(), PROFILES["ouc-platform"], standardise=True)


async def test_jobs_run_in_another_process_while_the_loop_keeps_ticking() -> None:
    pool = QcPool(2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        outcomes = await asyncio.gather(*(pool.run(JOB, 120) for _ in range(6)))
        assert all(o.report is not None and o.report.passed for o in outcomes)
        assert all(o.standardised is not None and o.standardised.fixed for o in outcomes)
        assert all(o.standardised_report is not None and o.standardised_report.passed for o in outcomes)
        assert ticks > 10, "the event loop was blocked while photos were analysed"
        assert pool._executor is not None
        worker_pid = await asyncio.get_running_loop().run_in_executor(pool._executor, os.getpid)
        assert worker_pid != os.getpid()
    finally:
        running.cancel()
        pool.shutdown()


async def test_a_dead_worker_fails_one_request_and_the_pool_is_replaced() -> None:
    pool = QcPool(1)
    try:
        assert pool._executor is not None
        crash = pool._executor.submit(os._exit, 1)  # what a segfault in a native decoder looks like
        with pytest.raises(BrokenProcessPool):
            crash.result(timeout=60)
        with pytest.raises(QcWorkerLost):
            await pool.run(JOB, 60)
        outcome = await pool.run(JOB, 120)
        assert outcome.report is not None and outcome.report.passed
    finally:
        pool.shutdown()


async def test_bombs_come_back_as_refusals_not_exceptions() -> None:
    pool = QcPool(1)
    try:
        outcome = await pool.run(QcJob(with_claimed_size(jpeg(), 10_000, 9_000), PROFILES["chsi-2017"]), 60)
        assert outcome.report is None and outcome.refused is not None
    finally:
        pool.shutdown()


async def test_without_processes_qc_runs_in_a_thread() -> None:
    pool = QcPool(0)
    outcome = await pool.run(JOB, 120)
    assert outcome.report is not None and outcome.report.passed
    pool.shutdown()
