"""`python -m gradops_suite …` (also installed as `gradops`): run, serve, migrate, stack, openapi, keys."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from gradops_shared.migrations import REPO_ROOT


def _serve(role: str, service: str, port: int, host: str = "127.0.0.1") -> None:
    import uvicorn

    from gradops_shared.logging import configure_logging
    from gradops_shared.runtime import create_service_app, create_worker_app
    from gradops_shared.tracing import configure_tracing
    from gradops_suite.catalogue import DEFINITIONS

    process = "gateway" if role == "gateway" else f"{service}-{role}"
    configure_logging(process)
    configure_tracing(process)  # on only if configured
    app: Any
    if role == "gateway":
        from gradops_gateway.app import create_app as create_gateway

        app = create_gateway()
    else:
        definition = DEFINITIONS[service]
        settings = definition.settings_cls()
        configure_logging(f"{service}-{role}", settings.log_level)
        app = (
            create_service_app(definition, settings)
            if role == "api"
            else create_worker_app(definition, settings, role)
        )
    # proxy_headers=False: uvicorn would believe X-Forwarded-For from any loopback peer; the gateway
    # believes it only from GRADOPS_GATEWAY_TRUSTED_PROXIES, and services read the gateway's header.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


def _refuse_to_start(command: str, error: ValidationError) -> NoReturn:
    """A bad setting (a development secret outside the embedded default, a malformed value) ends the
    process with the reason on stderr and exit code 2, not a traceback; never echoes the values."""
    print(f"gradops {command}: refusing to start, the settings are not valid:", file=sys.stderr)
    for detail in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in detail["loc"])
        message = str(detail["msg"]).removeprefix("Value error, ")
        print(f"{error.title}{'.' + where if where else ''}: {message}", file=sys.stderr)
    sys.exit(2)


def _migrate() -> None:
    from gradops_gateway.settings import GatewaySettings
    from gradops_shared.migrations import upgrade
    from gradops_shared.settings import secrets_unused
    from gradops_suite.catalogue import DEFINITIONS

    # The URLs only: no secret is read here. A data migration that needs one (the registry's PII key,
    # to seal an existing roster) reads its settings itself, and they refuse a development key.
    with secrets_unused():
        urls = {name: definition.settings_cls().database_url for name, definition in DEFINITIONS.items()}
        urls["gateway"] = GatewaySettings().database_url
    for name, url in urls.items():
        upgrade(name, url)
        print(f"migrated {name}")


def _openapi(check: bool) -> int:
    from gradops_suite.openapi_export import write_or_check

    drift = write_or_check(REPO_ROOT / "openapi", check=check)
    for line in drift:
        print(line)
    return 1 if check and drift else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gradops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the whole suite in one process (embedded default)")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--data-dir", type=Path, default=Path(".data"))

    serve = sub.add_parser("serve", help="one process of the real stack")
    serve.add_argument("role", choices=["api", "relay", "consumer", "gateway"])
    serve.add_argument(
        "service", choices=["registry", "photo", "audit", "certificates", "notifications", "gateway"]
    )
    serve.add_argument("--port", type=int, required=True)
    # Loopback by default; a container listens on every interface (the image sets GRADOPS_BIND_HOST).
    serve.add_argument("--host", default=os.environ.get("GRADOPS_BIND_HOST", "127.0.0.1"))

    sub.add_parser("migrate", help="apply every service's migrations (URL from settings)")

    stack = sub.add_parser("stack", help="the service processes of the real stack")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument("--base-port", type=int, default=8000)

    openapi = sub.add_parser("openapi", help="write (or --check) openapi/*.json and event schemas")
    openapi.add_argument("--check", action="store_true")

    from gradops_suite.keys_cli import add_parser as add_keys_parser

    add_keys_parser(sub)

    args = parser.parse_args(argv)
    if args.command == "run":
        from gradops_shared.tracing import configure_tracing
        from gradops_suite.embedded import run as run_embedded

        configure_tracing("embedded")  # on only if an OTLP endpoint is configured

        run_embedded(args.port, args.data_dir)
    elif args.command == "serve":
        try:
            _serve(args.role, args.service, args.port, args.host)
        except ValidationError as error:
            _refuse_to_start(f"serve {args.role} {args.service}", error)
    elif args.command == "migrate":
        _migrate()
    elif args.command == "stack":
        from gradops_suite import stack as stack_module

        config = stack_module.StackConfig(base_port=args.base_port)
        if args.action == "up":
            stack_module.start(config)
            print(f"GradOps stack is ready: gateway {config.gateway_url()}  (logs: {config.log_dir})")
            print(f"  HQ API key (every scope): {config.bootstrap_api_key}")
            print(f"  generated secrets (kept; GRADOPS_* in the environment win): {config.secrets_file}")
        elif args.action == "down":
            stack_module.stop(config)
        else:
            states = stack_module.status(config)
            print(json.dumps(states, indent=2))
            sys.exit(0 if all(s == "ready" for s in states.values()) else 1)
    elif args.command == "openapi":
        sys.exit(_openapi(args.check))
    elif args.command == "keys":
        from gradops_suite.keys_cli import run as run_keys

        sys.exit(run_keys(args))
