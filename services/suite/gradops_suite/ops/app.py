"""`gradops` (and `python -m gradops_suite`): one command line for the people who run GradOps.

- Process commands, unchanged (argparse, `gradops_suite.cli`): `run`, `serve`, `migrate`, `stack`,
  `openapi`, `keys` (keys are written to the gateway's database: how the first key is made).
- Operator commands (typer): `roster import`, `photos import`, `batch create`, `audit run`,
  `audit sign-off`, `chsi export`, `timeline` (through the API: any deployment), `health` (the
  processes' /readyz and /metrics) and `dlt replay` / `dlt status` (Kafka directly).

`gradops_suite.ops.entry.main` hands a process command to argparse before this module (typer,
aiokafka) is imported, so the image's entrypoint and every compose/k8s command line behave exactly
as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

import typer
from aiokafka.errors import KafkaError

from gradops_shared.contracts import TOPICS
from gradops_suite.ops import api_commands, dlt, health
from gradops_suite.ops.client import (
    DEFAULT_API_URL,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CliError,
    Context,
    emit,
    fail,
)

# What a broker that is down or unknown raises (connection, metadata and request timeouts).
KAFKA_UNREACHABLE = (KafkaError, OSError, TimeoutError)
PROCESS_COMMANDS = {
    "run": "The whole suite in one process (embedded default).",
    "serve": "One process of the real stack: serve api|relay|consumer|gateway <service> --port N.",
    "migrate": "Apply every service's migrations (URL from settings).",
    "stack": "The service processes of the real stack: stack up|down|status.",
    "openapi": "Write (or --check) openapi/*.json and the event schemas.",
    "keys": "Create, list and revoke API keys (writes the gateway database directly).",
}

app = typer.Typer(
    name="gradops",
    help="GradOps from the command line. Operator commands talk to the API (--api-url, --api-key: "
    "any deployment), to the processes (health) or to Kafka (dlt); process commands (run, serve, "
    "migrate, stack, openapi, keys) start and prepare the suite.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
dlt_app = typer.Typer(help="The dead-letter topics (<topic>.dlt), on Kafka directly.", no_args_is_help=True)
app.add_typer(api_commands.roster_app, name="roster")
app.add_typer(api_commands.photos_app, name="photos")
app.add_typer(api_commands.batch_app, name="batch")
app.add_typer(api_commands.audit_app, name="audit")
app.add_typer(api_commands.chsi_app, name="chsi")
app.add_typer(dlt_app, name="dlt")
app.command("timeline")(api_commands.timeline)


@app.callback()
def options(
    typer_ctx: typer.Context,
    api_url: Annotated[
        str, typer.Option(envvar="GRADOPS_API_URL", help="The gateway's base URL")
    ] = DEFAULT_API_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="GRADOPS_API_KEY", help="An API key with the commands' scopes")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request")] = 60.0,
) -> None:
    preset = typer_ctx.obj if isinstance(typer_ctx.obj, Context) else None
    typer_ctx.obj = Context(
        api_url=api_url,
        api_key=api_key,
        as_json=as_json,
        timeout=timeout,
        transport=preset.transport if preset else None,
    )
    typer_ctx.call_on_close(typer_ctx.obj.close)


def _process_command(name: str, help_text: str) -> None:
    @app.command(
        name,
        help=help_text + " (`gradops " + name + " --help` for its options)",
        add_help_option=False,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def passthrough(typer_ctx: typer.Context) -> None:
        from gradops_suite.cli import main as process_main

        process_main([name, *typer_ctx.args])


for _name, _help in PROCESS_COMMANDS.items():
    _process_command(_name, _help)


# ------------------------------------------------------------------------------------------ health


@app.command("health")
def health_command(
    typer_ctx: typer.Context,
    process: Annotated[
        list[str] | None,
        typer.Option("--process", help="NAME=URL of a process to probe (repeat); default: the API URL"),
    ] = None,
    stack_base_port: Annotated[
        int | None,
        typer.Option(help="Probe every process of `gradops stack up` laid out from this port (8000)"),
    ] = None,
) -> None:
    """Readiness, outbox backlog and age of the oldest unsent event, consumer lag and dead letters
    of each process (its /readyz and /metrics). The embedded default is one process: the API URL
    shows everything. Exit 1 when a process is not ready, 3 when one cannot be reached."""
    ctx: Context = typer_ctx.obj
    targets: list[tuple[str, str]] = []
    for item in process or []:
        name, sep, url = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: expected NAME=URL")
        targets.append((name, url))
    if stack_base_port is not None:
        from gradops_suite.stack import StackConfig, process_specs

        targets += [
            (spec.name, f"http://127.0.0.1:{spec.port}")
            for spec in process_specs(StackConfig(base_port=stack_base_port))
        ]
    if not targets:
        targets = [("api", ctx.api_url)]
    import httpx

    with httpx.Client(timeout=ctx.timeout, transport=ctx.transport) as client:
        results = [health.probe(name, url, client) for name, url in targets]
    emit(ctx, [r.as_dict() for r in results], health.render(results))
    if any(not r.reachable for r in results):
        raise typer.Exit(EXIT_UNAVAILABLE)
    if any(not r.ready for r in results):
        raise typer.Exit(EXIT_REFUSED)


# ------------------------------------------------------------------------------------------ DLT

Bootstrap = Annotated[str, typer.Option(envvar="GRADOPS_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers")]
Prefix = Annotated[str, typer.Option(envvar="GRADOPS_TOPIC_PREFIX", help="The deployment's topic prefix")]
TopicOption = Annotated[
    list[str] | None,
    typer.Option("--topic", help=f"Source topic (repeat); default every one: {', '.join(TOPICS.values())}"),
]


@dlt_app.command("replay")
def dlt_replay(
    typer_ctx: typer.Context,
    bootstrap: Bootstrap = "127.0.0.1:59092",
    topic_prefix: Prefix = "",
    topic: TopicOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be replayed")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many messages")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to read the DLTs")] = 30.0,
) -> None:
    """Re-publishes what is on <topic>.dlt to the topic named in its `dlt_source` header, once
    (the replay group remembers where it stopped). Fix the cause first. Talks to Kafka directly."""
    ctx: Context = typer_ctx.obj
    topics = topic or list(TOPICS.values())
    try:
        report = asyncio.run(
            dlt.replay(
                bootstrap, topics, topic_prefix=topic_prefix, dry_run=dry_run, limit=limit, timeout_s=timeout
            )
        )
    except KAFKA_UNREACHABLE as exc:
        fail(
            ctx,
            CliError(f"Kafka at {bootstrap}: {type(exc).__name__}: {exc} / 无法连接 Kafka", EXIT_UNAVAILABLE),
        )
    lines = [
        f"{'would replay' if dry_run else 'replayed'} {len(report.messages) if dry_run else report.replayed} "
        f"message(s); {report.unroutable} without a source topic"
    ]
    for m in report.messages:
        lines.append(
            f"  {m.dlt_topic}/{m.partition}/{m.offset} -> {m.target_topic or '?'}  key={m.key}  "
            f"({m.consumer}: {(m.reason or '')[:120]})"
        )
    emit(
        ctx,
        {"dry_run": dry_run, "replayed": report.replayed, "messages": [asdict(m) for m in report.messages]},
        "\n".join(lines),
    )
    if report.unroutable:
        raise typer.Exit(4)


@dlt_app.command("status")
def dlt_status(
    typer_ctx: typer.Context,
    bootstrap: Bootstrap = "127.0.0.1:59092",
    topic_prefix: Prefix = "",
    topic: TopicOption = None,
) -> None:
    """Messages waiting on each dead-letter topic (not yet replayed)."""
    ctx: Context = typer_ctx.obj
    topics = topic or list(TOPICS.values())
    try:
        counts = asyncio.run(dlt.dead_letter_counts(bootstrap, topics, topic_prefix))
    except KAFKA_UNREACHABLE as exc:
        fail(
            ctx,
            CliError(f"Kafka at {bootstrap}: {type(exc).__name__}: {exc} / 无法连接 Kafka", EXIT_UNAVAILABLE),
        )
    emit(ctx, counts, "\n".join(f"{t}.dlt  {n} waiting" for t, n in counts.items()))
