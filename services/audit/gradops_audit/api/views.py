"""Shaping stored rows into the audit's answers."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from gradops_audit import schemas
from gradops_audit.domain import batches
from gradops_audit.domain.checks import CATALOGUE
from gradops_audit.domain.rules import RuleSetEntry
from gradops_audit.models import Application, Audit, AuditException, Batch, Transcript
from gradops_audit.service.batches import batch_date_rule

Out = TypeVar("Out", bound=BaseModel)


def _shaped(schema: type[Out], row: object, **computed: Any) -> Out:
    """The schema filled from the row's attributes of the same names; `computed` gives the rest."""
    names = [name for name in schema.model_fields if name not in computed and hasattr(row, name)]
    return schema(**{name: getattr(row, name) for name in names}, **computed)


def batch_out(batch: Batch) -> schemas.BatchOut:
    return _shaped(
        schemas.BatchOut,
        batch,
        rounds=[schemas.RoundIn.model_validate(r) for r in batch.rounds],
        graduation_date=batches.batch_graduation_date(batch.code, batch_date_rule(batch)),
    )


def audit_out(audit: Audit) -> schemas.AuditOut:
    checks = []
    for c in audit.checks:
        text = CATALOGUE[c["code"]]
        failed = c["outcome"] == "failed"
        checks.append(
            schemas.AuditCheckOut(
                code=c["code"],
                group=text.group,
                outcome=c["outcome"],
                passed=not failed,
                measured=c.get("measured"),
                expected=c.get("expected"),
                missing=c.get("missing"),
                exception_id=c.get("exception_id"),
                message_zh=text.title_zh if not failed else f"未通过：{text.title_zh}",
                message_en=text.title_en if not failed else f"Failed: {text.title_en}",
                hint_zh=text.hint_zh if failed else None,
                hint_en=text.hint_en if failed else None,
            )
        )
    return _shaped(
        schemas.AuditOut,
        audit,
        result="passed" if audit.passed else "failed",
        failed_checks=[c.code for c in checks if c.outcome == "failed"],
        checks=checks,
        exceptions=[schemas.ExceptionUseOut.model_validate(e) for e in audit.exceptions or []],
        rule_set=rule_set_ref(audit),
    )


def application_out(app: Application) -> schemas.ApplicationOut:
    return _shaped(
        schemas.ApplicationOut,
        app,
        round=app.round_no,
        position=app.seq,
        result=None if app.passed is None else ("passed" if app.passed else "failed"),
        audit_id=app.last_audit_id,
    )


def exception_out(row: AuditException) -> schemas.ExceptionOut:
    return schemas.ExceptionOut.model_validate(row, from_attributes=True)


def transcript_out(t: Transcript) -> schemas.TranscriptOut:
    # Stored rows are shown as stored: a row written before a validation rule tightened must still read.
    return schemas.TranscriptOut(
        student_no=t.student_no,
        courses=[schemas.CourseIn.model_construct(**c) for c in t.courses],
        thesis=schemas.ThesisIn(score=t.thesis_score, similarity=t.thesis_similarity)
        if t.thesis_score is not None or t.thesis_similarity is not None
        else None,
        degree_english=schemas.DegreeEnglishIn.model_construct(
            exam=t.english_exam, score=t.english_score, passed=bool(t.english_passed)
        )
        if t.english_exam
        else None,
        source=t.source,
        updated_by=t.updated_by,
        updated_at=t.updated_at,
    )


def rule_set_ref(audit: Audit) -> schemas.RuleSetRef | None:
    if audit.rule_set_code and audit.rule_set_version:
        return schemas.RuleSetRef(code=audit.rule_set_code, version=audit.rule_set_version)
    return None


def rule_set_out(entry: RuleSetEntry) -> schemas.RuleSetOut:
    return _shaped(schemas.RuleSetOut, entry)


def diff_out(before: Audit, after: Audit, changes: list[dict[str, Any]]) -> schemas.AuditDiffOut:
    return schemas.AuditDiffOut(
        from_audit=before.id,
        to_audit=after.id,
        result_before="passed" if before.passed else "failed",
        result_after="passed" if after.passed else "failed",
        digest_changed=before.inputs_digest != after.inputs_digest,
        rule_set_before=rule_set_ref(before),
        rule_set_after=rule_set_ref(after),
        changes=[schemas.CheckChangeOut.model_validate(c) for c in changes],
    )


def batch_audit_item(app: Application, audit: Audit | None) -> schemas.BatchAuditItem:
    return schemas.BatchAuditItem(
        student_no=app.student_no,
        learning_centre=app.learning_centre,
        application_id=app.id,
        application_type=app.type,
        state=app.state,
        position=app.seq,
        result="deferred"
        if app.state == "deferred"
        else None
        if app.passed is None
        else ("passed" if app.passed else "failed"),
        failed_checks=app.failed_checks or [],
        degree_eligible=audit.degree_eligible if audit else None,
        audit_id=app.last_audit_id,
        audited_at=audit.created_at if audit else None,
        submitted_at=app.submitted_at,
    )
