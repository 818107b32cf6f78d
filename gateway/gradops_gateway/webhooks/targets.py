"""Where a webhook may point: the gateway POSTs from inside the operator's network, so a partner's
URL must not reach what only the gateway can reach (SSRF): loopback, private ranges, link-local
(169.254.169.254, the cloud metadata service), multicast, reserved or unspecified addresses, in any
spelling (`http://2130706433/`, `0x7f.1`, `[::ffff:127.0.0.1]`, 6to4 or NAT64 forms of them).

The rule is applied twice: when a subscription is made (a 422 naming the reason) and at every
delivery, by `PinnedTransport`, on the addresses the name resolves to *then*. The transport connects
to the address it checked (Host header and TLS server name stay the partner's host name), so a DNS
answer that changes between the check and the connection (rebinding) reaches nothing new. An operator
can name hosts or networks that are allowed all the same (an intranet partner, the tests' receiver).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import AnyUrl, TypeAdapter, ValidationError

from gradops_shared.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""`(host, port) -> addresses`: the system's resolver by default; tests inject their own."""

# Not flagged by every Python's `ipaddress` (3.11): the shared CGNAT range and IPv6 forms that
# carry an IPv4 address inside them (NAT64 well-known and local-use prefixes, IPv4-compatible).
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_RESERVED_V4 = (ipaddress.IPv4Network("0.0.0.0/8"), ipaddress.IPv4Network("192.0.0.0/24"))
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

_HTTP_URL = TypeAdapter(AnyUrl)
REASONS_ZH = {
    "loopback": "本机回环地址",
    "private": "内网（私有）地址",
    "link_local": "链路本地地址（含云元数据服务 169.254.169.254）",
    "multicast": "组播地址",
    "reserved": "保留或非公网地址",
    "unspecified": "未指定地址",
}


class TargetRefused(Exception):
    """A webhook target the policy refuses; `code` is the problem code, `reason` the address class
    (for `webhook.target_forbidden`)."""

    def __init__(self, code: str, detail: str, message_zh: str, reason: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.message_zh = message_zh
        self.reason = reason

    def problem(self) -> InvalidInput:
        extra: dict[str, Any] = {"reason": self.reason} if self.reason else {}
        return InvalidInput(self.detail, code=self.code, message_zh=self.message_zh, extra=extra)


def parse_address(value: str) -> IPAddress | None:
    """The address a URL host (or a resolver's answer) names, or None for a host name. IPv4-mapped
    IPv6 (`::ffff:a.b.c.d`) is the IPv4 address: that is where a connection to it goes."""
    text = value.strip("[]").split("%", 1)[0]  # brackets of a URL host, IPv6 zone id
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one tunnels to (6to4, Teredo client, NAT64, IPv4-compatible)."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64) or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` may not receive webhooks (`loopback`, `private`, `link_local`, `multicast`,
    `reserved`, `unspecified`), or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden_reason(address.ipv4_mapped)
        inner = _embedded_ipv4(address)
        if inner is not None and (reason := forbidden_reason(inner)) is not None:
            return reason
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address):
        if any(address in net for net in _RESERVED_V4):  # "this network", IETF protocol assignments
            return "reserved"
        if address in _SHARED:
            return "private"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "private"
    if address.is_private and not address.is_reserved:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"  # documentation, benchmarking, 240/4, broadcast, ...
    return None


def _host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


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
            allowed_hosts=frozenset(_host_key(h) for h in settings.webhook_allowed_hosts),
            allowed_networks=tuple(settings.webhook_allowed_networks),
        )

    def check_url(self, url: str) -> httpx.URL:
        """Scheme and credentials; the address comes after resolution (`check_addresses`)."""
        try:
            # The WHATWG reading (what the API stored): `0177.0.0.1`, `0x7f.1` or `2130706433`
            # become the address they spell, so the literal is checked without a resolver.
            parsed = httpx.URL(str(_HTTP_URL.validate_python(url)))
        except (ValidationError, httpx.InvalidURL) as exc:
            raise TargetRefused("webhook.url_invalid", "Not a usable http(s) URL.", "推送地址无效") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise TargetRefused("webhook.url_invalid", "The URL must be http(s)://host/...", "推送地址无效")
        if parsed.scheme != "https" and not self.allow_http:
            raise TargetRefused(
                "webhook.url_not_https",
                "Webhook URLs must use https (deliveries carry student data).",
                "推送地址必须使用 https",
            )
        if parsed.userinfo:
            raise TargetRefused(
                "webhook.url_has_credentials",
                "Webhook URLs must not carry a user name or password (user:pass@); "
                "verify the X-GradOps-Signature header instead.",
                "推送地址不得包含用户名或密码，请改为校验签名",
            )
        return parsed

    def host_allowed(self, host: str) -> bool:
        return _host_key(host) in self.allowed_hosts

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
                raise TargetRefused(
                    "webhook.target_forbidden",
                    f"The webhook host {host} resolves to a {reason.replace('_', '-')} address; "
                    "webhooks go to public addresses only unless the operator allows the host "
                    "(GRADOPS_GATEWAY_WEBHOOK_ALLOWED_HOSTS / _ALLOWED_NETWORKS).",
                    f"推送地址指向{REASONS_ZH[reason]}，不允许（除非运维人员将其列入白名单）",
                    reason=reason,
                )


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
