"""Capture sessions (wrong digits lock the code; the token authorises one session's upload), 图像校对
(confirmed only when said twice) and import jobs (recorded, hidden from other centres, failed when
their process died)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.domain.capture import code_digest
from gradops_photo.repository import PhotoRepository
from gradops_photo.service import capture, imports, proofreading, reviews
from gradops_photo.service.imports import ImportOptions, limits_of
from gradops_photo.settings import PhotoSettings
from gradops_shared.errors import Conflict, GradOpsError, InvalidInput, NotFound
from tests.photo.usecases.support import CENTRE_A, CENTRE_B, HQ, events, fresh_no, submit
from tests.photo.zips import build_zip


async def test_wrong_digits_count_until_the_code_locks_and_the_right_ones_reset(
    session: AsyncSession,
) -> None:
    code, now = f"code-{fresh_no()}", datetime.now(UTC)
    tries = [
        await capture.record_wrong_digits(session, code, now, max_failures=3, lock_minutes=15)
        for _ in range(3)
    ]
    assert [left for left, _ in tries] == [2, 1, 0] and tries[-1][1] == now + timedelta(minutes=15)
    with pytest.raises(GradOpsError) as locked:
        await capture.ensure_not_locked(session, code, now)
    assert (locked.value.status, locked.value.code) == (423, "photo.collection_code_locked")
    await capture.ensure_not_locked(session, code, now + timedelta(minutes=16))  # the lock ran out
    student = {"student_no": fresh_no(), "status": "enrolled", "learning_centre": "5135701"}
    row, token = await capture.open_session(
        session,
        code=code,
        student=student,
        principal=CENTRE_A,
        minutes=30,
        fee_paid=False,
        fee_amount_cents=None,
        fee_provider_reference=None,
    )
    await session.flush()
    assert await PhotoRepository(session).code_attempts(code_digest(code)) is None
    assert (await capture.authorise_upload(session, row.id, token, CENTRE_A)) is row
    with pytest.raises(GradOpsError) as wrong:
        await capture.authorise_upload(session, row.id, "not-the-token", CENTRE_A)
    assert (wrong.value.status, wrong.value.code) == (403, "photo.capture_token_invalid")
    with pytest.raises(NotFound):
        await capture.authorise_upload(session, row.id, token, CENTRE_B)


async def test_a_student_not_in_school_cannot_open_a_capture_session(session: AsyncSession) -> None:
    with pytest.raises(Conflict) as refused:
        await capture.open_session(
            session,
            code="c",
            student={"student_no": fresh_no(), "status": "suspended"},
            principal=HQ,
            minutes=30,
            fee_paid=False,
            fee_amount_cents=None,
            fee_provider_reference=None,
        )
    assert refused.value.code == "photo.student_not_enrolled"


async def test_proofreading_is_final_only_when_confirmed_twice(session: AsyncSession) -> None:
    number = fresh_no()
    with pytest.raises(NotFound):
        await proofreading.proofread(session, number, HQ, action="confirm", detail=None)
    submission = await submit(session, number)
    await reviews.approve(session, submission.id, HQ, comment=None)
    with pytest.raises(InvalidInput):
        await proofreading.proofread(session, number, HQ, action="report_error", detail="  ")
    first = await proofreading.proofread(session, number, HQ, action="confirm", detail=None)
    assert first == (submission, False) and submission.proofread_state == "confirm_requested"
    assert await proofreading.proofread(session, number, HQ, action="confirm", detail=None) == (
        submission,
        True,
    )
    with pytest.raises(Conflict) as final:
        await proofreading.proofread(session, number, HQ, action="report_error", detail="姓名错误")
    assert final.value.code == "photo.proofread_final"
    proofread = [data for kind, data in await events(session, number) if kind == "PhotoProofread"]
    assert [p["outcome"] for p in proofread] == ["confirmed"]


async def test_an_import_job_is_recorded_for_its_centre_and_failed_when_its_process_died(
    session: AsyncSession,
) -> None:
    settings = PhotoSettings()
    options = ImportOptions(dry_run=True)
    data = build_zip([("1.jpg", b"x")])
    job = await imports.create_import(
        session, data=data, options=options, principal=CENTRE_A, limits=limits_of(settings)
    )
    assert job.status == "queued" and job.total == 1 and job.centres == ["5135701"]
    await session.flush()
    found, files = await imports.import_with_files(session, job.id, CENTRE_A)
    assert found is job and files == []
    with pytest.raises(NotFound):
        await imports.get_import(session, job.id, CENTRE_B)
    job.heartbeat_at = datetime.now(UTC) - timedelta(minutes=10)
    assert await imports.fail_stale_imports(session, settings.import_stale_seconds) >= 1
    assert job.status == "failed" and "interrupted" in (job.error or "")
    with pytest.raises(InvalidInput) as not_zip:
        await imports.create_import(
            session, data=b"PK\x03\x04 no", options=ImportOptions(), principal=HQ, limits=limits_of(settings)
        )
    assert not_zip.value.code == "photo_import.not_a_zip"
