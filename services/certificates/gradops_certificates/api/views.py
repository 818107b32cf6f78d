"""Answers shaped from models and use-case results (what the handlers return)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

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

Out = TypeVar("Out", bound=BaseModel)

RESULT_ZH = {
    "valid": "有效",
    "not_yet_valid": "尚未生效（未到发证日期）",
    "superseded": "已由毕业证明书替代",
    "revoked": "已撤销",
    "unknown": "查无此证",
}


def _shaped(schema: type[Out], row: object, **computed: Any) -> Out:
    """The schema filled from the row's attributes of the same names; `computed` gives the rest."""
    names = [name for name in schema.model_fields if name not in computed and hasattr(row, name)]
    return schema(**{name: getattr(row, name) for name in names}, **computed)


def certificate_out(certificate: Certificate) -> CertificateOut:
    state = certificate.distribution_state
    return _shaped(
        CertificateOut,
        certificate,
        kind_label_zh=KIND_ZH.get(certificate.kind, certificate.kind),
        distribution=_shaped(
            DistributionOut,
            certificate,
            state=state,
            state_label_zh=STATE_LABELS_ZH.get(state, state),
            chsi_checked_at=certificate.chsi_confirmed_at,
        ),
    )


def event_out(event: DistributionEvent) -> DistributionEventOut:
    return _shaped(DistributionEventOut, event, detail=dict(event.detail or {}))


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
    return _shaped(
        ReplacementOut, row, working_days_left=days_left, overdue=days_left is not None and days_left < 0
    )


def verification_out(found: verification.Verification) -> VerificationOut:
    shown = found.certificate
    return VerificationOut(
        result=found.result,
        result_label_zh=RESULT_ZH[found.result],
        number=found.number,
        certificate=None
        if shown is None
        else _shaped(VerifiedCertificateOut, shown, level_label_zh=LEVEL_ZH.get(shown.level, shown.level)),
    )


def share_code_out(share: ShareCode, settings: CertificatesSettings) -> ShareCodeOut:
    return _shaped(
        ShareCodeOut,
        share,
        valid=share.revoked_at is None and share.expires_at > datetime.now(UTC),
        verification_url=verification.verification_url(settings, share.code),
        qr_png_url=f"/api/v1/share-codes/{share.code}/qr.png",
    )
