"""Schemathesis over the gateway's merged spec, every check, against the embedded suite.

`make test` runs it with a bounded budget (GRADOPS_FUZZ_EXAMPLES per operation, default 25); `make
fuzz` runs it for GRADOPS_FUZZ_MAX_TIME seconds (fuzzing and stateful phases repeat until it is spent).
Seed: GRADOPS_FUZZ_SEED when set to a number, random when set to `random` (`make fuzz`), the fixed
CI_SEED when CI=true, otherwise random; it is printed and named in any failure, so
`GRADOPS_FUZZ_SEED=<seed> make test` replays a run.

The suite runs as `python -m gradops_suite run` (what `make run` starts) on a free port with its own
data dir, a bootstrap HQ key, raised rate limits (the fuzzer is one client sending thousands of
requests) and the sample data of tests/fuzz/sample.py. Check decisions: tests/fuzz/schemathesis.toml.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fuzz.sample import Sample, seed

REPO = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
API_KEY = "gok_fuzz-schemathesis-hq-key"
CI_SEED = 13013
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.fuzz


@dataclass(frozen=True)
class Budget:
    seed: int
    seed_source: str
    examples: int
    max_time: int | None
    workers: int

    @classmethod
    def from_env(cls) -> Budget:
        env = os.environ
        chosen = env.get("GRADOPS_FUZZ_SEED", "")
        if chosen and chosen != "random":
            seed, source = int(chosen), "GRADOPS_FUZZ_SEED"
        elif not chosen and env.get("CI", "").lower() in ("true", "1"):
            seed, source = CI_SEED, "fixed for CI"
        else:
            seed, source = random.SystemRandom().randrange(1, 2**31), "random"
        max_time = int(env["GRADOPS_FUZZ_MAX_TIME"]) if env.get("GRADOPS_FUZZ_MAX_TIME") else None
        return cls(
            seed=seed,
            seed_source=source,
            examples=int(env.get("GRADOPS_FUZZ_EXAMPLES", "25")),
            max_time=max_time,
            workers=int(env.get("GRADOPS_FUZZ_WORKERS", "2")),
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pythonpath() -> str:
    """The repo root first, so the fuzzer's process can load `tests.fuzz.hooks`."""
    return os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    log = tmp_path / "suite.log"
    env = {
        **os.environ,
        "PYTHONPATH": _pythonpath(),
        "GRADOPS_BOOTSTRAP_API_KEY": API_KEY,
        "GRADOPS_GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
        "GRADOPS_GATEWAY_RATE_LIMIT_BURST": "100000",
        "GRADOPS_GATEWAY_PUBLIC_RATE_LIMIT_BURST": "100000",
        "GRADOPS_CERTIFICATES_PRINCIPAL_NAME": "李校长",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "gradops_suite",
                "run",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-5000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-5000:]
            time.sleep(0.3)
        yield base, log
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_config(sample: Sample) -> str:
    """The committed decisions plus the sample's identifiers: schema-valid path parameters name a real
    student, batch, certificate or photo half of the time, and anything the schema allows otherwise."""
    dictionaries = {
        "student_no": list(sample.students),
        "batch": [sample.batch],
        "certificate": [sample.certificate],
        "submission": list(sample.photo_submissions),
        "centre": [sample.centre, sample.batch],
    }
    bindings = {
        "path.student_no": "student_no",
        "query.student_no": "student_no",
        "path.batch_code": "batch",
        "path.code": "centre",  # learning centres and graduation batches are both `{code}`
        "path.number": "certificate",
        "path.submission_id": "submission",
        "query.learning_centre": "centre",
    }
    lines = [CONFIG.read_text(), "\n# ---- written by tests/fuzz/test_schemathesis.py for this run\n"]
    for name, values in dictionaries.items():
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(values, ensure_ascii=False)}\n")
    lines.append("[parameters]\n")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}\n' for key, name in bindings.items()]
    return "".join(lines)


def _failures_section(output: str, limit: int = 60_000) -> str:
    """The CLI's ERRORS and FAILURES sections: per operation, the check, the answer and a curl
    reproduction (the whole output stays in the log file named below it)."""
    starts = [i for i in (output.find("= ERRORS ="), output.find("= FAILURES =")) if i != -1]
    start = min(starts) if starts else -1
    end = output.find("= SUMMARY =")
    section = output[output.rfind("\n", 0, start) + 1 : end] if start != -1 else output[-limit:]
    if len(section) > limit:
        section = section[:limit] + f"\n… ({len(section) - limit} more characters in the full log)"
    return section


def _summary(report: dict[str, object]) -> str:
    lines = []
    for failure in report.get("failures", []):  # type: ignore[attr-defined]
        operations = failure["operations"]
        lines.append(
            f"  {failure['code']} {failure['title']}: {failure['count']} on {len(operations)} operations"
        )
        lines += [f"      {op}" for op in operations]
    for error in report.get("errors", []):  # type: ignore[attr-defined]
        lines.append(f"  error: {json.dumps(error, ensure_ascii=False)[:500]}")
    return "\n".join(lines)


def test_schemathesis_finds_no_defect(suite: tuple[str, Path], tmp_path: Path) -> None:
    base, suite_log = suite
    budget = Budget.from_env()
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {API_KEY}"}, timeout=60) as client:
        sample = seed(client)
    config = tmp_path / "schemathesis.toml"
    config.write_text(run_config(sample))
    report_dir = tmp_path / "report"
    command = [
        str(BIN / "schemathesis"), "--config-file", str(config), "run", f"{base}/openapi.json",
        "--checks", "all", "--seed", str(budget.seed), "--workers", str(budget.workers),
        "--max-examples", str(budget.examples), "--report", "json,junit", "--report-dir", str(report_dir),
    ]  # fmt: skip
    if budget.max_time:
        command += ["--max-time", str(budget.max_time)]
    replay = f"GRADOPS_FUZZ_SEED={budget.seed} GRADOPS_FUZZ_EXAMPLES={budget.examples}"
    print(f"\nschemathesis seed {budget.seed} ({budget.seed_source}); replay with {replay}", flush=True)
    started = time.monotonic()
    timeout = (budget.max_time or 900) + 600
    output_file = tmp_path / "schemathesis.log"
    with output_file.open("wb") as out:
        done = subprocess.run(
            command,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": _pythonpath(), "GRADOPS_FUZZ_API_KEY": API_KEY},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    elapsed = time.monotonic() - started
    output = output_file.read_text(errors="replace")
    reports = sorted(report_dir.glob("json-*.json"))
    assert reports, f"schemathesis wrote no report (exit {done.returncode}):\n{output[-20_000:]}"
    report = json.loads(reports[-1].read_text())
    cases = report["test_cases"]
    unhandled = len(re.findall(r'"event": "unhandled_error"', suite_log.read_text(errors="replace")))
    print(
        f"schemathesis: {cases['generated']} test cases on {report['operations']['tested']} operations "
        f"in {elapsed:.0f} s (seed {budget.seed}, {budget.examples} examples per operation"
        f"{f', max {budget.max_time} s' if budget.max_time else ''}): "
        f"{cases['unique_failures']} unique failures, {len(report['errors'])} errors",
        flush=True,
    )
    # What an answer says (5xx, undocumented status or content type, headers, body schema: ST1xx) and
    # schemathesis' own errors always fail. The contract-precision checks (ST2xx data acceptance,
    # ST3xx stateful, ST9xx our `validation_matches_schema`) still list open gaps of the schemas, so they
    # are printed here and fail only GRADOPS_FUZZ_STRICT=1 runs (`make fuzz`) until those gaps close.
    strict = os.environ.get("GRADOPS_FUZZ_STRICT", "") in ("1", "true")
    blocking = [f for f in report["failures"] if strict or str(f["code"]).startswith("ST1")]
    if report["failures"] and not blocking:
        print(f"open contract gaps (not blocking; GRADOPS_FUZZ_STRICT=1 fails on them):\n{_summary(report)}")
    if blocking or report["errors"]:
        pytest.fail(
            f"schemathesis found defects (seed {budget.seed}, {budget.seed_source}; replay with `{replay} "
            f".venv/bin/python -m pytest tests/fuzz`), exit {done.returncode}\n"
            f"{_summary(report)}\n\n{_failures_section(output)}\n"
            f"full output: {output_file}\n"
            f"server log ({unhandled} unhandled errors, with their tracebacks): {suite_log}",
            pytrace=False,
        )
