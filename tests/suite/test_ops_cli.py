"""The operator CLI against a running deployment: the embedded default served on a real port by
`python -m gradops_suite run` (which also proves the process commands still dispatch), driven by
typer's CliRunner with --api-url/--api-key, as an operator would from another machine."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from gradops_shared.migrations import upgrade
from gradops_suite.embedded import gateway_database_url
from gradops_suite.ops.app import PROCESS_COMMANDS, app
from gradops_suite.ops.client import EXIT_INCOMPLETE, EXIT_REFUSED, EXIT_UNAVAILABLE
from gradops_suite.ops.entry import PROCESS_COMMANDS as DISPATCHED
from gradops_suite.ops.entry import main
from tests.factories import (
    graduation_photo,
    open_batch_code,
    open_batch_payload,
    student_no,
    student_payload,
    transcript_payload,
)
from tests.registry.rosters import chinese_row, roster_csv
from tests.support.gateway_tools import free_port

API_KEY = "gok_ops-cli-test-key"
runner = CliRunner()


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("ops-cli")
    port = free_port()
    log = data_dir / "run.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gradops_suite", "run", "--port", str(port), "--data-dir", str(data_dir)],
            env={
                **os.environ,
                "GRADOPS_BOOTSTRAP_API_KEY": API_KEY,
                "GRADOPS_CERTIFICATES_PRINCIPAL_NAME": "李校长",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while "HQ API key (every scope)" not in log.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def api(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, headers={"authorization": f"Bearer {API_KEY}"}, timeout=30) as client:
        for centre in ("5135701", "5135702"):
            client.put(
                f"/api/v1/learning-centres/{centre}",
                json={"name": f"学习中心 {centre}", "parent": "51357", "kind": "learning_centre"},
            )
        yield client


def gradops(api_url: str, *args: str, key: str = API_KEY) -> Any:
    result = runner.invoke(app, ["--api-url", api_url, "--api-key", key, *args])
    return result


def wait_until(check: Any, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return value


def test_roster_import_shows_the_row_report_and_exits_by_outcome(
    api_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    good, bad = student_no(), student_no()
    roster = tmp_path / "名单.csv"
    roster.write_bytes(roster_csv([chinese_row(good), chinese_row(bad, 性别="男")], "gb18030"))

    refused = gradops(api_url, "roster", "import", str(roster))
    assert refused.exit_code == EXIT_REFUSED, refused.output
    assert "registry.import_rejected" in refused.output
    assert "row     3" in refused.output and "registry.gender_mismatch" in refused.output
    assert api.get(f"/api/v1/students/{good}").status_code == 404  # nothing half-imported

    dry = gradops(api_url, "--json", "roster", "import", str(roster), "--dry-run")
    assert dry.exit_code == EXIT_INCOMPLETE
    assert [r["outcome"] for r in json.loads(dry.stdout)["results"]] == ["would_create", "invalid"]

    partial = gradops(api_url, "roster", "import", str(roster), "--partial")
    assert partial.exit_code == EXIT_INCOMPLETE, partial.output
    assert "created 1" in partial.output and "invalid 1" in partial.output
    assert api.get(f"/api/v1/students/{good}").json()["name"] == "王五"


def test_batch_audit_sign_off_chsi_export_and_timeline(
    api_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    batch, body = open_batch_code(), open_batch_payload()
    window = body["rounds"][0]
    created = gradops(
        api_url,
        "batch",
        "create",
        batch,
        "--cohort-cutoff-term",
        body["cohort_cutoff_term"],
        "--issue-date",
        body["issue_date"],
        "--round",
        f"1:{window['opens_on']}:{window['closes_on']}",
    )
    assert created.exit_code == 0, created.output
    assert f"batch {batch}" in created.output
    assert api.get(f"/api/v1/graduation-batches/{batch}").json()["issue_date"] == body["issue_date"]

    number = student_no()
    assert api.put(f"/api/v1/students/{number}", json=student_payload()).status_code == 201
    assert api.put(f"/api/v1/students/{number}/transcript", json=transcript_payload()).status_code == 200
    applied = api.post(
        f"/api/v1/graduation-batches/{batch}/applications", json={"type": "graduate", "student_nos": [number]}
    )
    assert applied.status_code == 201, applied.text
    photo = api.post(
        f"/api/v1/students/{number}/photos",
        data={"kind": "graduation"},
        files={"file": ("p.jpg", graduation_photo(), "image/jpeg")},
    ).json()
    assert api.post(f"/api/v1/photo-submissions/{photo['id']}/approve").status_code == 200
    wait_until(lambda: api.get(f"/api/v1/students/{number}/audit").json()["result"] == "passed")

    run = gradops(api_url, "--json", "audit", "run", batch)
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["audited"] >= 1 and json.loads(run.stdout)["passed"] >= 1

    wrong = gradops(api_url, "audit", "sign-off", batch, "--student", student_no())
    assert wrong.exit_code in (EXIT_REFUSED, EXIT_INCOMPLETE), wrong.output
    signed = gradops(api_url, "audit", "sign-off", batch, "--student", number)
    assert signed.exit_code == 0, signed.output
    assert number in signed.output
    wait_until(lambda: api.get(f"/api/v1/students/{number}/certificate").status_code == 200)

    target = tmp_path / "chsi.csv"
    exported = gradops(api_url, "--json", "chsi", "export", batch, "--format", "csv", "-o", str(target))
    assert exported.exit_code in (0, EXIT_INCOMPLETE), exported.output
    summary = json.loads(exported.stdout)
    assert summary["rows"] >= 1 and summary["file"] == str(target)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert any(number in row for row in rows[1:])

    wait_until(
        lambda: "CertificateIssued" in gradops(api_url, "timeline", number).output,
    )
    shown = gradops(api_url, "--json", "timeline", number)
    types = [entry["type"] for entry in json.loads(shown.stdout)]
    assert types[0] == "StudentRegistered" and "AuditPassed" in types and "CertificateIssued" in types
    human = gradops(api_url, "timeline", number)
    assert "毕业审核通过" in human.output and "Graduation audit passed" in human.output


def test_errors_are_bilingual_with_exit_codes(api_url: str, api: httpx.Client) -> None:
    unauthenticated = gradops(api_url, "timeline", student_no(), key="gok_wrong")
    assert unauthenticated.exit_code == EXIT_REFUSED
    assert "auth.unauthenticated" in unauthenticated.output and "未认证" in unauthenticated.output
    unknown = gradops(api_url, "--json", "timeline", student_no())
    assert unknown.exit_code == EXIT_REFUSED
    assert json.loads(unknown.stderr)["problem"]["code"] == "timeline.student_not_found"
    invalid = gradops(api_url, "audit", "run", "2026-12")
    assert invalid.exit_code == EXIT_REFUSED and "request.validation_failed" in invalid.output
    nowhere = gradops(f"http://127.0.0.1:{free_port()}", "timeline", student_no())
    assert nowhere.exit_code == EXIT_UNAVAILABLE and "无法连接" in nowhere.output
    usage = gradops(api_url, "audit", "sign-off", "202612")
    assert usage.exit_code == 2


def test_health_reads_readyz_and_metrics(api_url: str, api: httpx.Client) -> None:
    healthy = gradops(api_url, "--json", "health")
    assert healthy.exit_code == 0, healthy.output
    [process] = json.loads(healthy.stdout)
    assert process["ready"] is True and process["checks"]["database"] == "ok"
    # The embedded default is one process: every service's relay reports there.
    assert set(process["figures"]["outbox_backlog"]) >= {"registry", "photo", "audit", "certificates"}
    human = gradops(api_url, "health", "--process", f"gateway={api_url}")
    assert (
        "gateway" in human.output and "ready" in human.output and "outbox_backlog[registry]" in human.output
    )
    down = gradops(api_url, "health", "--process", f"gone=http://127.0.0.1:{free_port()}")
    assert down.exit_code == EXIT_UNAVAILABLE and "UNREACHABLE" in down.output


def test_photo_import_polls_the_job_until_done(api_url: str, api: httpx.Client, tmp_path: Path) -> None:
    number = student_no()
    assert api.put(f"/api/v1/students/{number}", json=student_payload()).status_code == 201
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{number}.jpg", graduation_photo())
        zf.writestr(f"{student_no()}.jpg", graduation_photo())  # nobody by that number
    result = gradops(api_url, "photos", "import", str(archive), "--poll", "0.2")
    assert result.exit_code == EXIT_INCOMPLETE, result.output
    assert f"{number}.jpg" in result.output and "done" in result.output


def test_process_commands_still_dispatch_to_argparse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade("gateway", gateway_database_url(tmp_path))
    for argv in (
        ["keys", "--data-dir", str(tmp_path), "create", "--name", "lms", "--scope", "registry:read"],
        ["keys", "--data-dir", str(tmp_path), "list", "--json"],
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
    printed = capsys.readouterr().out
    assert "API key (shown once" in printed
    assert json.loads(printed.strip().splitlines()[-1])[0]["name"] == "lms"
    assert set(PROCESS_COMMANDS) == DISPATCHED  # what the help lists is what the entry point dispatches
    help_text = runner.invoke(app, ["--help"]).output
    for command in ("run", "serve", "migrate", "stack", "openapi", "keys", "roster", "dlt", "health"):
        assert command in help_text
