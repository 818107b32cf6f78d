"""What the gateway decides at its very edge, before routing: who the client is (proxy headers are
believed only from configured proxies) and that answers with personal data are never cached."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.5`, `10.0.0.0/8`, `::1`: a bad entry fails at start (settings validation)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client as far as trusted hops vouch for it. The socket peer is the client unless it is
    a configured proxy; then `X-Forwarded-For` is read from the right (each proxy appends the peer
    it saw), skipping further trusted proxies, and the first other hop is the client. Anything a
    client writes into the header itself sits further left and is never reached."""

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not trusted or not is_trusted(_address(peer)):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a garbled chain: believe nothing in it
        if not is_trusted(address):
            return str(address)
    return peer


class TrustedProxyMiddleware:
    """Sets the ASGI `client` to the real client (see `client_address`) for everything after it:
    rate limits per IP, the X-Forwarded-For the services receive, logs."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted and scope.get("client"):
            host = scope["client"][0]
            forwarded = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-forwarded-for"]
            client = client_address(host, forwarded, self.trusted)
            if client != host:
                scope["client"] = (client, 0)
        await self.app(scope, receive, send)


API_PREFIX = "/api/v1/"


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every /api/v1 answer: they carry names, resident ID numbers,
    photos and keys, and a shared cache or a browser's disk must keep none of them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                replaced = (b"cache-control", b"pragma")
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_no_store)
