"""`Idempotency-Key` on POST and PUT: a retry with the same key and body gets the first answer.

Records are per API key (two partners may use the same key string) and live 24 hours in the
gateway's database. The request fingerprint is sha256(method, path, query, body); the body is
hashed while it is spooled (in memory up to `idempotency_max_body_bytes`, then to a temporary
file), so a large upload is never held in memory. A multipart body is fingerprinted by its parts
(field names, values, file names, a digest of each part's content), not its bytes: an ordinary
client retrying an upload picks a new boundary, and that is still the same request.

Responses up to `idempotency_max_body_bytes` are stored and replayed whole; a larger one is stored
as status and headers only (`Idempotency-Body-Omitted: true` on the replay). 5xx answers are not
stored: the record is dropped so the partner's retry runs again. The gateway's own creates (API
keys, webhooks) go through `idempotent` with the same records and rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import httpx
from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gradops_gateway.errors import IDEMPOTENCY_IN_FLIGHT, IDEMPOTENCY_KEY_INVALID, IDEMPOTENCY_KEY_REUSED
from gradops_gateway.models import idempotency_records as records
from gradops_gateway.proxy import Upstream, forwardable, send_upstream, upstream_request
from gradops_shared.db import Database
from gradops_shared.errors import GradOpsError, answer, problem_for
from gradops_shared.principal import Principal

IDEMPOTENT_METHODS = frozenset({"POST", "PUT"})
REPLAY_HEADER = "Idempotent-Replayed"
BODY_OMITTED_HEADER = "Idempotency-Body-Omitted"
MAX_KEY_LENGTH = 255
_NOT_STORED = frozenset({"content-length", "date", "server", "x-request-id"})
_CHUNK = 64 * 1024


@dataclass
class SpooledBody:
    digest: str
    file: BinaryIO
    size: int
    in_memory: bytes | None

    async def chunks(self) -> AsyncIterator[bytes]:
        self.file.seek(0)
        while True:
            chunk = await asyncio.to_thread(self.file.read, _CHUNK)
            if not chunk:
                return
            yield chunk

    def content(self) -> bytes | AsyncIterator[bytes]:
        return self.in_memory if self.in_memory is not None else self.chunks()


class PartsDigest:
    """A streaming fingerprint of a multipart/form-data body: for each part in order its field name,
    file name and the sha256 of its content (for a plain field, its value). None when the body is
    not well-formed multipart (the raw bytes decide then; the service will refuse it anyway)."""

    def __init__(self, boundary: bytes) -> None:
        self.digest = hashlib.sha256(b"multipart\0")
        self.ok = True
        self.ended = False
        self._name = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._content = hashlib.sha256()
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
            max_header_count=32,
        )

    def _part_begin(self) -> None:
        self._headers = {}
        self._content = hashlib.sha256()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._name.strip().lower()] = self._value.strip()
        self._name = self._value = b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._content.update(data[start:end])

    def _part_end(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            self.ok = False
            return
        filename = options.get(b"filename")
        self.digest.update(b"name\0" + name + b"\0")
        self.digest.update(b"file\0" + filename + b"\0" if filename is not None else b"field\0")
        self.digest.update(self._content.digest())

    def _end(self) -> None:
        self.ended = True

    def feed(self, chunk: bytes) -> None:
        if self.ok:
            try:
                self.parser.write(chunk)
            except Exception:  # malformed multipart: fall back to the raw bytes
                self.ok = False

    def result(self) -> str | None:
        if self.ok:
            with contextlib.suppress(Exception):
                self.parser.finalize()
        return self.digest.hexdigest() if self.ok and self.ended else None


def _multipart_boundary(content_type: str | None) -> bytes | None:
    if not content_type:
        return None
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    return boundary if media == b"multipart/form-data" and boundary else None


def request_fingerprint(method: str, path: str, query: str) -> hashlib._Hash:
    fingerprint = hashlib.sha256()
    for part in (method, path, query):
        fingerprint.update(part.encode() + b"\0")
    return fingerprint


async def spool_request(request: Request, max_in_memory: int) -> SpooledBody:
    fingerprint = request_fingerprint(request.method, request.url.path, request.url.query)
    boundary = _multipart_boundary(request.headers.get("content-type"))
    parts = PartsDigest(boundary) if boundary else None
    raw = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=max_in_memory)  # noqa: SIM115 (closed by the caller)
    size = 0
    async for chunk in request.stream():
        raw.update(chunk)
        if parts is not None:
            parts.feed(chunk)
        size += len(chunk)
        if size > max_in_memory:
            await asyncio.to_thread(spool.write, chunk)
        else:
            spool.write(chunk)
    in_memory: bytes | None = None
    if size <= max_in_memory:
        spool.seek(0)
        in_memory = spool.read()
    body_digest = (parts.result() if parts is not None else None) or raw.hexdigest()
    fingerprint.update(body_digest.encode())
    return SpooledBody(fingerprint.hexdigest(), spool, size, in_memory)  # type: ignore[arg-type]


def body_fingerprint(method: str, path: str, query: str, content_type: str | None, body: bytes) -> str:
    """The same fingerprint as `spool_request`, for a body already read (the gateway's own
    endpoints, where FastAPI has parsed it)."""
    fingerprint = request_fingerprint(method, path, query)
    boundary = _multipart_boundary(content_type)
    digest: str | None = None
    if boundary:
        parts = PartsDigest(boundary)
        parts.feed(body)
        digest = parts.result()
    fingerprint.update((digest or hashlib.sha256(body).hexdigest()).encode())
    return fingerprint.hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database, *, ttl: timedelta, max_body_bytes: int, lease: timedelta) -> None:
        self.db = db
        self.ttl = ttl
        self.max_body_bytes = max_body_bytes
        # An in-flight record older than this (gateway crashed, client gone) may be taken over.
        self.lease = lease

    async def begin(self, key_id: str, idem_key: str, request_hash: str, instance: str) -> Response | None:
        """None: go ahead (this request owns the key now). Otherwise the answer to give."""
        now = datetime.now(UTC)
        where = and_(records.c.key_id == key_id, records.c.idempotency_key == idem_key)
        async with self.db.transaction() as session:
            row = (await session.execute(select(records).where(where).with_for_update())).first()
            if row is not None and row.expires_at <= now:
                await session.execute(delete(records).where(where))
                row = None
            if row is None:
                try:
                    async with session.begin_nested():
                        await session.execute(
                            records.insert().values(
                                key_id=key_id,
                                idempotency_key=idem_key,
                                request_hash=request_hash,
                                state="in_flight",
                                locked_until=now + self.lease,
                                body_stored=True,
                                created_at=now,
                                expires_at=now + self.ttl,
                            )
                        )
                    return None
                except IntegrityError:
                    return self._in_flight(instance)
            if row.request_hash != request_hash:
                return answer(
                    IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was used for a different request (method, path or body); "
                    "use a new key for a new request.",
                    instance=instance,
                )
            if row.state == "done":
                return self._replay(row._mapping)
            if row.locked_until is not None and row.locked_until > now:
                return self._in_flight(instance)
            await session.execute(update(records).where(where).values(locked_until=now + self.lease))
            return None

    @staticmethod
    def _in_flight(instance: str) -> Response:
        return answer(
            IDEMPOTENCY_IN_FLIGHT,
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
            instance=instance,
        )

    @staticmethod
    def _replay(row: Any) -> Response:
        headers = dict(row["headers"] or {})
        headers[REPLAY_HEADER] = "true"
        if not row["body_stored"]:
            headers[BODY_OMITTED_HEADER] = "true"
        return Response(content=row["body"] or b"", status_code=row["status_code"], headers=headers)

    async def complete(
        self, key_id: str, idem_key: str, status: int, headers: dict[str, str], body: bytes | None
    ) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(records)
                .where(records.c.key_id == key_id, records.c.idempotency_key == idem_key)
                .values(
                    state="done",
                    locked_until=None,
                    status_code=status,
                    headers=headers,
                    body=body,
                    body_stored=body is not None,
                )
            )

    async def abandon(self, key_id: str, idem_key: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                delete(records).where(records.c.key_id == key_id, records.c.idempotency_key == idem_key)
            )

    async def purge_expired(self) -> int:
        async with self.db.transaction() as session:
            result = await session.execute(delete(records).where(records.c.expires_at <= datetime.now(UTC)))
        return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def invalid_key(idem_key: str, instance: str) -> Response | None:
        if len(idem_key) > MAX_KEY_LENGTH or not idem_key.isprintable():
            return answer(
                IDEMPOTENCY_KEY_INVALID,
                f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters (a UUID is ideal).",
                instance=instance,
            )
        return None

    async def forward(
        self,
        request: Request,
        upstream: Upstream,
        principal_header: str,
        key_id: str,
        idem_key: str,
    ) -> Response:
        instance = request.url.path
        invalid = self.invalid_key(idem_key, instance)
        if invalid is not None:
            return invalid
        body = await spool_request(request, self.max_body_bytes)
        try:
            early = await self.begin(key_id, idem_key, body.digest, instance)
            if early is not None:
                return early
            outgoing = upstream_request(request, upstream, principal_header, body.content())
            response = await send_upstream(upstream, outgoing, instance)
        except BaseException:
            body.file.close()
            raise
        body.file.close()
        if isinstance(response, Response) or response.status_code >= 500:
            await self.abandon(key_id, idem_key)
            if isinstance(response, Response):
                return response
            return StreamingResponse(
                response.aiter_raw(),
                status_code=response.status_code,
                headers=dict(forwardable(response.headers)),
                background=BackgroundTask(response.aclose),
            )
        return await self._store_and_return(response, key_id, idem_key)

    async def _store_and_return(self, response: httpx.Response, key_id: str, idem_key: str) -> Response:
        headers = dict(forwardable(response.headers))
        stored_headers = {k: v for k, v in headers.items() if k.lower() not in _NOT_STORED}
        buffered: list[bytes] = []
        size = 0
        raw = response.aiter_raw()
        try:
            async for chunk in raw:
                buffered.append(chunk)
                size += len(chunk)
                if size > self.max_body_bytes:
                    break
            else:
                await response.aclose()
                body = b"".join(buffered)
                await self.complete(key_id, idem_key, response.status_code, stored_headers, body)
                return Response(content=body, status_code=response.status_code, headers=headers)
        except BaseException:
            await response.aclose()
            await self.abandon(key_id, idem_key)
            raise
        # Too large to keep: remember the outcome (status, headers), stream the body through.
        await self.complete(key_id, idem_key, response.status_code, stored_headers, None)

        async def rest() -> AsyncIterator[bytes]:
            for chunk in buffered:
                yield chunk
            async for chunk in raw:
                yield chunk

        return StreamingResponse(
            rest(),
            status_code=response.status_code,
            headers=headers,
            background=BackgroundTask(response.aclose),
        )


async def idempotent(
    request: Request, principal: Principal, create: Callable[[], Awaitable[Response]]
) -> Response:
    """Runs one of the gateway's own creates under the request's `Idempotency-Key` (if any), with
    the proxy's rules: a retry replays the first answer, a duplicate in flight gets 409, another
    body 422; a 4xx is kept like a success, a 5xx is not (the retry runs again)."""
    idem_key = request.headers.get("idempotency-key")
    if not idem_key:
        return await create()
    store: IdempotencyStore = request.app.state.idempotency
    instance = request.url.path
    invalid = store.invalid_key(idem_key, instance)
    if invalid is not None:
        return invalid
    digest = body_fingerprint(
        request.method,
        instance,
        request.url.query,
        request.headers.get("content-type"),
        await request.body(),
    )
    owner = principal.key_id or principal.subject
    early = await store.begin(owner, idem_key, digest, instance)
    if early is not None:
        return early
    try:
        try:
            response = await create()
        except GradOpsError as exc:
            response = problem_for(exc, instance)
    except BaseException:
        await store.abandon(owner, idem_key)
        raise
    if response.status_code >= 500:
        await store.abandon(owner, idem_key)
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_STORED}
    await store.complete(owner, idem_key, response.status_code, headers, bytes(response.body))
    return response
