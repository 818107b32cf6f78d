"""The README's "Try the vertical slice", pasted into bash as it is, against the embedded suite started
the way its first block says (`python -m gradops_suite run`, which is what `make run` runs, on a free
port): it must leave a graduated student with a valid certificate. Also `make run`'s banner: the port
it really serves and the marked sample principal, with which the CHSI export answers instead of 409."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gradops_suite.embedded import SAMPLE_PRINCIPAL_NAME

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SECTION = "## Try the vertical slice"
STUDENT = "2021510001"

pytestmark = pytest.mark.e2e


def walkthrough() -> tuple[str, list[str]]:
    """The section's text and its ```bash blocks, in order."""
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    section = text[start:end]
    return section, re.findall(r"^```bash\n(.*?)^```$", section, flags=re.S | re.M)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_walkthrough_is_what_the_issue_asked_for() -> None:
    """Pasted literally it must work: no alias, the Chinese name encoded, every file it reads written."""
    section, blocks = walkthrough()
    script = "\n".join(blocks)
    assert len(blocks) >= 4
    assert "alias " not in script
    assert "--data-urlencode name=张三" in script and "?name=" not in script
    assert "transcript.json'" in script and "photo.jpg'" in script  # written before they are sent
    assert "<id>" not in script  # the approval takes the id from the answer
    # The server is started as the console block says; the test below does the same.
    assert "$ export GRADOPS_BOOTSTRAP_API_KEY=gok_local-try-out" in section


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = _free_port()
    log = tmp_path / "suite.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GRADOPS_CERTIFICATES_PRINCIPAL_NAME", "GRADOPS_PRINCIPAL_NAME", "PORT")
    }
    env["GRADOPS_BOOTSTRAP_API_KEY"] = "gok_local-try-out"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gradops_suite", "run", "--port", str(port), "--data-dir",
             str(tmp_path / "data")],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "HQ API key (every scope)" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        yield port, log
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_readme_walkthrough_graduates_the_student(suite: tuple[int, Path], tmp_path: Path) -> None:
    port, log = suite
    banner = log.read_text()
    assert f"is running: http://127.0.0.1:{port}" in banner
    assert f"GRADOPS_API_URL=http://127.0.0.1:{port} " in banner
    assert SAMPLE_PRINCIPAL_NAME in banner

    # A scratch directory that looks like the repository's root to the blocks (`.venv/bin/python`,
    # `tests.factories`), so the files they write do not land in the checkout.
    workdir = tmp_path / "shell"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(Path(sys.executable).parent.parent)
    _, blocks = walkthrough()
    script = "\n".join(blocks)
    env = {
        **os.environ,
        "PORT": str(port),
        "GRADOPS_BOOTSTRAP_API_KEY": "gok_local-try-out",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    }
    done = subprocess.run(
        ["bash", "-eu", "-o", "pipefail", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    transcript = f"--- stdout\n{done.stdout[-8000:]}\n--- stderr\n{done.stderr[-8000:]}"
    assert done.returncode == 0, transcript
    assert "Invalid HTTP request" not in done.stdout, transcript  # what an unencoded name got

    auth = {"authorization": "Bearer gok_local-try-out"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=auth, timeout=30) as api:
        certificate = api.get(f"/students/{STUDENT}/certificate")
        assert certificate.status_code == 200, certificate.text
        number = certificate.json()["number"]
        assert certificate.json()["status"] == "valid"
        assert re.fullmatch(rf"513575{time.gmtime().tm_year + 1}06000001", number), number
        assert number in done.stdout, transcript  # the block printed it
        student = api.get(f"/students/{STUDENT}").json()
        assert student["status"] == "graduated"
        assert student["certificate_number"] == number
        # The marked sample principal lets the CHSI export of the batch work out of the box.
        batch = certificate.json()["batch_code"]
        export = api.get(f"/certificate-batches/{batch}/chsi-registration", params={"format": "csv"})
        assert export.status_code == 200, export.text
        assert SAMPLE_PRINCIPAL_NAME in export.content.decode("utf-8-sig")
