"""API keys through the gateway (embedded suite): created once and shown once, stored as a hash,
scoped, expiring, revocable; the CLI manages the same store; rate limits per key."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from gradops_suite.cli import main as gradops
from gradops_suite.embedded import embedded_client
from tests.e2e.slice import assert_problem
from tests.factories import create_student, student_payload
from tests.support.gateway_tools import bearer, create_key


def keys_cli(data_dir: Path, *args: str) -> None:
    with pytest.raises(SystemExit) as exited:
        gradops(["keys", "--data-dir", str(data_dir), *args])
    assert exited.value.code == 0


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    # No key cache here, so a revocation is seen at once; the cache has its own test below.
    async with embedded_client(tmp_path, gateway_overrides={"key_cache_seconds": 0}) as client:
        yield client


async def test_a_new_key_is_shown_once_stored_as_a_hash_and_works(
    admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    key = await create_key(admin, ["registry:read"], name="LMS 5135701", centres=["5135701"])
    assert key["api_key"].startswith("gok_") and len(key["api_key"]) > 40
    listed = (await admin.get("/api/v1/admin/api-keys")).json()["items"]
    mine = next(item for item in listed if item["id"] == key["id"])
    assert "api_key" not in mine and mine["key_prefix"] == key["api_key"][:12]
    assert (await admin.get(f"/api/v1/admin/api-keys/{key['id']}")).json()["centres"] == ["5135701"]
    with sqlite3.connect(tmp_path / "gateway.db") as db:
        stored = db.execute("SELECT key_hash FROM api_keys WHERE id = ?", (key["id"],)).fetchone()[0]
        dump = "\n".join(db.iterdump())
    assert stored == hashlib.sha256(key["api_key"].encode()).hexdigest()
    assert key["api_key"] not in dump

    number = await create_student(admin)
    read = await admin.get(f"/api/v1/students/{number}", headers=bearer(key))
    assert read.status_code == 200
    # Its only scope is registry:read: a write is 403, at the gateway already.
    write = await admin.put(f"/api/v1/students/{number}", json=student_payload(), headers=bearer(key))
    body = assert_problem(write, 403, "auth.scope_missing")
    assert body["required_scopes"] == ["registry:write"]
    used = (await admin.get(f"/api/v1/admin/api-keys/{key['id']}")).json()
    assert used["last_used_at"] is not None


async def test_revoked_and_expired_keys_are_refused(admin: httpx.AsyncClient) -> None:
    number = await create_student(admin)
    revoked = await create_key(admin, ["registry:read"])
    assert (await admin.get(f"/api/v1/students/{number}", headers=bearer(revoked))).status_code == 200
    answer = await admin.post(f"/api/v1/admin/api-keys/{revoked['id']}/revoke")
    assert answer.status_code == 200 and answer.json()["revoked_at"]
    assert_problem(
        await admin.get(f"/api/v1/students/{number}", headers=bearer(revoked)), 401, "auth.unauthenticated"
    )

    expiring = await create_key(admin, ["registry:read"], expires_in=timedelta(seconds=1))
    assert (await admin.get(f"/api/v1/students/{number}", headers=bearer(expiring))).status_code == 200
    await asyncio.sleep(1.2)
    assert_problem(
        await admin.get(f"/api/v1/students/{number}", headers=bearer(expiring)), 401, "auth.unauthenticated"
    )


async def test_bad_key_requests_are_refused_with_codes(admin: httpx.AsyncClient) -> None:
    for body, code in (
        ({"name": "x", "scopes": ["registry:everything"]}, "api_key.scope_unknown"),
        ({"name": "x", "scopes": ["admin"], "centres": ["5135701"]}, "api_key.admin_needs_hq"),
        ({"name": "x", "scopes": ["registry:read"], "centres": ["51357 01"]}, "api_key.centre_invalid"),
        (
            {"name": "x", "scopes": ["registry:read"], "expires_at": "2001-01-01T00:00:00Z"},
            "api_key.expiry_in_past",
        ),
    ):
        assert_problem(await admin.post("/api/v1/admin/api-keys", json=body), 422, code)
    assert_problem(await admin.post("/api/v1/admin/api-keys/key_bootstrap/revoke"), 422)
    assert_problem(await admin.post("/api/v1/admin/api-keys/key_nope/revoke"), 404, "api_key.not_found")
    # Key management needs `admin`.
    reader = await create_key(admin, ["registry:read", "webhooks:manage"])
    assert_problem(
        await admin.get("/api/v1/admin/api-keys", headers=bearer(reader)), 403, "auth.scope_missing"
    )


async def test_a_revocation_takes_effect_within_the_cache_window(tmp_path: Path) -> None:
    window = 2.0
    async with embedded_client(tmp_path, gateway_overrides={"key_cache_seconds": window}) as admin:
        number = await create_student(admin)
        key = await create_key(admin, ["registry:read"])
        looked_up = time.monotonic()  # the gateway caches the key's answer from here
        assert (await admin.get(f"/api/v1/students/{number}", headers=bearer(key))).status_code == 200
        # Revoked behind the gateway's back (as `gradops keys revoke` does, in another process).
        await asyncio.to_thread(keys_cli, tmp_path, "revoke", key["id"])
        if time.monotonic() - looked_up < window - 0.5:
            # Still inside the window (a slow machine may have left it): the cached answer stands.
            assert (await admin.get(f"/api/v1/students/{number}", headers=bearer(key))).status_code == 200
        await asyncio.sleep(max(0.0, window + 0.2 - (time.monotonic() - looked_up)))
        # Past the window the revocation holds (allowing the app's SQLite connection a moment).
        for _ in range(20):
            status = (await admin.get(f"/api/v1/students/{number}", headers=bearer(key))).status_code
            if status == 401:
                break
            await asyncio.sleep(0.1)
        assert status == 401


async def test_the_cli_creates_lists_and_revokes_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with embedded_client(tmp_path, gateway_overrides={"key_cache_seconds": 0}) as admin:
        number = await create_student(admin)

        def cli(*args: str) -> str:
            with pytest.raises(SystemExit) as exited:
                gradops(["keys", "--data-dir", str(tmp_path), *args])
            assert exited.value.code == 0
            return capsys.readouterr().out

        out = await asyncio.to_thread(
            cli, "create", "--name", "mini-program", "--scope", "photos:capture", "--centre", "5135701"
        )
        api_key = out.split("shown once, store it now): ")[1].strip()
        key_id = next(line.split()[0] for line in out.splitlines() if line.startswith("key_"))
        listing = await asyncio.to_thread(cli, "list")
        assert key_id in listing and "mini-program" in listing and api_key not in listing
        # The mini-program key can capture photos and nothing else. (The CLI wrote the key through
        # its own SQLite connection; allow the app's pooled connection a moment to see it.)
        for _ in range(20):
            answer = await admin.get(f"/api/v1/students/{number}", headers=bearer(api_key))
            if answer.status_code != 401:
                break
            await asyncio.sleep(0.1)
        assert_problem(answer, 403, "auth.scope_missing")
        await asyncio.to_thread(cli, "revoke", key_id)
        assert (await admin.get(f"/api/v1/students/{number}", headers=bearer(api_key))).status_code == 401
        assert "revoked" in await asyncio.to_thread(cli, "list")


async def test_the_bootstrap_key_is_ensured_with_every_scope(admin: httpx.AsyncClient) -> None:
    bootstrap = (await admin.get("/api/v1/admin/api-keys/key_bootstrap")).json()
    from gradops_shared.principal import SCOPES

    assert bootstrap["scopes"] == sorted(SCOPES) and bootstrap["centres"] is None


async def test_rate_limit_per_key_answers_429_with_retry_after(tmp_path: Path) -> None:
    overrides: dict[str, object] = {"rate_limit_burst": 3, "rate_limit_per_second": 0.5}
    async with embedded_client(tmp_path, gateway_overrides=overrides) as admin:
        key = await create_key(admin, ["registry:read"])  # the admin call took one of the HQ key's 3
        statuses = [
            (await admin.get("/api/v1/students/2021000001", headers=bearer(key))).status_code
            for _ in range(4)
        ]
        assert statuses == [404, 404, 404, 429]
        limited = await admin.get("/api/v1/students/2021000001", headers=bearer(key))
        body = assert_problem(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 2, body
        # Another key has its own bucket.
        assert (await admin.get("/api/v1/students/2021000001")).status_code == 404
