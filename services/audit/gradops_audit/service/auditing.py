"""Auditing applications: one student or a whole batch, the same code, in submission order.
Never commits: the edge owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from gradops_audit.domain import batches
from gradops_audit.domain.rules import RuleBook
from gradops_audit.models import Application, Batch, outbox
from gradops_audit.repository import AuditRepository
from gradops_audit.service.batches import batch_date_rule, get_batch
from gradops_audit.service.evaluation import audit_row, evaluate, facts_from_rows, grants_for, load_rule_book
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import AuditFailed, AuditPassed, EventData
from gradops_shared.metrics import count_after_commit
from gradops_shared.outbox import add_events

CLOSED_STATUSES = frozenset({"graduated"})
AUTO_SIGN_OFF = "auto_sign_off"  # the actor recorded when settings sign off by themselves


@dataclass
class BatchRunStats:
    audited: int = 0
    passed: int = 0
    failed: int = 0
    events: int = 0
    signed_off: int = 0
    outcomes: dict[int, tuple[str, bool, list[str]]] = field(default_factory=dict)  # seq → run
    signed_seqs: set[int] = field(default_factory=set)

    def figures(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("audited", "passed", "failed", "events", "signed_off")}


async def audit_applications(
    session: AsyncSession,
    applications: Sequence[Any],
    *,
    trigger: str,
    settings: AuditSettings,
    actor: str | None = None,
    book: RuleBook | None = None,
) -> BatchRunStats:
    """Audits open applications (ORM objects or plain rows) in submission order, in bulk: a handful
    of queries for the facts, the pure rules per student, one insert of the runs, one update of the
    applications and one of the outbox. AuditFailed goes out only when an outcome flips."""
    repo = AuditRepository(session)
    stats = BatchRunStats()
    todo = sorted((a for a in applications if a.state == "open"), key=lambda a: a.seq)
    if not todo:
        return stats
    book = book or await load_rule_book(repo, settings.degree_rule_set)
    numbers = [a.student_no for a in todo]
    students, photos, transcripts = await repo.fact_rows(numbers)
    exceptions = await repo.active_exceptions(numbers)
    batch_rows = {code: await repo.batch(code) for code in {a.batch_code for a in todo}}
    now = datetime.now(UTC)
    audits: list[dict[str, Any]] = []
    outcomes: list[tuple[int, str, bool, list[str]]] = []
    signed: list[Any] = []
    events: list[EventData] = []
    for app in todo:
        facts = facts_from_rows(
            app.student_no,
            students.get(app.student_no),
            photos.get(app.student_no, []),
            transcripts.get(app.student_no),
            app.secondary_vocational_proof,
        )
        evaluation = evaluate(
            facts,
            book,
            grants_for(exceptions.get(app.student_no, []), app.batch_code),
            settings,
            with_degree=app.type == "graduate_with_degree",
        )
        row = audit_row(
            evaluation,
            batch_code=app.batch_code,
            application=app,
            book=book,
            trigger=trigger,
            actor=actor,
            now=now,
        )
        audits.append(row)
        passed, failed = evaluation.result.passed, evaluation.result.failed_codes
        # An outcome is pass or fail: a failure whose reasons shift is announced once, when it began.
        changed = app.passed is None or app.passed != passed
        outcomes.append((app.seq, row["id"], passed, failed))
        if changed and not passed:
            events.append(
                AuditFailed(
                    student_no=app.student_no,
                    audit_id=uuid.UUID(row["id"]),
                    batch_code=app.batch_code,
                    failed_checks=failed,
                )
            )
        batch = batch_rows[app.batch_code]
        if passed and settings.auto_sign_off and batch is not None:
            events.append(
                passed_event(
                    app,
                    row["id"],
                    evaluation.result.degree_eligible,
                    facts.level,
                    batch,
                    students.get(app.student_no),
                )
            )
            signed.append(app)
        stats.audited += 1
        stats.passed += passed
        stats.failed += not passed
    await repo.insert_audits(audits)
    await repo.record_outcomes(outcomes)
    await repo.mark_signed_off([a.seq for a in signed], AUTO_SIGN_OFF, now)
    stats.signed_off = len(signed)
    stats.outcomes = {seq: (audit_id, passed, failed) for seq, audit_id, passed, failed in outcomes}
    stats.signed_seqs = {a.seq for a in signed}
    # The ORM objects in this session must see what the bulk updates wrote, without being dirtied.
    for app, (_seq, audit_id, passed, failed) in zip(todo, outcomes, strict=True):
        if isinstance(app, Application):
            for key, value in (("last_audit_id", audit_id), ("passed", passed), ("failed_checks", failed)):
                set_committed_value(app, key, value)
    for app in (a for a in signed if isinstance(a, Application)):
        set_committed_value(app, "state", "signed_off")
        set_committed_value(app, "signed_off_by", AUTO_SIGN_OFF)
        set_committed_value(app, "signed_off_at", now)
    await add_events(session, outbox, events)
    stats.events = len(events)
    count_after_commit(session, "audit_outcomes", stats.passed, outcome="passed")
    count_after_commit(session, "audit_outcomes", stats.failed, outcome="failed")
    return stats


def passed_event(
    app: Application,
    audit_id: str,
    degree_eligible: bool | None,
    level: Any,
    batch: Batch,
    student: Any | None,
) -> AuditPassed:
    return AuditPassed(
        student_no=app.student_no,
        audit_id=uuid.UUID(audit_id),
        batch_code=app.batch_code,
        application_type="graduate_with_degree" if app.type == "graduate_with_degree" else "graduate",
        level=level,
        graduation_date=batches.batch_graduation_date(batch.code, batch_date_rule(batch)),
        issue_date=batch.issue_date,
        learning_centre=student.learning_centre if student is not None else app.learning_centre,
        degree_granted=app.type == "graduate_with_degree" and bool(degree_eligible),
    )


async def reaudit_student(
    session: AsyncSession, student_no: str, trigger: str, settings: AuditSettings
) -> None:
    """A fact changed: the student's open application is audited again at once. A graduate's audit
    is closed (graduation is not undone by a later re-audit)."""
    await session.flush()
    repo = AuditRepository(session)
    student = await repo.student(student_no)
    if student is not None and student.status in CLOSED_STATUSES:
        return
    applications = await repo.open_applications_of(student_no)
    if applications:
        await audit_applications(session, applications, trigger=trigger, settings=settings)


async def run_batch(
    session: AsyncSession, batch_code: str, actor: str, settings: AuditSettings
) -> BatchRunStats:
    """Re-audits every open application of the batch, in submission order (after a rule change)."""
    await get_batch(session, batch_code)
    applications = await AuditRepository(session).batch_application_rows(batch_code)
    return await audit_applications(
        session, applications, trigger="BatchAuditRun", settings=settings, actor=actor
    )
