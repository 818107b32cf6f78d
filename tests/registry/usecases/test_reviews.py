"""前置学历复查 called as use cases: the review's states, its evidence, and what failing costs."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gradops_registry.models import Student
from gradops_registry.service import reviews
from gradops_shared.errors import Conflict, NotFound, UnsupportedMediaType
from tests.registry.usecases.support import HQ, events, registered

PDF = b"%PDF-1.4\n% evidence\n"


async def _step(
    session: AsyncSession, student: Student, action: reviews.ReviewAction, **kw: object
) -> reviews.Review:
    arguments: dict[str, object] = {
        "outcome": None,
        "evidence": [],
        "prior_graduation_year": None,
        "abroad": False,
        "notice_date": date(2026, 1, 31),
        "notes": None,
    }
    arguments.update(kw)
    return await reviews.review_step(session, HQ, student.student_no, action=action, **arguments)  # type: ignore[arg-type]


async def test_a_failed_review_goes_to_the_province_and_then_cancels_the_status(
    session: AsyncSession,
) -> None:
    student = await registered(session, level="bachelor_from_junior_college")
    flagged = await _step(session, student, "flag")
    assert flagged.student.prior_education_state == "pending"
    assert flagged.student.prior_education_deadline == date(2026, 4, 30)
    first = await _step(
        session,
        student,
        "first_review",
        outcome="failed",
        prior_graduation_year=2010,
        evidence=[reviews.EvidenceUpload("registration_record", PDF)],
    )
    assert first.student.prior_education_state == "second_review"
    assert first.steps[-1].evidence[0]["media_type"] == "application/pdf"
    blob = await reviews.evidence_file(session, HQ, student.student_no, first.steps[-1].evidence[0]["sha256"])
    assert blob.content == PDF
    second = await _step(
        session,
        student,
        "second_review",
        outcome="failed",
        evidence=[
            reviews.EvidenceUpload(kind, PDF)
            for kind in ("prior_diploma", "id_card", "identity_consistency_proof")
        ],
    )
    assert second.student.prior_education_state == "failed" and second.student.status == "cancelled"
    assert [s.stage for s in second.steps] == ["flagged", "first_review", "second_review"]
    sent = await events(session, student.student_no)
    assert sent.count("PriorEducationReviewed") == 3 and "StudentStatusChanged" in sent


async def test_evidence_is_opened_only_through_its_own_student(session: AsyncSession) -> None:
    student = await registered(session, level="bachelor_from_junior_college")
    other = await registered(session, level="bachelor_from_junior_college")
    await _step(session, student, "flag")
    done = await _step(
        session,
        student,
        "first_review",
        outcome="passed",
        abroad=True,
        evidence=[reviews.EvidenceUpload("overseas_credential", PDF)],
    )
    assert done.student.prior_education_state == "passed"
    digest = done.steps[-1].evidence[0]["sha256"]
    with pytest.raises(NotFound) as refused:
        await reviews.evidence_file(session, HQ, other.student_no, digest)
    assert refused.value.code == "registry.evidence_not_found"


async def test_evidence_must_be_a_pdf_jpeg_or_png_and_only_bachelors_are_flagged(
    session: AsyncSession,
) -> None:
    bachelor = await registered(session, level="bachelor_from_junior_college")
    await _step(session, bachelor, "flag")
    with pytest.raises(UnsupportedMediaType):
        await _step(
            session,
            bachelor,
            "first_review",
            outcome="passed",
            abroad=True,
            evidence=[reviews.EvidenceUpload("overseas_credential", b"PK\x03\x04 a zip")],
        )
    junior = await registered(session)
    with pytest.raises(Conflict) as refused:
        await _step(session, junior, "flag")
    assert refused.value.code == "registry.prior_education_not_applicable"


async def test_an_overdue_review_is_listed(session: AsyncSession) -> None:
    student = await registered(session, level="bachelor_from_junior_college")
    await _step(session, student, "flag", notice_date=date(2020, 1, 1))
    assert student.student_no in {s.student_no for s in await reviews.overdue(session, HQ, 1000)}
