"""A lean HTTP/1.1 transport from the gateway to the services: keep-alive connections kept in a
deque per host (O(1) to take and give back) and responses parsed by httptools (the C parser
uvicorn uses).

Why not httpx's own pool: its bookkeeping walks every connection for every waiting request, so at
200 concurrent partners the gateway spent more time there than the services spent answering
(profiled: `_assign_requests_to_connections` and `is_idle` on top). This transport implements
`httpx.AsyncBaseTransport`, so the rest of the gateway still speaks httpx requests and responses,
and HEAD requests (whose bodies the parser cannot skip on its own) go through httpx's transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httptools
import httpx

# uvicorn closes idle keep-alive connections after 5 s; never reuse one that may be closing.
IDLE_REUSE_SECONDS = 4.0
_READ_SIZE = 65536


class _EmptyResponse(Exception):
    """The connection closed before a byte of the response arrived (a stale keep-alive)."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()
        self._reset()

    def _reset(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: deque[bytes] = deque()
        self.headers_done = False
        self.done = False
        self.keep_alive = False
        self.received = False

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(bytes(body))

    def on_message_complete(self) -> None:
        self.done = True
        # Asked here: once the parser moves past the message its answer no longer applies.
        self.keep_alive = self.parser.should_keep_alive()

    async def feed(self, within: float | None) -> None:
        data = await asyncio.wait_for(self.reader.read(_READ_SIZE), within)
        if not data:
            if not self.received:
                raise _EmptyResponse
            if not self.done:
                raise httpx.RemoteProtocolError("the service closed the connection mid-response")
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            raise httpx.RemoteProtocolError(f"malformed response: {exc}") from exc

    async def send(self, request: httpx.Request, within: float | None) -> None:
        self._reset()
        target = request.url.raw_path
        head = [request.method.encode() + b" " + target + b" HTTP/1.1\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in request.headers.raw]
        self.writer.write(b"".join(head) + b"\r\n")
        chunked = request.headers.get("transfer-encoding", "").lower() == "chunked"
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            if not chunk:
                continue
            self.writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await asyncio.wait_for(self.writer.drain(), within)
        if chunked:
            self.writer.write(b"0\r\n\r\n")
        await asyncio.wait_for(self.writer.drain(), within)

    @property
    def reusable(self) -> bool:
        return (
            self.done
            and self.keep_alive
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < IDLE_REUSE_SECONDS
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _Body(httpx.AsyncByteStream):
    def __init__(
        self, transport: LeanHTTPTransport, key: tuple[str, int], conn: _Connection, timeout: float | None
    ):
        self.transport = transport
        self.key = key
        self.conn: _Connection | None = conn
        self.timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self.conn
        if conn is None:
            return
        while True:
            while conn.chunks:
                yield conn.chunks.popleft()
            if conn.done:
                return
            try:
                await conn.feed(self.timeout)
            except TimeoutError as exc:
                raise httpx.ReadTimeout("the service stopped sending") from exc
            except _EmptyResponse as exc:
                raise httpx.RemoteProtocolError("the service closed the connection") from exc

    async def aclose(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        conn.idle_since = time.monotonic()
        if conn.done and not conn.chunks and conn.keep_alive:
            self.transport.checkin(self.key, conn)
        else:
            conn.close()


class LeanHTTPTransport(httpx.AsyncBaseTransport):
    def __init__(self, fallback: httpx.AsyncBaseTransport | None = None) -> None:
        self._idle: dict[tuple[str, int], deque[_Connection]] = defaultdict(deque)
        self._fallback = fallback or httpx.AsyncHTTPTransport()

    def checkin(self, key: tuple[str, int], conn: _Connection) -> None:
        self._idle[key].append(conn)

    async def _checkout(
        self, key: tuple[str, int], connect_timeout: float | None
    ) -> tuple[_Connection, bool]:
        idle = self._idle[key]
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to have been closed
            if conn.reusable:
                return conn, True
            conn.close()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*key), connect_timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {key[0]}:{key[1]}") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"connecting to {key[0]}:{key[1]}: {exc}") from exc
        return _Connection(reader, writer), False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD" or request.url.scheme != "http":
            return await self._fallback.handle_async_request(request)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        key = (request.url.host, request.url.port or 80)
        # Only a body held in memory can be sent again after a stale connection.
        replayable = isinstance(request.stream, httpx.ByteStream)
        for attempt in (1, 2):
            conn, reused = await self._checkout(key, timeouts.get("connect"))
            try:
                await conn.send(request, timeouts.get("write"))
                while not conn.headers_done:
                    await conn.feed(timeouts.get("read"))
            except _EmptyResponse as exc:
                conn.close()
                if reused and replayable and attempt == 1:
                    continue
                raise httpx.RemoteProtocolError(
                    "the service closed the connection without answering"
                ) from exc
            except TimeoutError as exc:
                conn.close()
                raise httpx.ReadTimeout("the service did not answer in time") from exc
            except (OSError, httpcore.NetworkError) as exc:
                conn.close()
                if reused and replayable and attempt == 1:
                    continue
                raise httpx.ReadError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                conn.close()
                raise
            return httpx.Response(
                conn.parser.get_status_code(),
                headers=conn.headers,
                stream=_Body(self, key, conn, timeouts.get("read")),
                request=request,
                extensions={"http_version": b"HTTP/1.1"},
            )
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        await self._fallback.aclose()
