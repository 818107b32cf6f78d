"""Public verification on real PostgreSQL: whatever a verifier types is logged, a NUL byte included
(PostgreSQL refuses NUL in text), and a valid certificate is not `valid` before its issue date."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from gradops_certificates.models import VerificationLookup
from gradops_certificates.service import issue_for_audit, record_student
from gradops_certificates.service import verification as use_case
from gradops_certificates.service.clock import china_today
from gradops_certificates.settings import CertificatesSettings
from gradops_shared.contracts import AuditPassed, StudentRegistered
from gradops_shared.db import Database
from gradops_shared.errors import InvalidInput
from tests.factories import student_no

CALLER = use_case.Caller(client="203.0.113.9", user_agent="curl/8", request_id="req-verify-1")


async def test_a_typed_nul_is_logged_as_malformed_not_a_500(postgres_url: str) -> None:
    db = Database(postgres_url, "certificates")
    settings = CertificatesSettings(database_url=postgres_url)
    try:
        async with db.transaction() as session:
            refused = await use_case.verify_number(session, "5135\x00752023", "张三", CALLER, settings)
        assert isinstance(refused, InvalidInput) and refused.code == "certificates.number_format"
        async with db.session() as session:
            logged = (
                await session.execute(
                    select(VerificationLookup).where(VerificationLookup.request_id == "req-verify-1")
                )
            ).scalar_one()
        assert logged.result == "malformed" and logged.number == "5135752023"
    finally:
        await db.dispose()


async def test_valid_from_the_issue_date_on(postgres_url: str) -> None:
    db = Database(postgres_url, "certificates")
    settings = CertificatesSettings(database_url=postgres_url)
    number = student_no()
    today = china_today()
    try:
        async with db.transaction() as session:
            await record_student(
                session,
                StudentRegistered(
                    student_no=number,
                    name="赵六",
                    gender="male",
                    learning_centre="5135701",
                    level="junior_college",
                    category="open_education",
                    major="会计",
                    enrolment_term="2022-spring",
                    study_form="part_time",
                    status="enrolled",
                ),
            )
            issued = []
            for days, batch in ((1, "209901"), (0, "209902")):
                passed = AuditPassed(
                    student_no=number,
                    audit_id=uuid.uuid4(),
                    batch_code=batch,
                    application_type="graduate",
                    level="junior_college",
                    graduation_date=date(2099, 1, 31),
                    issue_date=today + timedelta(days=days),
                    learning_centre="5135701",
                )
                issued.append((await issue_for_audit(session, passed, settings)).number)
        caller = use_case.Caller(client=None, user_agent=None, request_id=None)
        async with db.transaction() as session:
            tomorrow = await use_case.verify_number(session, issued[0], "赵六", caller, settings)
            on_the_day = await use_case.verify_number(session, issued[1], "赵六", caller, settings)
        assert isinstance(tomorrow, use_case.Verification) and tomorrow.result == "not_yet_valid"
        assert isinstance(on_the_day, use_case.Verification) and on_the_day.result == "valid"
    finally:
        await db.dispose()
