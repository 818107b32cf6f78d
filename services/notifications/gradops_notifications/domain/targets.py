"""Which addresses a webhook may reach (pure: the address classes; the URL check and the resolver
live in service/targets.py).

The gateway used to POST from inside the operator's network, and the notifications service does
now: a partner's URL must not reach what only we can reach (SSRF): loopback, private ranges,
link-local (169.254.169.254, the cloud metadata service), multicast, reserved or unspecified
addresses, in any spelling (`http://2130706433/`, `0x7f.1`, `[::ffff:127.0.0.1]`, 6to4 or NAT64
forms of them).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from gradops_notifications.errors import TARGET_FORBIDDEN
from gradops_shared.problems import GradOpsError, ProblemType

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not flagged by every Python's `ipaddress` (3.11): the shared CGNAT range and IPv6 forms that
# carry an IPv4 address inside them (NAT64 well-known and local-use prefixes, IPv4-compatible).
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_RESERVED_V4 = (ipaddress.IPv4Network("0.0.0.0/8"), ipaddress.IPv4Network("192.0.0.0/24"))
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

REASONS_ZH = {
    "loopback": "本机回环地址",
    "private": "内网（私有）地址",
    "link_local": "链路本地地址（含云元数据服务 169.254.169.254）",
    "multicast": "组播地址",
    "reserved": "保留或非公网地址",
    "unspecified": "未指定地址",
}


class TargetRefused(Exception):
    """A webhook target the policy refuses; `problem_type` is its catalogued problem, `reason` the
    address class (for `webhook.target_forbidden`)."""

    def __init__(
        self, problem_type: ProblemType, detail: str, message_zh: str, reason: str | None = None
    ) -> None:
        super().__init__(detail)
        self.problem_type = problem_type
        self.code = problem_type.code
        self.detail = detail
        self.message_zh = message_zh
        self.reason = reason

    def problem(self) -> GradOpsError:
        extra: dict[str, Any] = {"reason": self.reason} if self.reason else {}
        return self.problem_type(self.detail, message_zh=self.message_zh, extra=extra)


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


def host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def refused_address(host: str, reason: str) -> TargetRefused:
    return TargetRefused(
        TARGET_FORBIDDEN,
        f"The webhook host {host} resolves to a {reason.replace('_', '-')} address; "
        "webhooks go to public addresses only unless the operator allows the host "
        "(GRADOPS_GATEWAY_WEBHOOK_ALLOWED_HOSTS / _ALLOWED_NETWORKS).",  # the old names: still read
        f"推送地址指向{REASONS_ZH[reason]}，不允许（除非运维人员将其列入白名单）",
        reason=reason,
    )
