"""Submitting and reading back: state after QC, supersession, the lock, pages, files, tenancy."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.errors import FILTER_INVALID, REGISTRY_UNAVAILABLE
from gradops_photo.qc.pool import QcPool
from gradops_photo.repository import PhotoRepository
from gradops_photo.service import reviews, submissions
from gradops_photo.service.history import get_submission
from gradops_photo.settings import PhotoSettings
from gradops_shared.errors import Conflict, InvalidInput, NotFound
from gradops_shared.peers import RegistryClient
from tests.factories import graduation_photo
from tests.photo.usecases.support import CENTRE_A, CENTRE_B, HQ, events, fresh_no, submit


async def test_a_good_photo_waits_for_review_with_its_history_and_one_event(session: AsyncSession) -> None:
    number = fresh_no()
    submission = await submit(session, number)
    assert submission.state == "pending_review" and submission.review_due_at is not None
    found, history = await submissions.submission_with_history(session, submission.id, CENTRE_A)
    assert found is submission
    assert [(t.from_state, t.to_state, t.actor) for t in history] == [
        (None, "submitted", "centre-a"),
        ("submitted", "pending_review", "qc"),
    ]
    assert [(kind, data["state"]) for kind, data in await events(session, number)] == [
        ("PhotoSubmitted", "pending_review")
    ]


async def test_a_new_upload_supersedes_the_waiting_one_and_an_approved_photo_locks(
    session: AsyncSession,
) -> None:
    number = fresh_no()
    first = await submit(session, number)
    second = await submit(session, number, graduation_photo("astronaut"))
    assert first.state == "superseded" and second.state == "pending_review"
    await reviews.approve(session, second.id, HQ, comment=None)
    with pytest.raises(Conflict) as locked:
        await submit(session, number)
    assert locked.value.code == "photo.locked" and locked.value.extra["submission_id"] == second.id
    assert (await submissions.current_photo(session, number, "graduation")) is second


async def test_other_centres_see_nothing_and_files_say_which_variant_exists(session: AsyncSession) -> None:
    submission = await submit(session, fresh_no())
    with pytest.raises(NotFound) as hidden:
        await get_submission(session, submission.id, CENTRE_B)
    assert hidden.value.code == "photo.submission_not_found"
    blob = await PhotoRepository(session).get_blob(submission.sha256)
    assert blob is not None
    assert await submissions.submission_file(session, submission.id, "original", CENTRE_A) == blob.content
    with pytest.raises(NotFound) as missing:
        await submissions.submission_file(session, submission.id, "standardised", HQ)
    assert missing.value.code == "photo.file_not_found"


async def test_a_student_s_submissions_come_in_cursor_pages(session: AsyncSession) -> None:
    number = fresh_no()
    ids = [
        (await submit(session, number, graduation_photo(name))).id for name in ("astronaut", "grace_hopper")
    ]
    registry = _registry({})
    page, cursor, count = await submissions.student_submissions(
        session, registry, HQ, number, limit=1, cursor=None
    )
    assert count == 2 and [s.id for s in page] == ids[:1] and cursor is not None
    page, cursor, _ = await submissions.student_submissions(
        session, registry, HQ, number, limit=1, cursor=cursor
    )
    assert [s.id for s in page] == ids[1:] and cursor is None
    with pytest.raises(InvalidInput) as invalid:
        await submissions.student_submissions(session, registry, HQ, number, limit=1, cursor="nonsense")
    assert invalid.value.code == "photo.cursor_invalid"


async def test_a_centre_upload_is_checked_then_asks_the_registry_then_stores(session: AsyncSession) -> None:
    number = fresh_no()
    students = {number: {"student_no": number, "status": "enrolled", "learning_centre": "5135701"}}
    registry = _registry(students)
    pool = QcPool(0)
    settings = PhotoSettings()
    stored = await submissions.submit_centre_photo(
        session,
        pool,
        registry,
        settings,
        CENTRE_A,
        student_no=number,
        kind="graduation",
        data=graduation_photo(),
        standardise=False,
    )
    assert stored.state == "pending_review" and stored.learning_centre == "5135701"
    assert stored.qc_report["passed"] is True
    with pytest.raises(NotFound) as unknown:
        await submissions.submit_centre_photo(
            session,
            pool,
            registry,
            settings,
            CENTRE_A,
            student_no=fresh_no(),
            kind="graduation",
            data=graduation_photo(),
            standardise=False,
        )
    assert unknown.value.code == "photo.student_not_found"
    with pytest.raises(InvalidInput) as not_jpeg:  # QC first: the registry is not even asked
        await submissions.submit_centre_photo(
            session,
            pool,
            registry,
            settings,
            CENTRE_A,
            student_no=number,
            kind="graduation",
            data=b"GIF89a not a photo",
            standardise=False,
        )
    assert not_jpeg.value.code == "photo.format"


def _registry(students: dict[str, dict[str, str]]) -> RegistryClient:
    """The registry as the photo service sees it: known students answer 200, others 404."""

    def answer(request: httpx.Request) -> httpx.Response:
        student = students.get(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(200, json=student) if student else httpx.Response(404, json={})

    return RegistryClient(
        httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://registry"),
        service="photo",
        secret="test-secret",
        unavailable=REGISTRY_UNAVAILABLE,
        invalid=FILTER_INVALID,
    )
