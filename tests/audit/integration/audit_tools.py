"""Seeding the audit's own tables for consumer tests: a known student with an open application."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from gradops_audit.domain.batches import graduation_date
from gradops_audit.models import Application, Batch, KnownStudent
from gradops_shared.db import Database


async def seed_open_application(
    db: Database,
    number: str,
    *,
    batch_code: str = "202612",
    level: str = "junior_college",
    learning_centre: str = "5135701",
) -> str:
    """A registered student with an open `graduate` application (not audited yet); returns its id."""
    now = datetime.now(UTC)
    today = now.date()
    application_id = str(uuid.uuid4())
    async with db.transaction() as session:
        if await session.get(Batch, batch_code) is None:
            session.add(
                Batch(
                    code=batch_code,
                    name=f"batch {batch_code}",
                    cohort_cutoff_term="2025-autumn",
                    rounds=[
                        {
                            "number": 1,
                            "opens_on": (today - timedelta(days=30)).isoformat(),
                            "closes_on": (today + timedelta(days=30)).isoformat(),
                        }
                    ],
                    issue_date=graduation_date(batch_code),
                    graduation_date_rule="quarterly",
                    fixed_graduation_date=None,
                    updated_by="test",
                    created_at=now,
                    updated_at=now,
                )
            )
        session.add(
            KnownStudent(
                student_no=number,
                status="enrolled",
                level=level,
                learning_centre=learning_centre,
                category="open_education",
                major="机电一体化技术",
                enrolment_term="2021-spring",
                formal_status=True,
                identity_in_doubt=False,
                updated_at=now,
            )
        )
        session.add(
            Application(
                id=application_id,
                batch_code=batch_code,
                student_no=number,
                learning_centre=learning_centre,
                type="graduate",
                state="open",
                round_no=1,
                submitted_by="test",
                submitted_at=now,
            )
        )
    return application_id
