"""The embedded suite for the certificate tests: an HQ client through the gateway, an anonymous
one, a centre-bound client straight to the certificates service, and a student taken all the way to
a certificate."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader
from sqlalchemy import update

from gradops_certificates.models import Certificate
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, sign_principal
from gradops_suite.embedded import EmbeddedSuite, build_embedded, migrate_embedded
from tests.e2e.slice import apply_to_graduate, sign_off, wait_for
from tests.factories import create_student, graduation_photo

PDF_BYTES = b"%PDF-1.4\n% signed receipt scan\n"


@dataclass
class Suite:
    client: httpx.AsyncClient  # HQ key
    anonymous: httpx.AsyncClient  # no key at all
    suite: EmbeddedSuite

    def as_centre(self, centres: set[str], scopes: set[str]) -> httpx.AsyncClient:
        """Straight to the certificates service with a centre-bound principal (what the gateway
        signs for a centre's key)."""
        app = self.suite.services["certificates"]
        secret = app.state.settings.principal_secret.get_secret_value()
        principal = Principal(subject="centre-key", scopes=frozenset(scopes), centres=frozenset(centres))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://certificates",
            headers={PRINCIPAL_HEADER: sign_principal(principal, secret)},
        )


@asynccontextmanager
async def certificate_suite(tmp_path: Path) -> AsyncIterator[Suite]:
    await asyncio.to_thread(migrate_embedded, tmp_path)
    built = build_embedded(
        tmp_path,
        bootstrap_api_key="gok_certs",
        service_overrides={
            "certificates": {"principal_name": "李校长", "public_base_url": "https://verify.example.edu.cn"}
        },
    )
    transport = httpx.ASGITransport(app=built.gateway)
    async with (
        built.gateway.router.lifespan_context(built.gateway),
        httpx.AsyncClient(
            transport=transport, base_url="http://gradops", headers={"authorization": "Bearer gok_certs"}
        ) as client,
        httpx.AsyncClient(transport=transport, base_url="http://gradops") as anonymous,
    ):
        yield Suite(client, anonymous, built)


async def graduate(
    client: httpx.AsyncClient, *, standardise: bool = False, **overrides: Any
) -> tuple[str, dict[str, Any]]:
    """Student → application in a batch → approved graduation photo (a centre upload, standardised
    or not) → passing audit → HQ sign-off → certificate."""
    number = await create_student(client, **overrides)
    batch = await apply_to_graduate(client, number)
    submitted = await client.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation", "standardise": str(standardise).lower()},
        files={"file": ("p.jpg", graduation_photo(), "image/jpeg")},
    )
    assert submitted.status_code == 201, submitted.text
    approved = await client.post(f"/api/v1/photo-submissions/{submitted.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    passed = False
    for _ in range(300):
        if (await client.get(f"/api/v1/students/{number}/audit")).json().get("result") == "passed":
            passed = True
            break
        await asyncio.sleep(0.1)
    assert passed, (await client.get(f"/api/v1/students/{number}/audit")).text
    await sign_off(client, batch, number)
    certificate = await wait_for(client, f"/api/v1/students/{number}/certificate")
    assert certificate.status_code == 200, certificate.text
    return number, certificate.json()


async def backdate(suite: Suite, number: str, days: int = 1) -> None:
    """Moves a certificate's issue date into the past: the test batches issue 60 days ahead, and a
    certificate reads `valid` only from its issue date on."""
    async with suite.suite.runtimes["certificates"].db.transaction() as session:
        await session.execute(
            update(Certificate)
            .where(Certificate.number == number)
            .values(issue_date=date.today() - timedelta(days=days))
        )


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
