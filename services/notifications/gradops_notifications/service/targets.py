"""Where a webhook may point, applied twice: when a subscription is made (a 422 naming the reason)
and at every delivery, by `PinnedTransport`, on the addresses the name resolves to *then*. The
transport connects to the address it checked (Host header and TLS server name stay the partner's
host name), so a DNS answer that changes between the check and the connection (rebinding) reaches
nothing new. An operator can name hosts or networks that are allowed all the same (an intranet
partner, the tests' receiver). The address classes themselves are in domain/targets.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import AnyUrl, TypeAdapter, ValidationError

from gradops_notifications.domain.targets import (
    IPAddress,
    IPNetwork,
    TargetRefused,
    forbidden_reason,
    host_key,
    parse_address,
    refused_address,
)
from gradops_notifications.errors import URL_HAS_CREDENTIALS, URL_INVALID, URL_NOT_HTTPS

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""`(host, port) -> addresses`: the system's resolver by default; tests inject their own."""

_HTTP_URL = TypeAdapter(AnyUrl)


@dataclass(frozen=True)
class TargetPolicy:
    """The operator's rule (settings `webhook_allow_http`, `webhook_allowed_hosts`,
    `webhook_allowed_networks`)."""

    allow_http: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, settings: Any) -> TargetPolicy:
        return cls(
            allow_http=bool(settings.webhook_allow_http),
            allowed_hosts=frozenset(host_key(h) for h in settings.webhook_allowed_hosts),
            allowed_networks=tuple(settings.webhook_allowed_networks),
        )

    def check_url(self, url: str) -> httpx.URL:
        """Scheme and credentials; the address comes after resolution (`check_addresses`)."""
        try:
            # The WHATWG reading (what the API stored): `0177.0.0.1`, `0x7f.1` or `2130706433`
            # become the address they spell, so the literal is checked without a resolver.
            parsed = httpx.URL(str(_HTTP_URL.validate_python(url)))
        except (ValidationError, httpx.InvalidURL) as exc:
            raise TargetRefused(URL_INVALID, "Not a usable http(s) URL.", "推送地址无效") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise TargetRefused(URL_INVALID, "The URL must be http(s)://host/...", "推送地址无效")
        if parsed.scheme != "https" and not self.allow_http:
            raise TargetRefused(
                URL_NOT_HTTPS,
                "Webhook URLs must use https (deliveries carry student data).",
                "推送地址必须使用 https",
            )
        if parsed.userinfo:
            raise TargetRefused(
                URL_HAS_CREDENTIALS,
                "Webhook URLs must not carry a user name or password (user:pass@); "
                "verify the X-GradOps-Signature header instead.",
                "推送地址不得包含用户名或密码，请改为校验签名",
            )
        return parsed

    def host_allowed(self, host: str) -> bool:
        return host_key(host) in self.allowed_hosts

    def address_allowed(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.allowed_networks)

    def check_addresses(self, host: str, addresses: Iterable[IPAddress]) -> None:
        """Every address the host resolves to must be public or allowed by the operator: a name
        with one private answer among public ones is refused (the connection could take it)."""
        if self.host_allowed(host):
            return
        for address in addresses:
            if self.address_allowed(address):
                continue
            reason = forbidden_reason(address)
            if reason is not None:
                raise refused_address(host, reason)


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses the system resolver gives (IPv4 and IPv6), deduplicated, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        address = parse_address(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


@dataclass
class TargetGuard:
    """The policy and the resolver, shared by the subscription endpoint and the dispatcher."""

    policy: TargetPolicy
    resolver: Resolver = field(default=system_resolver)
    resolve_timeout_seconds: float = 5.0

    async def resolve(self, url: httpx.URL) -> list[IPAddress]:
        """The checked addresses to connect to (the URL's own when it names one)."""
        host = url.host
        literal = parse_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            port = url.port or (443 if url.scheme == "https" else 80)
            addresses = await asyncio.wait_for(self.resolver(host, port), self.resolve_timeout_seconds)
            if not addresses:
                raise OSError(f"no address for {host}")
        self.policy.check_addresses(host, addresses)
        return addresses

    async def check_subscription(self, url: str) -> None:
        """At subscription: scheme, credentials and, when the name resolves now, its addresses. A
        name that does not resolve (yet) is accepted: every delivery checks again anyway."""
        parsed = self.policy.check_url(url)
        try:
            await self.resolve(parsed)
        except (OSError, TimeoutError):
            return


def guard_of(state: Any) -> TargetGuard:
    """The app's guard (`app.state.webhook_guard`), made from its settings the first time."""
    guard: TargetGuard | None = getattr(state, "webhook_guard", None)
    if guard is None:
        guard = TargetGuard(TargetPolicy.of(state.settings))
        state.webhook_guard = guard
    return guard


async def check_target(guard: TargetGuard, url: str) -> None:
    """A 422 for a URL the webhooks may not target, before anything is stored."""
    try:
        await guard.check_subscription(url)
    except TargetRefused as exc:
        raise exc.problem() from None


class PinnedTransport(httpx.AsyncBaseTransport):
    """Checks every request's target and connects to the checked address: the URL's host is
    replaced by the address, the Host header keeps the name and TLS verifies the certificate for
    the name (SNI). Redirects are never followed (the client's `follow_redirects=False`)."""

    def __init__(self, guard: TargetGuard, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = self.guard.policy.check_url(str(request.url))
        addresses = await self.guard.resolve(url)
        address = addresses[0]
        if parse_address(url.host) is None:
            request.url = url.copy_with(host=str(address))
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": url.host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
