"""Answers shaped from models and use-case results (what the handlers return)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from gradops_certificates.api.deps import today
from gradops_certificates.domain.distribution import STATE_LABELS_ZH
from gradops_certificates.domain.printout_text import KIND_ZH, LEVEL_ZH
from gradops_certificates.models import Certificate, DistributionEvent, Replacement, ShareCode
from gradops_certificates.schemas import (
    CertificateOut,
    DistributionEventOut,
    DistributionOut,
    OverdueCentreOut,
    OverdueOut,
    ReplacementOut,
    ShareCodeOut,
    VerificationOut,
    VerifiedCertificateOut,
)
from gradops_certificates.service import distribution, replacement, verification
from gradops_certificates.service.pages import Page
from gradops_certificates.settings import CertificatesSettings

RESULT_ZH = {
    "valid": "有效",
    "not_yet_valid": "尚未生效（未到发证日期）",
    "superseded": "已由毕业证明书替代",
    "revoked": "已撤销",
    "unknown": "查无此证",
}


def certificate_out(certificate: Certificate) -> CertificateOut:
    return CertificateOut(
        number=certificate.number,
        student_no=certificate.student_no,
        batch_code=certificate.batch_code,
        level=certificate.level,
        issue_date=certificate.issue_date,
        graduation_date=certificate.graduation_date,
        status=certificate.status,
        created_at=certificate.created_at,
        kind=certificate.kind,
        kind_label_zh=KIND_ZH.get(certificate.kind, certificate.kind),
        learning_centre=certificate.learning_centre,
        original_number=certificate.original_number,
        superseded_by=certificate.superseded_by,
        revoked_at=certificate.revoked_at,
        revoked_reason=certificate.revoked_reason,
        distribution=DistributionOut(
            state=certificate.distribution_state,
            state_label_zh=STATE_LABELS_ZH.get(
                certificate.distribution_state, certificate.distribution_state
            ),
            notified_on=certificate.notified_on,
            collection_due=certificate.collection_due,
            collected_on=certificate.collected_on,
            handover_due=certificate.handover_due,
            handed_on=certificate.handed_on,
            receipt_sha256=certificate.receipt_sha256,
            chsi_checked_at=certificate.chsi_confirmed_at,
            chsi_matches=certificate.chsi_matches,
        ),
    )


def event_out(event: DistributionEvent) -> DistributionEventOut:
    return DistributionEventOut(
        id=event.id,
        number=event.number,
        event=event.event,
        occurred_on=event.occurred_on,
        late=event.late,
        explanation=event.explanation,
        detail=dict(event.detail or {}),
        actor=event.actor,
        recorded_at=event.recorded_at,
    )


def overdue_by_centre(page: Page[distribution.Overdue], day: date) -> list[OverdueCentreOut]:
    """The page's overdue certificates grouped per learning centre (in the page's order)."""
    per_centre: dict[str | None, list[OverdueOut]] = defaultdict(list)
    for found in page.items:
        certificate = found.certificate
        per_centre[certificate.learning_centre].append(
            OverdueOut(
                number=certificate.number,
                student_no=certificate.student_no,
                learning_centre=certificate.learning_centre,
                stage=found.stage,
                due=found.due,
                days_overdue=(day - found.due).days,
            )
        )
    return [OverdueCentreOut(learning_centre=c, certificates=items) for c, items in per_centre.items()]


def replacement_out(row: Replacement, settings: CertificatesSettings) -> ReplacementOut:
    days_left: int | None = None
    if row.decision_due is not None and row.state == "centre_verified":
        days_left = replacement.calendar_of(settings).workdays_between(today(), row.decision_due)
    return ReplacementOut(
        id=row.id,
        original_number=row.original_number,
        student_no=row.student_no,
        learning_centre=row.learning_centre,
        reason=row.reason,
        note=row.note,
        form_sha256=row.form_sha256,
        state=row.state,
        applied_at=row.applied_at,
        applied_by=row.applied_by,
        verified_at=row.verified_at,
        decision_due=row.decision_due,
        working_days_left=days_left,
        overdue=days_left is not None and days_left < 0,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        replacement_number=row.replacement_number,
    )


def verification_out(found: verification.Verification) -> VerificationOut:
    shown = found.certificate
    return VerificationOut(
        result=found.result,
        result_label_zh=RESULT_ZH[found.result],
        number=found.number,
        certificate=None
        if shown is None
        else VerifiedCertificateOut(
            kind=shown.kind,
            masked_name=shown.masked_name,
            school_name=shown.school_name,
            level=shown.level,
            level_label_zh=LEVEL_ZH.get(shown.level, shown.level),
            major=shown.major,
            graduation_date=shown.graduation_date,
            issue_date=shown.issue_date,
        ),
    )


def share_code_out(share: ShareCode, settings: CertificatesSettings) -> ShareCodeOut:
    return ShareCodeOut(
        code=share.code,
        number=share.number,
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        valid=share.revoked_at is None and share.expires_at > datetime.now(UTC),
        verification_url=verification.verification_url(settings, share.code),
        qr_png_url=f"/api/v1/share-codes/{share.code}/qr.png",
    )
