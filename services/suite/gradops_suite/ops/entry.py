"""The `gradops` script and `python -m gradops_suite`: process commands go straight to the argparse
CLI (nothing of the operator CLI is imported for them), everything else to the typer app."""

from __future__ import annotations

import sys

# Kept here, not imported from app.py: deciding must not import typer.
PROCESS_COMMANDS = frozenset({"run", "serve", "migrate", "stack", "openapi", "keys"})


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in PROCESS_COMMANDS:
        from gradops_suite.cli import main as process_main

        process_main(args)
        return
    from gradops_suite.ops.app import app

    app(args=args, prog_name="gradops")
