"""Reviewing: decisions with their events, bulk approvals, CHSI states (one, or a CSV all or none),
the review queue and the expiry sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo.service import reviews
from gradops_shared.errors import Conflict, InvalidInput
from tests.photo.usecases.support import CENTRE_A, CENTRE_B, DEADLINES, HQ, events, fresh_no, submit


async def test_approve_then_chsi_then_a_chsi_rejection_unlocks_each_with_its_event(
    session: AsyncSession,
) -> None:
    number = fresh_no()
    submission = await submit(session, number)
    with pytest.raises(Conflict) as early:
        await reviews.record_chsi_state_of(session, submission.id, HQ, "on_chsi", reason=None)
    assert early.value.code == "photo.illegal_transition"
    await reviews.approve(session, submission.id, HQ, comment="good")
    assert submission.state == "approved" and submission.reviewer == "reviewer-1"
    await reviews.record_chsi_state_of(session, submission.id, HQ, "on_chsi", reason=None)
    await reviews.record_chsi_state_of(session, submission.id, HQ, "chsi_rejected", reason="人像比对不通过")
    assert submission.state == "chsi_rejected"
    assert [kind for kind, _ in await events(session, number)] == [
        "PhotoSubmitted",
        "PhotoApproved",
        "PhotoChsiStatusChanged",
        "PhotoChsiStatusChanged",
    ]
    assert (await submit(session, number)).state == "pending_review"  # the lock is lifted


async def test_reject_names_known_reasons_sets_a_deadline_and_expires_unanswered(
    session: AsyncSession,
) -> None:
    lazy, diligent = fresh_no(), fresh_no()
    lazy_one, diligent_one = await submit(session, lazy), await submit(session, diligent)
    with pytest.raises(InvalidInput) as unknown:
        await reviews.reject(
            session, lazy_one.id, HQ, reasons=["photo.made_up"], comment=None, deadlines=DEADLINES
        )
    assert unknown.value.code == "photo.unknown_reason"
    for submission in (lazy_one, diligent_one):
        await reviews.reject(
            session, submission.id, HQ, reasons=["photo.other"], comment="背景偏白", deadlines=DEADLINES
        )
    assert lazy_one.resubmit_by is not None
    assert [kind for kind, _ in await events(session, lazy)] == ["PhotoSubmitted", "PhotoRejected"]
    await submit(session, diligent)
    assert await reviews.expire_overdue(session, lazy_one.resubmit_by - timedelta(minutes=1)) == 0
    await reviews.expire_overdue(session, lazy_one.resubmit_by + timedelta(minutes=1))
    assert lazy_one.state == "expired" and diligent_one.state == "rejected"


async def test_reopen_unlocks_an_approved_photo(session: AsyncSession) -> None:
    number = fresh_no()
    submission = await submit(session, number)
    await reviews.approve(session, submission.id, HQ, comment=None)
    await reviews.reopen(session, submission.id, HQ, reason="补拍: 眼镜反光")
    assert submission.state == "reopened"
    assert [kind for kind, _ in await events(session, number)][-1] == "PhotoReopened"


async def test_bulk_approval_reports_each_refusal_and_approves_the_rest(session: AsyncSession) -> None:
    mine, theirs = await submit(session, fresh_no()), await submit(session, fresh_no(), centre="9999999")
    approved, refused = await reviews.approve_many(
        session, [mine.id, theirs.id, mine.id], CENTRE_A, comment=None
    )
    assert approved == [mine.id] and mine.state == "approved"
    assert [(r.id, r.code) for r in refused] == [(theirs.id, "photo.submission_not_found")]
    assert theirs.state == "pending_review"


async def test_the_review_queue_is_by_due_time_within_the_caller_s_reach(session: AsyncSession) -> None:
    mine = [await submit(session, fresh_no()) for _ in range(2)]
    page = await reviews.review_queue(
        session, CENTRE_B, overdue=False, centre=None, kind="graduation", limit=200, cursor=None, offset=0
    )
    assert not {s.id for s in mine} & {s.id for s in page.items}
    page = await reviews.review_queue(
        session, CENTRE_A, overdue=False, centre=None, kind="graduation", limit=200, cursor=None, offset=0
    )
    assert {s.id for s in mine} <= {s.id for s in page.items}
    due = [s.review_due_at for s in page.items]
    assert due == sorted(due)  # type: ignore[type-var]


async def test_a_chsi_csv_applies_every_row_or_none(session: AsyncSession) -> None:
    approved, waiting = await submit(session, fresh_no()), await submit(session, fresh_no())
    await reviews.approve(session, approved.id, HQ, comment=None)
    approved_id, approved_no = approved.id, approved.student_no  # a rolled-back savepoint expires them
    bad = f"student_no,chsi_state\n{approved_no},on_chsi\n{waiting.student_no},on_chsi\n".encode()
    with pytest.raises(InvalidInput) as refused:
        async with session.begin_nested():  # the edge's rollback, as a savepoint here
            await reviews.import_chsi_states(session, HQ, bad)
    assert refused.value.code == "photo.chsi_rows_invalid"
    assert [row["code"] for row in refused.value.extra["rows"]] == ["photo.no_approved_photo"]
    good = f"student_no,chsi_state\n{approved_no},on_chsi\n".encode()
    rows = await reviews.import_chsi_states(session, HQ, good)
    assert [(r.submission_id, r.state) for r in rows] == [(approved_id, "on_chsi")]
    with pytest.raises(InvalidInput) as columns:
        await reviews.import_chsi_states(session, HQ, b"number,state\n1,on_chsi\n")
    assert columns.value.code == "photo.csv_columns"
