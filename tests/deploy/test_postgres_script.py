"""`deploy/stack/postgres.sh down` stops only the cluster its own checkout started: two checkouts share
the cluster of a port, and the one that merely reused it must leave it running for the other.

Runs the real script from two copies of the repository's layout on a port of its own (a throwaway
cluster under /var/lib/postgresql, removed at the end), never on the shared 55432."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "stack" / "postgres.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _checkout(root: Path) -> Path:
    (root / "deploy" / "stack").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "deploy" / "stack" / "postgres.sh")
    return root


def _run(checkout: Path, port: int, action: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(checkout / "deploy" / "stack" / "postgres.sh"), action],
        env={**os.environ, "GRADOPS_PG_PORT": str(port), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _ready(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def port() -> Iterator[int]:
    port = _free_port()
    yield port
    data = Path(f"/var/lib/postgresql/gradops-{port}")
    if (data / "postmaster.pid").exists():
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "sh", "-c", f"ls /usr/lib/postgresql/*/bin/pg_ctl | tail -n1 "
             f"| xargs -I{{}} {{}} stop -D {data} -m immediate -w"],
            cwd="/", check=False, capture_output=True,
        )  # fmt: skip
    shutil.rmtree(data, ignore_errors=True)
    for suffix in (".lock", ".owner"):
        Path(f"/var/lib/postgresql/gradops-{port}{suffix}").unlink(missing_ok=True)


def test_down_stops_only_the_cluster_this_checkout_started(tmp_path: Path, port: int) -> None:
    first = _checkout(tmp_path / "first")
    second = _checkout(tmp_path / "second")

    started = _run(first, port, "up")
    assert started.returncode == 0, started.stderr
    assert _ready(port)
    assert (first / ".stack" / "postgres.owner").read_text().strip().isdigit()

    reused = _run(second, port, "up")
    assert reused.returncode == 0, reused.stderr
    assert f"started by {first}" in reused.stderr
    assert not (second / ".stack" / "postgres.owner").exists()

    left = _run(second, port, "down")
    assert left.returncode == 0, left.stderr
    assert "left running" in left.stderr and str(first) in left.stderr
    assert _ready(port)
    assert _run(second, port, "status").returncode == 0

    stopped = _run(first, port, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stderr
    assert not _ready(port)
    assert not (first / ".stack" / "postgres.owner").exists()

    # A cluster started by hand (or by a checkout since deleted) is nobody's: only a forced down stops it.
    assert _run(first, port, "up").returncode == 0
    (first / ".stack" / "postgres.owner").unlink()
    assert "left running" in _run(first, port, "down").stderr
    assert _ready(port)
    forced = _run(second, port, "down", GRADOPS_PG_FORCE_DOWN="1")
    assert forced.returncode == 0 and "stopped" in forced.stderr, forced.stderr
    assert not _ready(port)
