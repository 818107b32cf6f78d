from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path, Request

from gradops_certificates.domain.distribution import STATE_LABELS_ZH
from gradops_certificates.domain.documents import KIND_ZH
from gradops_certificates.models import Certificate
from gradops_certificates.schemas import CertificateOut, DistributionOut
from gradops_certificates.settings import CertificatesSettings

StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
Number = Annotated[
    str,
    Path(
        min_length=16,
        max_length=18,
        pattern=r"^[0-9A-Za-z]+$",
        description="证书编号: 18-digit 毕业证书, 17-digit legacy, 16-digit 学位证书, or a 补证号",
    ),
]

# The public verification takes whatever it is given, so that a malformed number is answered with
# its reason and logged like every other lookup.
AnyNumber = Annotated[str, Path(min_length=1, max_length=40, description="证书编号 as the verifier typed it")]


def settings_of(request: Request) -> CertificatesSettings:
    settings: CertificatesSettings = request.app.state.settings
    return settings


def today() -> date:
    return datetime.now(UTC).date()


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
