"""Audit use cases: keep the facts current from events, audit applications at once (one student
or a whole batch, the same code), sign off, what-if. Never commits: the edge owns the transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from gradops_audit.domain import batches, engine
from gradops_audit.domain.engine import Course, Grant, Options, StudentFacts, Transcript
from gradops_audit.models import Application, AuditException, Batch, KnownStudent, outbox
from gradops_audit.repository import AuditRepository
from gradops_audit.rulebook import RuleBook, load_rule_book
from gradops_audit.settings import AuditSettings
from gradops_shared.contracts import AuditFailed, AuditPassed, EventData, StudentSnapshot
from gradops_shared.errors import NotFound
from gradops_shared.metrics import count_after_commit
from gradops_shared.outbox import add_events

CLOSED_STATUSES = frozenset({"graduated"})
AUTO_SIGN_OFF = "auto_sign_off"  # the actor recorded when settings sign off by themselves


def student_not_found(student_no: str) -> NotFound:
    return NotFound(
        f"No student with number {student_no}.",
        code="audit.student_not_found",
        message_zh=f"学号 {student_no} 的学生不存在",
    )


def batch_not_found(code: str) -> NotFound:
    return NotFound(
        f"No graduation batch {code}.", code="audit.batch_not_found", message_zh=f"毕业批次 {code} 不存在"
    )


def options_for(settings: AuditSettings, *, with_degree: bool) -> Options:
    return Options(
        check_chsi_photos=settings.check_chsi_photos,
        secondary_vocational_categories=frozenset(settings.secondary_vocational_categories),
        with_degree=with_degree,
    )


# facts -----------------------------------------------------------------------------------------


def transcript_from_row(row: Any) -> Transcript:
    """From a `fact_rows` transcript row (courses as their stored JSON text)."""
    return Transcript(
        courses=tuple(
            Course(
                c["code"],
                c.get("name", ""),
                float(c.get("credits", 0)),
                c["category"],
                c.get("score"),
                c.get("passed"),
                c.get("published", True),
            )
            for c in json.loads(row.courses_json)
        ),
        thesis_score=row.thesis_score,
        thesis_similarity=row.thesis_similarity,
        english_exam=row.english_exam,
        english_score=row.english_score,
        english_passed=row.english_passed,
        fingerprint=row.courses_json,
    )


def facts_from_rows(
    student_no: str, student: Any | None, photos: list[Any], transcript: Any | None, proof: str | None
) -> StudentFacts:
    by_kind = {p.kind: p for p in photos}
    graduation, admission = by_kind.get("graduation"), by_kind.get("admission")
    return StudentFacts(
        student_no=student_no,
        known=student is not None,
        status=student.status if student else None,
        level=student.level if student else None,
        category=student.category if student else None,
        major=student.major if student else None,
        enrolment_term=student.enrolment_term if student else None,
        formal_status=bool(student.formal_status) if student else True,
        identity_in_doubt=bool(student.identity_in_doubt) if student else False,
        graduation_photo_approved=bool(graduation and graduation.approved),
        chsi_admission_photo=bool(admission and admission.chsi_state == "on_chsi"),
        chsi_graduation_photo=bool(graduation and graduation.chsi_state == "on_chsi"),
        photo_in_doubt=any(p.chsi_state == "chsi_rejected" for p in photos),
        secondary_vocational_proof=proof,
        transcript=transcript_from_row(transcript) if transcript is not None else None,
    )


def grants_for(exceptions: Sequence[AuditException], batch_code: str | None) -> list[Grant]:
    return [
        Grant(
            id=e.id,
            kind=e.kind,  # type: ignore[arg-type]
            check_code=e.check_code,
            course_code=e.course_code,
            substitute_code=e.substitute_code,
        )
        for e in exceptions
        if e.scope == "student" or e.batch_code == batch_code
    ]


@dataclass
class Evaluation:
    student_no: str
    facts: StudentFacts
    result: engine.AuditResult
    rules_code: str | None
    rules_version: int | None
    digest: str


def evaluate(
    facts: StudentFacts, book: RuleBook, grants: list[Grant], settings: AuditSettings, *, with_degree: bool
) -> Evaluation:
    rules = book.graduation_rules_for(
        level=facts.level, category=facts.category, major=facts.major, enrolment_term=facts.enrolment_term
    )
    result = engine.audit(
        facts,
        rules,
        degree_rules=book.degree,
        options=options_for(settings, with_degree=with_degree),
        grants=grants,
    )
    digest = engine.inputs_digest(
        facts,
        {"rules": rules.code if rules else None, "version": rules.version if rules else None},
        {"degree": f"{book.degree.code}@{book.degree.version}" if with_degree else None},
        grants,
        {"check_chsi_photos": settings.check_chsi_photos},
    )
    return Evaluation(
        facts.student_no,
        facts,
        result,
        rules.code if rules else None,
        rules.version if rules else None,
        digest,
    )


def audit_row(
    evaluation: Evaluation,
    *,
    batch_code: str,
    application: Application | None,
    book: RuleBook,
    trigger: str,
    actor: str | None,
    now: datetime,
    scenario: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with_degree = application is not None and application.type == "graduate_with_degree"
    return {
        "id": str(uuid.uuid4()),
        "student_no": evaluation.student_no,
        "batch_code": batch_code,
        "application_id": application.id if application else None,
        "application_type": application.type if application else (scenario or {}).get("application_type"),
        "what_if": scenario is not None,
        "scenario": scenario,
        "passed": evaluation.result.passed,
        "degree_eligible": evaluation.result.degree_eligible,
        "checks": [engine.check_as_data(c) for c in evaluation.result.checks],
        "exceptions": [
            {"id": u.id, "status": u.status, "note_zh": u.note_zh, "note_en": u.note_en}
            for u in evaluation.result.grants
        ],
        "rule_set_code": evaluation.rules_code,
        "rule_set_version": evaluation.rules_version,
        "degree_rule_set": f"{book.degree.code}@{book.degree.version}"
        if with_degree or (scenario or {}).get("application_type") == "graduate_with_degree"
        else None,
        "inputs_digest": evaluation.digest,
        "trigger": trigger[:100],
        "actor": actor,
        "created_at": now,
    }


# auditing applications -----------------------------------------------------------------------


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


def batch_date_rule(batch: Batch) -> batches.DateRule:
    return batches.DateRule(
        kind="fixed" if batch.graduation_date_rule == "fixed" else "quarterly",
        fixed_date=batch.fixed_graduation_date,
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


# the student projection, from registry events ---------------------------------------------------


async def upsert_student(session: AsyncSession, data: StudentSnapshot | dict[str, Any]) -> KnownStudent:
    snapshot = data if isinstance(data, dict) else data.model_dump()
    repo = AuditRepository(session)
    student = await repo.student(snapshot["student_no"])
    if student is None:
        # The API (asking the registry) and the consumer (StudentRegistered) may both meet a new
        # student at once: insert-if-absent, then lock and update the one row, never a duplicate key.
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(KnownStudent)
            .values(
                student_no=snapshot["student_no"],
                status=snapshot["status"],
                level=snapshot["level"],
                learning_centre=snapshot["learning_centre"],
                formal_status=True,
                identity_in_doubt=False,
                updated_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["student_no"])
        )
        student = await session.get(KnownStudent, snapshot["student_no"], with_for_update=True)
        assert student is not None
    student.status = snapshot["status"]
    student.level = snapshot["level"]
    student.learning_centre = snapshot["learning_centre"]
    student.category = snapshot.get("category") or ""
    student.major = snapshot.get("major") or ""
    student.enrolment_term = snapshot.get("enrolment_term") or ""
    for flag in ("formal_status", "identity_in_doubt"):
        if snapshot.get(flag) is not None:
            setattr(student, flag, bool(snapshot[flag]))
    student.updated_at = datetime.now(UTC)
    return student


def today_utc() -> date:
    return datetime.now(UTC).date()
