"""Moving a submission through the state machine, each step logged with who, when and why."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gradops_photo import domain
from gradops_photo.errors import SUBMISSION_NOT_FOUND
from gradops_photo.models import PhotoSubmission, SubmissionTransition
from gradops_photo.repository import PhotoRepository
from gradops_photo.settings import PhotoSettings
from gradops_shared.errors import GradOpsError
from gradops_shared.principal import Principal
from gradops_shared.workdays import WorkCalendar


@dataclass(frozen=True)
class Deadlines:
    """The working-day rules of review and resubmission (from settings)."""

    calendar: WorkCalendar
    review_sla_workdays: int = 2
    resubmit_workdays: int = 2


def deadlines_of(settings: PhotoSettings) -> Deadlines:
    return Deadlines(settings.calendar(), settings.review_sla_workdays, settings.resubmit_workdays)


def not_found(submission_id: str) -> GradOpsError:
    return SUBMISSION_NOT_FOUND(f"No photo submission {submission_id}.", message_zh="照片提交记录不存在")


async def get_submission(
    session: AsyncSession,
    submission_id: str,
    principal: Principal | None = None,
    *,
    for_update: bool = False,
) -> PhotoSubmission:
    """A submission of a centre outside the caller's reach does not exist for the caller (404)."""
    submission = await PhotoRepository(session).get_submission(submission_id, for_update=for_update)
    if submission is None:
        raise not_found(submission_id)
    if principal is not None:
        principal.ensure_sees(submission.learning_centre, not_found(submission_id))
    return submission


def log(
    repo: PhotoRepository,
    submission: PhotoSubmission,
    previous: str | None,
    target: str,
    actor: str,
    reason: str | None,
    at: datetime,
) -> None:
    repo.add_transition(
        SubmissionTransition(
            submission_id=submission.id,
            from_state=previous,
            to_state=target,
            actor=actor,
            reason=reason,
            created_at=at,
        )
    )


def move(
    repo: PhotoRepository, submission: PhotoSubmission, target: str, actor: str, reason: str | None
) -> str:
    """One legal step of the state machine, logged with who, when and why."""
    previous = submission.state
    submission.state = domain.transition(previous, target)
    submission.updated_at = datetime.now(UTC)
    log(repo, submission, previous, target, actor, reason, submission.updated_at)
    return previous


def about(submission: PhotoSubmission) -> dict[str, Any]:
    """What every photo event says about its submission (student, submission id, kind)."""
    return {
        "student_no": submission.student_no,
        "submission_id": uuid.UUID(submission.id),
        "kind": submission.kind,
    }
