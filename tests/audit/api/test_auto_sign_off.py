"""Automatic sign-off, configured: a passing audit becomes AuditPassed without HQ's step."""

from __future__ import annotations

from pathlib import Path

from tests.audit.api.test_audit_api import approve_graduation_photo
from tests.e2e.slice import apply_to_graduate, wait_for
from tests.factories import create_student
from tests.support.suite import open_suite


async def test_with_auto_sign_off_the_certificate_follows_the_photo_approval(tmp_path: Path) -> None:
    async with open_suite(tmp_path, service_overrides={"audit": {"auto_sign_off": True}}) as suite:
        client = suite.gateway
        number = await create_student(client)
        batch = await apply_to_graduate(client, number)
        await approve_graduation_photo(client, number)
        certificate = await wait_for(client, f"/api/v1/students/{number}/certificate")
        assert certificate.status_code == 200, certificate.text
        listed = (
            await client.get(f"/api/v1/graduation-batches/{batch}/audits", params={"result": "passed"})
        ).json()
        assert [(i["student_no"], i["state"]) for i in listed["items"]] == [(number, "signed_off")]
