"""Database plumbing: one schema per service, one engine per process, one transaction per edge.

PostgreSQL is the real store. The embedded default runs the same models on SQLite: a service's
schema name is translated to SQLite's `main`, so every query and migration is written once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    SQLColumnExpression,
    String,
    and_,
    event,
    or_,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can address them (dated migrations, no surprises).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An auto-incrementing 64-bit key on Postgres; SQLite autoincrements only INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, schema: str, **kwargs: Any) -> AsyncEngine:
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, open transactions (pysqlite's own handling skips BEGIN).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: read-then-write use cases (serial counters,
        # state machines) stay serialisable when the API, relays and consumers share a file.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    # The service's schema becomes SQLite's main database.
    return engine.execution_options(schema_translate_map={schema: None})


class Database:
    """Engine + session factory of one service. `transaction()` is the unit of work: the edge
    (a request, a consumer message, a relay batch) opens it; business code only flushes."""

    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema
        self.engine = create_engine(url, schema)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read-only session: nothing is committed."""
        async with self.sessionmaker() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


BlobT = TypeVar("BlobT", bound="BlobMixin")


class BlobMixin:
    """Stored bytes, content-addressed by SHA-256 and never overwritten: the same columns in every
    service that keeps files (photos, evidence scans, receipts). A service's blob model is
    `class XBlob(BlobMixin, Base): __tablename__ = "..."`."""

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def store_blob(session: AsyncSession, model: type[BlobT], data: bytes, media_type: str) -> BlobT:
    """The blob of `data`, stored once: a second upload of the same bytes is the same row."""
    digest = sha256_hex(data)
    existing = await session.get(model, digest)
    if existing is not None:
        return existing
    blob = model()
    blob.sha256, blob.media_type, blob.size_bytes = digest, media_type, len(data)
    blob.content, blob.created_at = data, datetime.now(UTC)
    session.add(blob)
    await session.flush()
    return blob


def conflict_insert(session: AsyncSession) -> Any:
    """`insert` of the session's dialect, for INSERT … ON CONFLICT (both have it, spelled by each)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


RowT = TypeVar("RowT")
K1 = TypeVar("K1")
K2 = TypeVar("K2")


def after_position(
    first: SQLColumnExpression[K1], second: SQLColumnExpression[K2], after: tuple[K1, K2]
) -> ColumnElement[bool]:
    """Rows after a cursor position in (first, second) order: the keyset filter of a cursor page
    (`second` breaks ties, so a page boundary never skips or repeats a row)."""
    return or_(first > after[0], and_(first == after[0], second > after[1]))


class Repository:
    """The small base of every service's repository: it holds the unit of work's session and is the
    only place queries live. Use cases build it from the session the edge handed them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_if_absent(self, model: type[Any], values: dict[str, Any], key: str) -> bool:
        """Inserts the row unless one with the same `key` exists (two writers meeting a new row at
        once insert it once, never a duplicate key); True when this call inserted it."""
        insert = conflict_insert(self.session)
        result = await self.session.execute(
            insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
        )
        return bool(getattr(result, "rowcount", 0))

    async def rows(self, query: Select[RowT]) -> list[RowT]:
        """The query's rows (each one mapped object), in its order."""
        return list((await self.session.execute(query)).scalars())

    async def one_or_none(self, query: Select[RowT], *, for_update: bool = False) -> RowT | None:
        """The query's one row or None; locked until the transaction ends when `for_update`."""
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def flush(self) -> None:
        await self.session.flush()

    def add(self, instance: object) -> None:
        self.session.add(instance)
