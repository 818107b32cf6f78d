"""Alembic plumbing: one history per service, each confined to its own schema.

`migrations/alembic.ini` has a section per service (`alembic -n registry upgrade head`); each
history's env.py calls `run_migrations`. `upgrade()` is the programmatic form used by `make
migrate`, the stack launcher, the embedded default and the tests.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from gradops_shared.db import create_engine, is_sqlite
from gradops_shared.settings import ServiceSettings, secrets_unused

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = Path(os.environ.get("GRADOPS_MIGRATIONS_DIR", REPO_ROOT / "migrations"))


def alembic_config(service: str, database_url: str) -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"), ini_section=service)
    config.set_main_option("script_location", str(MIGRATIONS_DIR / service))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Blocking; call it outside a running event loop (or in a thread)."""
    command.upgrade(alembic_config(service, database_url), revision)


def run_migrations(metadata: MetaData, settings_cls: type[ServiceSettings]) -> None:
    """Body of each history's env.py."""
    schema = metadata.schema
    assert schema is not None, "service metadata must name its schema"
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        with secrets_unused():  # the database URL only
            url = settings_cls().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, version_table_schema=schema)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, schema, metadata))


async def _run_online(url: str, schema: str, metadata: MetaData) -> None:
    engine = create_engine(url, schema)
    try:
        async with engine.connect() as conn:
            if not is_sqlite(url):
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.commit()
            await conn.run_sync(_configure_and_run, schema, metadata, is_sqlite(url))
            await conn.commit()
    finally:
        await engine.dispose()


def _configure_and_run(conn: Connection, schema: str, metadata: MetaData, sqlite: bool) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        # SQLite: the schema is translated to main, but Alembic's has-table check is not, so its
        # version table must be addressed as main directly.
        version_table_schema=None if sqlite else schema,
        include_schemas=not sqlite,
        render_as_batch=sqlite,
        compare_type=True,
        # Each history sees only its own schema.
        include_name=lambda name, type_, _parents: type_ != "schema" or name == schema,
    )
    with context.begin_transaction():
        context.run_migrations()
