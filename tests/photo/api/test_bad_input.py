"""Photo endpoints under bad input (issue 13), through the gateway of the embedded suite: hostile
uploads never hold the event loop or blow up a QC worker, what is stored is only what the report
needs, files are handed back as attachments, exports defuse formulas, text refuses control
characters, and the lists page by cursor."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.e2e.slice import assert_problem
from tests.factories import create_student, graduation_photo
from tests.photo.fixtures import phone_photo, solid_jpeg
from tests.photo.zips import build_zip, many_entries_zip
from tests.support.suite import open_suite

# While a hostile upload is processed: /healthz within this (the figure), and no QC worker
# above this peak RSS (a 6000×6000 JPEG took 1.3 GB per worker before the pixel budget, ~210 MB
# after, ~200 MB of which are the face models).
HEALTHZ_SECONDS = 0.2
# The suite never stalls: one scheduler hiccup of a busy 2-core CI machine may take a single probe
# past 200 ms, so the typical answer is held to 200 ms and the worst to 1 s (the stalls were 7-15 s).
HEALTHZ_WORST_SECONDS = 1.0


def _never_stalled(latencies: list[float]) -> bool:
    ordered = sorted(latencies)
    return (
        bool(ordered) and ordered[len(ordered) // 2] < HEALTHZ_SECONDS and ordered[-1] < HEALTHZ_WORST_SECONDS
    )


QC_WORKER_PEAK_BYTES = 500 * 1024 * 1024


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with open_suite(tmp_path, service_overrides={"photo": {"qc_workers": 2}}) as opened:
        yield opened.gateway


def _blobs(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "photo.db") as db:
        return {str(sha): int(size) for sha, size in db.execute("select sha256, size_bytes from blobs")}


def _imports(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "photo.db") as db:
        return int(db.execute("select count(*) from imports").fetchone()[0])


def _descendants(pid: int) -> list[int]:
    """Every live process below `pid` (the QC pool's forkserver and its workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parent = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) * 1024


async def _healthz_while(client: httpx.AsyncClient, work: Awaitable[Any]) -> tuple[Any, list[float]]:
    """Runs `work` and polls /healthz until it is done; returns its result and every latency."""
    task = asyncio.ensure_future(work)
    latencies: list[float] = []
    while not task.done():
        started = time.perf_counter()
        response = await client.get("/healthz")
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200
        await asyncio.sleep(0.02)
    return await task, latencies


async def _import(gateway: httpx.AsyncClient, data: bytes, **form: str) -> dict[str, Any]:
    started = await gateway.post(
        "/api/v1/photo-imports", data=form, files={"file": ("p.zip", data, "application/zip")}
    )
    assert started.status_code == 202, started.text
    job: dict[str, Any] = started.json()
    for _ in range(240):
        job = (await gateway.get(job["href"])).json()
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.25)
    return job


# ---- hostile uploads: the suite keeps answering, memory stays bounded ----------------------------


async def test_pixel_bombs_in_parallel_neither_stall_the_suite_nor_blow_up_a_worker(
    gateway: httpx.AsyncClient,
) -> None:
    bomb = solid_jpeg(6000, 6000)  # ~560 KB, 36 MP: under the 40 MP cap, so it is decoded
    await gateway.get("/healthz")
    checks = [
        gateway.post("/api/v1/photos/checks", files={"file": ("bomb.jpg", bomb, "image/jpeg")})
        for _ in range(4)
    ]
    answers, latencies = await _healthz_while(gateway, asyncio.gather(*checks))
    for answer in answers:  # six in parallel used to answer 503 (QC timeout)
        assert answer.status_code == 200, answer.text
        dimensions = next(c for c in answer.json()["checks"] if c["code"] == "photo.dimensions")
        assert dimensions["measured"] == "6000x6000" and not dimensions["passed"]
    assert _never_stalled(latencies), [(i, round(x, 3)) for i, x in enumerate(latencies) if x > 0.05]
    workers = [pid for pid in _descendants(os.getpid()) if _peak_rss(pid)]
    assert workers
    assert max(_peak_rss(pid) for pid in workers) < QC_WORKER_PEAK_BYTES


async def test_a_zip_directory_too_large_is_refused_without_stalling_the_suite(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    before = _blobs(tmp_path)
    declared = many_entries_zip(3, declared=700_000)  # the 700,000 entries, from the end record
    answer, latencies = await _healthz_while(
        gateway,
        gateway.post("/api/v1/photo-imports", files={"file": ("p.zip", declared, "application/zip")}),
    )
    assert_problem(answer, 422, "photo_import.too_many_entries")
    # A lying end record (1 entry) over 60,000 real ones: the directory is parsed, in a thread.
    lying = many_entries_zip(60_000, declared=1)
    answer, more = await _healthz_while(
        gateway, gateway.post("/api/v1/photo-imports", files={"file": ("p.zip", lying, "application/zip")})
    )
    assert_problem(answer, 422, "photo_import.too_many_entries")
    latencies += more
    assert _never_stalled(latencies), sorted(latencies)[-5:]
    assert _blobs(tmp_path) == before and _imports(tmp_path) == 0


# ---- what is kept -----------------------------------------------------------------------------


async def test_import_zips_are_never_stored_dry_runs_included(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    number = await create_student(gateway)
    data = build_zip([(f"{number}.jpg", graduation_photo())])
    before = _blobs(tmp_path)
    dry = await _import(gateway, data, dry_run="true")
    assert dry["status"] == "done" and dry["counts"]["accepted"] == 1
    assert _blobs(tmp_path) == before  # neither the zip nor the picture
    real = await _import(gateway, data)
    assert real["status"] == "done" and real["counts"]["stored"] == 1
    stored = _blobs(tmp_path)
    assert hashlib.sha256(data).hexdigest() not in stored
    assert set(stored) - set(before) == {hashlib.sha256(graduation_photo()).hexdigest()}


def _noisy_jpeg(width: int, height: int) -> bytes:
    """A camera-sized upload that QC rejects (no face, wrong size): noise keeps it megabytes large."""
    rng = np.random.default_rng(13)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB").save(
        buffer, "JPEG", quality=92
    )
    return buffer.getvalue()


async def test_a_rejected_oversize_upload_keeps_a_preview_not_its_bytes(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    number = await create_student(gateway)
    upload = _noisy_jpeg(1800, 2400)
    assert len(upload) > 1024 * 1024
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("big.jpg", upload, "image/jpeg")}
    )
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    assert body["state"] == "auto_rejected" and body["original_kept"] is False
    assert body["sha256"] == hashlib.sha256(upload).hexdigest()  # what came is still identified
    assert max(_blobs(tmp_path).values()) < 200 * 1024  # nothing megabytes large was kept
    file = f"/api/v1/photo-submissions/{body['id']}/file"
    assert_problem(await gateway.get(file), 404, "photo.original_not_kept")
    preview = await gateway.get(file, params={"variant": "preview"})
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.size == (480, 640)
    # A small rejected upload and an accepted one are kept as they came.
    small = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("s.jpg", solid_jpeg(480, 640), "image/jpeg")}
    )
    assert small.json()["state"] == "auto_rejected" and small.json()["original_kept"] is True
    assert (await gateway.get(f"/api/v1/photo-submissions/{small.json()['id']}/file")).status_code == 200


async def test_stored_files_are_attachments_never_sniffed(gateway: httpx.AsyncClient) -> None:
    number = await create_student(gateway)
    polyglot = graduation_photo() + b"<html><script>alert(1)</script></html>"
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", polyglot, "image/jpeg")}
    )
    assert submitted.status_code == 201, submitted.text
    file = await gateway.get(f"/api/v1/photo-submissions/{submitted.json()['id']}/file")
    assert file.status_code == 200 and file.content == polyglot
    assert file.headers["x-content-type-options"] == "nosniff"
    assert file.headers["content-disposition"].startswith("attachment;")
    assert file.headers["content-type"] == "image/jpeg"
    assert "no-store" in file.headers["cache-control"]
    assert_problem(
        await gateway.get(
            f"/api/v1/photo-submissions/{submitted.json()['id']}/file", params={"variant": "preview"}
        ),
        404,
        "photo.file_not_found",
    )


async def test_a_phone_photo_tagged_rotate_90_is_accepted_upright(gateway: httpx.AsyncClient) -> None:
    number = await create_student(gateway)
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("phone.jpg", phone_photo(6), "image/jpeg")}
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["state"] == "pending_review", submitted.json()["qc"]


# ---- exports and text -------------------------------------------------------------------------


async def test_the_feedback_sheet_shows_what_was_typed_and_never_runs_it(gateway: httpx.AsyncClient) -> None:
    class_code = "21机电9班"
    number = await create_student(gateway, class_code=class_code, name='=HYPERLINK("http://x","点我")')
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
    )
    assert (
        await gateway.post(f"/api/v1/photo-submissions/{submitted.json()['id']}/approve")
    ).status_code == 200
    reported = await gateway.post(
        f"/api/v1/students/{number}/photo-proofreading",
        json={"action": "report_error", "detail": "@SUM(1+1)*cmd|' /C calc'!A0"},
    )
    assert reported.status_code == 200, reported.text
    xlsx = await gateway.get("/api/v1/photo-proofreading/feedback-sheet", params={"class": class_code})
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    row = [cell for cell in sheet[3]]
    assert row[2].data_type == "s" and row[2].value == '\'=HYPERLINK("http://x","点我")'
    assert row[3].data_type == "s" and str(row[3].value).startswith("'@")
    text = await gateway.get(
        "/api/v1/photo-proofreading/feedback-sheet", params={"class": class_code, "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert rows[2][2].startswith("'=") and rows[2][3].startswith("'@")
    assert_problem(
        await gateway.get("/api/v1/photo-proofreading/feedback-sheet", params={"class": "21\x1b班"}),
        422,
        "photo.filter_invalid",
    )


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/approve", {"comment": "ok\x00"}, "comment"),
        ("/reject", {"reasons": ["photo.glasses"], "comment": "\x1b[31mred"}, "comment"),
        ("/reject", {"reasons": ["photo.glasses\x85"]}, "reasons"),
        ("/reopen", {"reason": "补拍\x07"}, "reason"),
        ("/chsi-status", {"chsi_state": "on_chsi", "reason": "\x9b"}, "reason"),
    ],
)
async def test_photo_text_fields_refuse_control_characters_naming_the_field(
    gateway: httpx.AsyncClient, path: str, payload: dict[str, Any], field: str
) -> None:
    number = await create_student(gateway)
    submitted = await gateway.post(
        f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
    )
    submission = f"/api/v1/photo-submissions/{submitted.json()['id']}"
    refused = assert_problem(await gateway.post(submission + path, json=payload), 422)
    assert field in {str(error.get("field", "")).split(".")[0] for error in refused.get("errors", [])}, (
        refused
    )
    assert (await gateway.get(submission)).json()["state"] == "pending_review"  # nothing changed


async def test_proofreading_detail_and_bulk_comment_refuse_control_characters(
    gateway: httpx.AsyncClient,
) -> None:
    number = await create_student(gateway)
    refused = assert_problem(
        await gateway.post(
            f"/api/v1/students/{number}/photo-proofreading",
            json={"action": "report_error", "detail": "a\x00b"},
        ),
        422,
    )
    assert "detail" in str(refused)
    assert_problem(
        await gateway.post(
            "/api/v1/photo-reviews/approvals", json={"submission_ids": ["x"], "comment": "\x1b"}
        ),
        422,
    )


async def test_a_malformed_chsi_csv_is_a_client_error(gateway: httpx.AsyncClient) -> None:
    for data in (
        b"student_no,chsi_state\n1,on_chsi\x00\n",
        b'student_no,chsi_state,reason\n1,on_chsi,"a\x1bb"\n',
    ):
        answer = await gateway.post(
            "/api/v1/photo-chsi-statuses", files={"file": ("c.csv", data, "text/csv")}
        )
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")


# ---- cursor pages -----------------------------------------------------------------------------


async def test_the_review_queue_pages_by_cursor_without_skipping_or_repeating(
    gateway: httpx.AsyncClient,
) -> None:
    numbers = [await create_student(gateway) for _ in range(3)]
    for number in numbers:
        submitted = await gateway.post(
            f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
        )
        assert submitted.status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await gateway.get("/api/v1/photo-reviews", params=params)).json()
        pages += 1
        seen += [item["id"] for item in page["items"]]
        assert page["count"] == 3
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2 and len(seen) == len(set(seen)) == 3
    legacy = (await gateway.get("/api/v1/photo-reviews", params={"limit": 2, "offset": 2})).json()
    assert [item["id"] for item in legacy["items"]] == seen[2:] and legacy["next_cursor"] is None
    for bad in ("nope!", "学号", "AAAA", "x" * 600):
        assert_problem(await gateway.get("/api/v1/photo-reviews", params={"cursor": bad}), 422)
    assert_problem(await gateway.get("/api/v1/photo-reviews", params={"offset": 10**20}), 422)


async def test_a_students_photos_page_by_cursor(
    gateway: httpx.AsyncClient,
) -> None:
    number = await create_student(gateway)
    for _ in range(3):
        await gateway.post(
            f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", graduation_photo(), "image/jpeg")}
        )
    path = f"/api/v1/students/{number}/photos"
    whole = (await gateway.get(path)).json()
    assert whole["count"] == 3 and len(whole["items"]) == 3 and whole["next_cursor"] is None
    everything = whole["items"]
    first = (await gateway.get(path, params={"limit": 2})).json()
    assert first["count"] == 3 and len(first["items"]) == 2 and first["next_cursor"]
    rest = (await gateway.get(path, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert rest["next_cursor"] is None
    assert [s["id"] for s in first["items"] + rest["items"]] == [s["id"] for s in everything]
    assert_problem(
        await gateway.get(path, params={"cursor": "bm90IGEgY3Vyc29y"}), 422, "photo.cursor_invalid"
    )
