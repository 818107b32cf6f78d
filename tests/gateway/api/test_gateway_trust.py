"""The gateway vouches for the caller; the services trust only its signature."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from gradops_shared.principal import (
    PRINCIPAL_HEADER,
    Principal,
    Unauthenticated,
    on_behalf_of,
    sign_principal,
    verify_principal,
)
from gradops_suite.embedded import build_embedded, migrate_embedded
from tests.factories import student_no, student_payload

CENTRE_A = frozenset({"5135701"})


def test_signed_principal_round_trips() -> None:
    principal = Principal(subject="lms-a", scopes=frozenset({"registry:read"}), centres=CENTRE_A, key_id="k1")
    assert verify_principal(sign_principal(principal, "s3cret"), "s3cret") == principal


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: sign_principal(Principal(subject="x", scopes=frozenset({"admin"})), "other-secret"),
        lambda token: "not-a-token",
        lambda token: "",
    ],
)
def test_forged_or_garbled_principal_is_refused(tamper: object) -> None:
    token = sign_principal(Principal(subject="lms-a", scopes=frozenset()), "s3cret")
    with pytest.raises(Unauthenticated):
        verify_principal(tamper(token), "s3cret")  # type: ignore[operator]


def test_expired_principal_is_refused() -> None:
    token = sign_principal(Principal(subject="lms-a", scopes=frozenset()), "s3cret", now=1_000)
    with pytest.raises(Unauthenticated):
        verify_principal(token, "s3cret", now=10_000)


def test_centre_filter_never_widens_a_centre_key() -> None:
    hq = Principal(subject="hq", scopes=frozenset())
    centre = Principal(subject="c", scopes=frozenset(), centres=CENTRE_A)
    assert hq.centre_filter() is None
    assert hq.centre_filter(["5135702"]) == frozenset({"5135702"})
    assert centre.centre_filter() == CENTRE_A
    assert centre.centre_filter(["5135702"]) == frozenset()
    assert not centre.sees_centre("5135702") and centre.sees_centre("5135701")
    assert on_behalf_of(centre, "photo", ["registry:read"]).centres == CENTRE_A


async def test_services_refuse_calls_that_bypass_the_gateway(tmp_path: Path) -> None:
    await asyncio.to_thread(migrate_embedded, tmp_path)
    suite = build_embedded(tmp_path, bootstrap_api_key="gok_k")
    registry = suite.services["registry"]
    secret = registry.state.settings.principal_secret.get_secret_value()
    number = student_no()
    async with (
        registry.router.lifespan_context(registry),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=registry), base_url="http://r") as client,
    ):
        # No principal: refused, and nothing written.
        bare = await client.put(f"/api/v1/students/{number}", json=student_payload())
        assert bare.status_code == 401 and bare.json()["code"] == "auth.unauthenticated"
        forged = sign_principal(Principal(subject="me", scopes=frozenset({"registry:write"})), "guessed")
        response = await client.put(
            f"/api/v1/students/{number}", json=student_payload(), headers={PRINCIPAL_HEADER: forged}
        )
        assert response.status_code == 401
        reader = sign_principal(Principal(subject="ro", scopes=frozenset({"registry:read"})), secret)
        response = await client.put(
            f"/api/v1/students/{number}", json=student_payload(), headers={PRINCIPAL_HEADER: reader}
        )
        assert response.status_code == 403 and response.json()["code"] == "auth.scope_missing"
        missing = await client.get(f"/api/v1/students/{number}", headers={PRINCIPAL_HEADER: reader})
        assert missing.status_code == 404


async def test_gateway_drops_a_principal_header_sent_by_the_client(tmp_path: Path) -> None:
    await asyncio.to_thread(migrate_embedded, tmp_path)
    suite = build_embedded(tmp_path, bootstrap_api_key="gok_k")
    secret = suite.services["registry"].state.settings.principal_secret.get_secret_value()
    smuggled = sign_principal(Principal(subject="me", scopes=frozenset({"registry:write"})), secret)
    async with (
        suite.gateway.router.lifespan_context(suite.gateway),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=suite.gateway), base_url="http://g") as client,
    ):
        response = await client.put(
            f"/api/v1/students/{student_no()}", json=student_payload(), headers={PRINCIPAL_HEADER: smuggled}
        )
        assert response.status_code == 401
        wrong_key = await client.get("/api/v1/students/1", headers={"authorization": "Bearer nope"})
        assert wrong_key.status_code == 401 and wrong_key.headers["www-authenticate"] == "Bearer"
