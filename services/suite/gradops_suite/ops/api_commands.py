"""Commands that talk to the API through the gateway, so they work against any deployment (the
embedded default, the stack, compose, a cluster): base URL and key from `--api-url`/`--api-key` or
`GRADOPS_API_URL`/`GRADOPS_API_KEY`."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from gradops_suite.ops.client import EXIT_INCOMPLETE, EXIT_REFUSED, CliError, Context, emit, fail

roster_app = typer.Typer(help="The student roster (学籍名单).", no_args_is_help=True)
photos_app = typer.Typer(help="Graduation photos in bulk.", no_args_is_help=True)
batch_app = typer.Typer(help="Graduation batches (毕业批次).", no_args_is_help=True)
audit_app = typer.Typer(help="The graduation audit of a batch (毕业审核).", no_args_is_help=True)
chsi_app = typer.Typer(help="CHSI files (学信网).", no_args_is_help=True)

PHOTO_IMPORT_DONE = ("done", "failed")
PHOTO_IMPORTED = ("stored", "accepted")


def _ctx(typer_ctx: typer.Context) -> Context:
    ctx: Context = typer_ctx.obj
    return ctx


# ---------------------------------------------------------------------------------------- roster


def roster_report_text(report: dict[str, Any]) -> str:
    head = (
        f"{'dry run: ' if report.get('dry_run') else ''}rows {report.get('rows', 0)}: "
        f"created {report.get('created', 0)}, updated {report.get('updated', 0)}, "
        f"unchanged {report.get('unchanged', 0)}, invalid {report.get('invalid', 0)}"
        f" — {'imported' if report.get('imported') else 'nothing written'}"
    )
    lines = [head]
    for result in report.get("results", []):
        lines.append(f"  row {result['row']:>5}  {result.get('student_no') or '-':<14} {result['outcome']}")
        for error in result.get("errors", []):
            column = f"[{error['column']}] " if error.get("column") else ""
            lines.append(f"         {column}{error['code']}: {error['reason_zh']} / {error['reason']}")
    return "\n".join(lines)


@roster_app.command("import")
def roster_import(
    typer_ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (UTF-8/GB18030) or XLSX")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row, write nothing")] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Import the valid rows even if others fail")
    ] = False,
) -> None:
    """Imports a roster (POST /students/imports) and shows the per-row report. All or nothing
    unless --partial; exit 1 when refused, 4 when some rows were invalid."""
    ctx = _ctx(typer_ctx)
    media = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if file.suffix.lower() == ".xlsx"
        else "text/csv"
    )
    try:
        response = ctx.request(
            "POST",
            "/api/v1/students/imports",
            params={"dry_run": str(dry_run).lower(), "partial": str(partial).lower()},
            files={"file": (file.name, file.read_bytes(), media)},
        )
    except CliError as error:
        report = (error.problem or {}).get("report")
        if report and not ctx.as_json:
            typer.echo(roster_report_text(report), err=True)
        fail(ctx, error)
    report = response.json()
    emit(ctx, report, roster_report_text(report))
    if report.get("invalid"):
        raise typer.Exit(EXIT_INCOMPLETE)


# ---------------------------------------------------------------------------------------- photos


def photo_import_text(job: dict[str, Any]) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in sorted((job.get("counts") or {}).items()))
    lines = [
        f"photo import {job.get('id')}: {job.get('status')} "
        f"({job.get('processed', 0)}/{job.get('total', 0)}){': ' + counts if counts else ''}"
    ]
    if job.get("error"):
        lines.append(f"  error: {job['error']}")
    for item in job.get("files") or []:
        reason = f"  {item.get('reason')}" if item.get("reason") else ""
        checks = f" [{', '.join(item['failed_checks'])}]" if item.get("failed_checks") else ""
        lines.append(f"  {item.get('name', '?'):<24} {item.get('outcome', '?'):<9}{reason}{checks}")
    return "\n".join(lines)


@photos_app.command("import")
def photos_import(
    typer_ctx: typer.Context,
    zip_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Zip of <学号>.jpg")],
    kind: Annotated[str, typer.Option(help="admission | graduation")] = "graduation",
    level: Annotated[str | None, typer.Option(help="Only students of this level")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace photos waiting for review")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every picture, store nothing")] = False,
    wait: Annotated[bool, typer.Option(help="Poll until the job has finished")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the job")] = 600.0,
    poll: Annotated[float, typer.Option(help="Seconds between polls")] = 1.0,
) -> None:
    """Uploads a zip (POST /photo-imports), then polls GET /photo-imports/{id} and shows every
    file's outcome. Exit 4 when a file was skipped or rejected, 1 when the job failed."""
    ctx = _ctx(typer_ctx)
    form: dict[str, str] = {
        "kind": kind,
        "overwrite": str(overwrite).lower(),
        "dry_run": str(dry_run).lower(),
    }
    if level:
        form["level"] = level
    try:
        job: dict[str, Any] = ctx.request(
            "POST",
            "/api/v1/photo-imports",
            data=form,
            files={"file": (zip_file.name, zip_file.read_bytes(), "application/zip")},
        ).json()
        deadline = time.monotonic() + timeout
        while wait and job.get("status") not in PHOTO_IMPORT_DONE:
            if time.monotonic() > deadline:
                raise CliError(
                    f"photo import {job.get('id')} still {job.get('status')} after {timeout:g} s; "
                    f"see GET /api/v1/photo-imports/{job.get('id')} / 导入仍在进行",
                    EXIT_INCOMPLETE,
                )
            if not ctx.as_json:
                typer.echo(
                    f"  … {job.get('status')} {job.get('processed', 0)}/{job.get('total', 0)}", err=True
                )
            time.sleep(poll)
            job = ctx.request("GET", f"/api/v1/photo-imports/{job['id']}").json()
    except CliError as error:
        fail(ctx, error)
    emit(ctx, job, photo_import_text(job))
    if job.get("status") == "failed":
        raise typer.Exit(EXIT_REFUSED)
    if any(item.get("outcome") not in PHOTO_IMPORTED for item in job.get("files") or []):
        raise typer.Exit(EXIT_INCOMPLETE)


# ---------------------------------------------------------------------------------------- batches


def _round(text: str) -> dict[str, Any]:
    try:
        number, opens_on, closes_on = text.split(":")
        return {
            "number": int(number),
            "opens_on": date.fromisoformat(opens_on).isoformat(),
            "closes_on": date.fromisoformat(closes_on).isoformat(),
        }
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r}: expected NUMBER:OPENS_ON:CLOSES_ON (1:2026-11-01:2026-12-20)"
        ) from exc


@batch_app.command("create")
def batch_create(
    typer_ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="YYYYMM, e.g. 202612")],
    cohort_cutoff_term: Annotated[str | None, typer.Option(help="e.g. 2021-spring")] = None,
    issue_date: Annotated[str | None, typer.Option(help="Certificate issue date, YYYY-MM-DD")] = None,
    round_: Annotated[
        list[str] | None, typer.Option("--round", help="NUMBER:OPENS_ON:CLOSES_ON (repeat)")
    ] = None,
    graduation_date_rule: Annotated[str, typer.Option(help="quarterly | fixed")] = "quarterly",
    graduation_date: Annotated[str | None, typer.Option(help="With --graduation-date-rule fixed")] = None,
    name: Annotated[str, typer.Option(help="A label for people")] = "",
    body: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="The whole JSON body from a file instead")
    ] = None,
) -> None:
    """Creates or updates a batch (PUT /graduation-batches/{code})."""
    ctx = _ctx(typer_ctx)
    if body is not None:
        payload: dict[str, Any] = json.loads(body.read_text(encoding="utf-8"))
    else:
        if not (cohort_cutoff_term and issue_date and round_):
            raise typer.BadParameter("give --cohort-cutoff-term, --issue-date and --round (or --body FILE)")
        payload = {
            "name": name,
            "cohort_cutoff_term": cohort_cutoff_term,
            "issue_date": issue_date,
            "rounds": [_round(r) for r in round_],
            "graduation_date_rule": graduation_date_rule,
        }
        if graduation_date:
            payload["graduation_date"] = graduation_date
    try:
        response = ctx.request("PUT", f"/api/v1/graduation-batches/{code}", json=payload)
    except CliError as error:
        fail(ctx, error)
    batch = response.json()
    verb = "created" if response.status_code == 201 else "updated"
    emit(ctx, batch, f"batch {code} {verb}: {json.dumps(batch, ensure_ascii=False, default=str)}")


# ---------------------------------------------------------------------------------------- audit


@audit_app.command("run")
def audit_run(typer_ctx: typer.Context, code: Annotated[str, typer.Argument(help="Batch, YYYYMM")]) -> None:
    """Re-audits every open application of the batch (POST /graduation-batches/{code}/audit-runs)."""
    ctx = _ctx(typer_ctx)
    try:
        run = ctx.request("POST", f"/api/v1/graduation-batches/{code}/audit-runs").json()
    except CliError as error:
        fail(ctx, error)
    emit(
        ctx,
        run,
        f"batch {code}: audited {run['audited']}, passed {run['passed']}, failed {run['failed']}, "
        f"signed off {run['signed_off']} ({run['seconds']:.2f} s)",
    )


@audit_app.command("sign-off")
def audit_sign_off(
    typer_ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Batch, YYYYMM")],
    student: Annotated[list[str] | None, typer.Option("--student", help="Student number (repeat)")] = None,
    all_passing: Annotated[bool, typer.Option("--all-passing", help="Every passing application")] = False,
) -> None:
    """HQ's sign-off (POST /graduation-batches/{code}/sign-offs): AuditPassed per student, then the
    certificate. Exit 4 when some students were skipped (the reasons are shown)."""
    ctx = _ctx(typer_ctx)
    if bool(student) == all_passing:
        raise typer.BadParameter("give --student (repeat) or --all-passing, not both")
    payload: dict[str, Any] = {"all_passing": True} if all_passing else {"student_nos": student}
    try:
        result = ctx.request("POST", f"/api/v1/graduation-batches/{code}/sign-offs", json=payload).json()
    except CliError as error:
        fail(ctx, error)
    lines = [f"batch {code}: signed off {len(result['signed_off'])}: {' '.join(result['signed_off'])}"]
    for skipped in result.get("skipped", []):
        lines.append(f"  skipped {json.dumps(skipped, ensure_ascii=False)}")
    emit(ctx, result, "\n".join(lines))
    if result.get("skipped"):
        raise typer.Exit(EXIT_INCOMPLETE)


# ---------------------------------------------------------------------------------------- CHSI


@chsi_app.command("export")
def chsi_export(
    typer_ctx: typer.Context,
    batch: Annotated[str, typer.Argument(help="Graduation batch, YYYYMM")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: chsi-<batch>.<format>")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="xlsx | csv")] = "xlsx",
    centre: Annotated[
        list[str] | None, typer.Option("--centre", help="Only this learning centre (repeat)")
    ] = None,
) -> None:
    """The 学历电子注册 file of a batch (GET /certificate-batches/{batch}/chsi-registration)."""
    ctx = _ctx(typer_ctx)
    params: dict[str, Any] = {"format": format_}
    if centre:
        params["learning_centre"] = centre
    try:
        response = ctx.request("GET", f"/api/v1/certificate-batches/{batch}/chsi-registration", params=params)
    except CliError as error:
        fail(ctx, error)
    target = output or Path(f"chsi-{batch}.{format_}")
    target.write_bytes(response.content)
    summary = {
        "file": str(target),
        "bytes": len(response.content),
        "rows": int(response.headers.get("x-rows", "0")),
        "rows_incomplete": int(response.headers.get("x-rows-incomplete", "0")),
    }
    emit(
        ctx,
        summary,
        f"wrote {target} ({summary['bytes']} bytes): {summary['rows']} rows, "
        f"{summary['rows_incomplete']} incomplete (see the 缺项 column)",
    )
    if summary["rows_incomplete"]:
        raise typer.Exit(EXIT_INCOMPLETE)


# ---------------------------------------------------------------------------------------- timeline


def timeline(
    typer_ctx: typer.Context,
    student_no: Annotated[str, typer.Argument()],
    limit: Annotated[int, typer.Option(help="Entries per page")] = 200,
) -> None:
    """Everything that happened to one student, in order (GET /students/{no}/timeline, every page)."""
    ctx = _ctx(typer_ctx)
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            page = ctx.request("GET", f"/api/v1/students/{student_no}/timeline", params=params).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    except CliError as error:
        fail(ctx, error)
    lines = [f"{i['occurred_at']}  {i['type']:<24} {i['summary_zh']} / {i['summary_en']}" for i in items]
    emit(ctx, items, "\n".join(lines) or "(no entries)")
