"""`make run` as a user starts it: prints the URL, serves the docs, stops cleanly on Ctrl-C, and
a second start keeps the data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.factories import student_no, student_payload

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


API_KEY = "gok_test-bootstrap-key"


def _start(port: int, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"DATA_DIR={data_dir}"],
            cwd=REPO,
            env={**os.environ, "GRADOPS_BOOTSTRAP_API_KEY": API_KEY},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for_banner(log: Path, port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # The banner (with the key) comes after uvicorn's own "running on" line.
        if "HQ API key (every scope)" in log.read_text(errors="replace"):
            return
        assert proc.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(log.read_text())


def _interrupt(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl-C in a terminal signals the whole foreground group: make and the suite."""
    os.killpg(proc.pid, signal.SIGINT)
    code = proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    # make reports the interrupt itself; what matters is that the suite shut down cleanly.
    assert code in (0, -signal.SIGINT, 2), text
    assert text.count("Application shutdown complete") >= 1, text
    assert "Traceback" not in text, text


def test_make_run_serves_the_suite_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    port = _free_port()
    data_dir = tmp_path / "data"
    log = tmp_path / "first-run.log"
    number = student_no()

    auth = {"authorization": f"Bearer {API_KEY}"}
    proc = _start(port, data_dir, log)
    try:
        _wait_for_banner(log, port, proc)
        assert f"HQ API key (every scope): {API_KEY}" in log.read_text()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/docs").status_code == 200
            assert "/api/v1/students/{student_no}/certificate" in client.get("/openapi.json").json()["paths"]
            assert client.put(f"/api/v1/students/{number}", json=student_payload()).status_code == 401
            centre = {"name": "测试学习中心", "parent": "51357", "kind": "learning_centre"}
            assert (
                client.put("/api/v1/learning-centres/5135701", json=centre, headers=auth).status_code == 201
            )
            created = client.put(f"/api/v1/students/{number}", json=student_payload(), headers=auth)
            assert created.status_code == 201
    finally:
        _interrupt(proc, log)
    assert (data_dir / "registry.db").exists()

    log = tmp_path / "second-run.log"
    proc = _start(port, data_dir, log)
    try:
        _wait_for_banner(log, port, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=auth) as client:
            assert client.get(f"/api/v1/students/{number}").json()["student_no"] == number
    finally:
        _interrupt(proc, log)
