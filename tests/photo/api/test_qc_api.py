"""The photo QC endpoint and the photo download through the whole embedded suite."""

from __future__ import annotations

import asyncio
import base64
import io
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gradops_shared.principal import PRINCIPAL_HEADER, Principal, sign_principal
from gradops_suite.embedded import build_embedded, migrate_embedded
from tests.e2e.slice import assert_problem
from tests.factories import create_student, graduation_photo, jpeg
from tests.photo.domain.test_qc_safety import with_claimed_size
from tests.photo.fixtures import BY_NAME, admission_photo
from tests.support.suite import Suite

REPORT_KEYS = {"passed", "profile", "checks", "standardised"}
CHECK_KEYS = {
    "code",
    "passed",
    "measured",
    "expected",
    "severity",
    "fixable",
    "message_zh",
    "message_en",
    "hint",
}


@pytest.fixture
def gateway(suite: Suite) -> httpx.AsyncClient:
    return suite.gateway


def _stored_rows(data_dir: Path) -> tuple[int, int]:
    with sqlite3.connect(data_dir / "photo.db") as db:
        blobs = db.execute("select count(*) from blobs").fetchone()[0]
        submissions = db.execute("select count(*) from submissions").fetchone()[0]
    return int(blobs), int(submissions)


async def test_check_answers_the_documented_shape_and_stores_nothing(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    before = _stored_rows(tmp_path)
    response = await gateway.post(
        "/api/v1/photos/checks",
        files={"file": ("whatever.png", graduation_photo(), "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == REPORT_KEYS
    assert body["passed"] is True and body["profile"] == "ouc-platform" and body["standardised"] is None
    assert all(set(check) >= CHECK_KEYS for check in body["checks"])
    assert "photo.face_position" in {c["code"] for c in body["checks"]}
    assert _stored_rows(tmp_path) == before


async def test_profile_is_chosen_per_request_and_unknown_ones_are_refused(gateway: httpx.AsyncClient) -> None:
    chsi = await gateway.post(
        "/api/v1/photos/checks",
        data={"profile": "chsi-2017"},
        files={"file": ("p.jpg", jpeg(), "image/jpeg")},
    )
    assert chsi.status_code == 200 and chsi.json()["profile"] == "chsi-2017"
    assert chsi.json()["passed"] is False
    failed = {c["code"]: c for c in chsi.json()["checks"] if not c["passed"]}
    assert {"photo.file_size", "photo.face_count"} <= set(failed)
    assert failed["photo.face_count"]["hint"] and failed["photo.face_count"]["hint_en"]
    unknown = await gateway.post(
        "/api/v1/photos/checks", data={"profile": "harvard"}, files={"file": ("p.jpg", jpeg(), "image/jpeg")}
    )
    body = assert_problem(unknown, 422, "photo.unknown_profile")
    assert "chsi-2017" in body["profiles"]


async def test_standardise_returns_the_final_bytes_and_their_report(gateway: httpx.AsyncClient) -> None:
    studio = BY_NAME["studio_large"].data
    response = await gateway.post(
        "/api/v1/photos/checks",
        data={"standardise": "true", "profile": "chsi-2017"},
        files={"file": ("studio.jpg", studio, "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["passed"] is False  # the studio original is 1200×1600 and too big
    fixed = body["standardised"]
    assert fixed["fixed"] is True and fixed["report"]["passed"] is True
    data = base64.b64decode(fixed["jpeg_base64"])
    assert len(data) == fixed["bytes"] and 20 * 1024 <= len(data) <= 40 * 1024
    image = Image.open(io.BytesIO(data))
    assert image.size == (480, 640) and image.info["dpi"] == (300, 300)
    assert fixed["width"] == 480 and fixed["height"] == 640 and fixed["dpi"] == 300
    unfixable = await gateway.post(
        "/api/v1/photos/checks",
        data={"standardise": "true"},
        files={"file": ("two.jpg", BY_NAME["two_faces"].data, "image/jpeg")},
    )
    assert unfixable.json()["standardised"]["fixed"] is False
    assert "人脸" in unfixable.json()["standardised"]["reason_zh"]


async def test_admission_photo_adds_the_comparison_checks(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/api/v1/photos/checks",
        files={
            "file": ("g.jpg", graduation_photo(), "image/jpeg"),
            "admission_photo": ("a.jpg", admission_photo(same_picture=True), "image/jpeg"),
        },
    )
    checks = {c["code"]: c for c in response.json()["checks"]}
    assert checks["photo.same_as_admission"]["passed"] is False
    assert checks["photo.face_match"]["passed"] is True
    assert response.json()["passed"] is False
    unreadable = await gateway.post(
        "/api/v1/photos/checks",
        files={
            "file": ("g.jpg", graduation_photo(), "image/jpeg"),
            "admission_photo": ("a.jpg", b"x", "image/jpeg"),
        },
    )
    assert_problem(unreadable, 422, "photo.admission_unreadable")


async def test_uploads_over_ten_megabytes_and_bombs_get_413(gateway: httpx.AsyncClient) -> None:
    huge = await gateway.post(
        "/api/v1/photos/checks",
        files={"file": ("p.jpg", b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), "image/jpeg")},
    )
    assert_problem(huge, 413, "photo.upload_too_large")
    bomb = await gateway.post(
        "/api/v1/photos/checks",
        files={"file": ("p.jpg", with_claimed_size(jpeg(), 10_000, 9_000), "image/jpeg")},
    )
    assert_problem(bomb, 413, "photo.image_too_large")


async def test_submission_follows_the_engine_and_its_files_download(gateway: httpx.AsyncClient) -> None:
    number = await create_student(gateway)
    rejected = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", jpeg(), "image/jpeg")}
    )
    assert rejected.status_code == 201 and rejected.json()["state"] == "auto_rejected"
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos",
        data={"standardise": "true"},
        files={"file": ("studio.jpg", BY_NAME["studio_large"].data, "image/jpeg")},
    )
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()
    assert submission["state"] == "pending_review"
    stored = submission["qc"]["standardised"]
    assert stored["jpeg_base64"] is None and stored["href"].endswith("variant=standardised")
    original = await gateway.get(f"/api/v1/photo-submissions/{submission['id']}/file")
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    assert original.content == BY_NAME["studio_large"].data
    standardised = await gateway.get(stored["href"])
    assert standardised.status_code == 200
    assert Image.open(io.BytesIO(standardised.content)).size == (480, 640)
    plain = await gateway.get(f"/api/v1/photo-submissions/{rejected.json()['id']}/file?variant=standardised")
    assert_problem(plain, 404, "photo.file_not_found")
    missing = await gateway.get("/api/v1/photo-submissions/00000000-0000-0000-0000-000000000000/file")
    assert_problem(missing, 404, "photo.submission_not_found")
    bad_variant = await gateway.get(f"/api/v1/photo-submissions/{submission['id']}/file?variant=thumbnail")
    assert_problem(bad_variant, 422)


async def test_a_centre_key_cannot_download_another_centres_photo(tmp_path: Path) -> None:
    await asyncio.to_thread(migrate_embedded, tmp_path)
    suite = build_embedded(tmp_path, bootstrap_api_key="gok_qc")
    photo = suite.services["photo"]
    secret = photo.state.settings.principal_secret.get_secret_value()
    async with (
        suite.gateway.router.lifespan_context(suite.gateway),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=suite.gateway),
            base_url="http://g",
            headers={"authorization": "Bearer gok_qc"},
        ) as gateway,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=photo), base_url="http://p") as direct,
    ):
        number = await create_student(gateway, learning_centre="5135701")
        submitted = await gateway.post(
            f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
        )
        path = f"/api/v1/photo-submissions/{submitted.json()['id']}/file"

        def as_centre(centre: str) -> dict[str, str]:
            principal = Principal(subject="c", scopes=frozenset({"photos:read"}), centres=frozenset({centre}))
            return {PRINCIPAL_HEADER: sign_principal(principal, secret)}

        other = await direct.get(path, headers=as_centre("5135702"))
        assert_problem(other, 404, "photo.submission_not_found")
        own = await direct.get(path, headers=as_centre("5135701"))
        assert own.status_code == 200 and own.content == graduation_photo()


def test_make_run_checks_photos_in_workers_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """The QC workers belong to the terminal's process group too: Ctrl-C must stop the suite cleanly,
    with no worker traceback and no worker left behind."""
    from tests.e2e.test_make_run import API_KEY, _free_port, _interrupt, _start, _wait_for_banner

    port, log = _free_port(), tmp_path / "run.log"
    proc = _start(port, tmp_path / "data", log)
    try:
        _wait_for_banner(log, port, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            checked = client.post(
                "/api/v1/photos/checks",
                files={"file": ("p.jpg", graduation_photo(), "image/jpeg")},
                headers={"authorization": f"Bearer {API_KEY}"},
            )
            assert checked.status_code == 200 and checked.json()["passed"] is True, checked.text
    finally:
        _interrupt(proc, log)  # asserts a clean shutdown and no traceback
    deadline = time.monotonic() + 10
    while _session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _session_members(proc.pid), "QC workers outlived the suite"


def _session_members(session: int) -> list[int]:
    """Processes still alive in the session `make run` was started in (the suite and its workers)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state ppid pgrp session ...
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(entry.name))
    return members
