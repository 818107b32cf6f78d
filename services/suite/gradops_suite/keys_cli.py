"""`gradops keys create|list|revoke`: API keys for partners and operators.

It writes the gateway's database directly rather than calling the admin API: it is how the first
keys of an installation are made (no key exists yet to call the API with), it works while the
gateway is down, and whoever can reach the database is already trusted with it. A revocation is
seen by running gateways within their key cache window (GRADOPS_GATEWAY_KEY_CACHE_SECONDS, 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gradops_gateway import keys
from gradops_gateway.models import SCHEMA
from gradops_gateway.settings import GatewaySettings
from gradops_shared.db import Database
from gradops_shared.errors import GradOpsError
from gradops_shared.principal import SCOPES
from gradops_shared.settings import secrets_unused


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "keys",
        help="create, list and revoke API keys (writes the gateway database directly)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--data-dir", type=Path, help="the embedded default's data directory (`make run`'s DATA_DIR)"
    )
    target.add_argument("--database-url", help="default: the gateway's settings (GRADOPS_DATABASE_URL)")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new key; printed once, stored as a hash")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scope", action="append", required=True, dest="scopes", help=f"repeat; one of: {', '.join(SCOPES)}"
    )
    create.add_argument(
        "--centre",
        action="append",
        dest="centres",
        help="bind the key to this learning centre code (repeat); omit for the whole university",
    )
    create.add_argument("--expires-in-days", type=float, help="default: never expires")
    listing = actions.add_parser("list", help="every key (never the key itself)")
    listing.add_argument("--json", action="store_true")
    revoke = actions.add_parser("revoke", help="refuse the key from now on")
    revoke.add_argument("key_id")


def database_url(args: argparse.Namespace) -> str:
    if args.data_dir is not None:
        return f"sqlite+aiosqlite:///{(args.data_dir / 'gateway.db').resolve()}"
    with secrets_unused():  # the key store's URL only
        return str(args.database_url or GatewaySettings().database_url)


def _row(record: dict[str, Any]) -> str:
    state = "revoked" if record["revoked_at"] else "active"
    if state == "active" and record["expires_at"] and record["expires_at"] <= datetime.now(UTC):
        state = "expired"
    centres = ",".join(record["centres"]) if record["centres"] else "ALL"
    scopes = ",".join(record["scopes"])
    return (
        f"{record['id']:<22} {state:<8} {record['key_prefix']}…  {record['name']}  {centres=!s}  {scopes=!s}"
    )


async def _run(args: argparse.Namespace) -> int:
    db = Database(database_url(args), SCHEMA)
    try:
        if args.action == "create":
            expires = (
                datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
            )
            async with db.transaction() as session:
                created = await keys.create_key(
                    session,
                    name=args.name,
                    scopes=args.scopes,
                    centres=args.centres,
                    expires_at=expires,
                    created_by="cli",
                )
            print(_row(created.record))
            print(f"API key (shown once, store it now): {created.api_key}")
        elif args.action == "list":
            async with db.session() as session:
                records = await keys.list_keys(session, limit=10_000)
            if args.json:
                print(
                    json.dumps(
                        [{k: v for k, v in r.items() if k != "key_hash"} for r in records], default=str
                    )
                )
            for record in [] if args.json else records:
                print(_row(record))
        else:
            async with db.transaction() as session:
                record = await keys.revoke_key(session, args.key_id)
            print(_row(record))
        return 0
    except GradOpsError as exc:
        print(f"error: {exc.code}: {exc.detail}")
        return 2
    finally:
        await db.dispose()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
