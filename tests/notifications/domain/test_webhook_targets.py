"""Where webhooks may point (SSRF): the address classifier, the URL rules, the operator's allow-list
and the transport that connects only to the address it checked."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from gradops_notifications.domain.targets import IPAddress, TargetRefused, forbidden_reason, parse_address
from gradops_notifications.service.targets import PinnedTransport, TargetGuard, TargetPolicy
from gradops_notifications.settings import NotificationsSettings

FORBIDDEN = {
    # loopback, in every family and tunnel
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "::127.0.0.1": "loopback",  # IPv4-compatible
    "2002:7f00:1::": "loopback",  # 6to4 of 127.0.0.1
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
    # private ranges (RFC 1918, CGNAT, unique local, deprecated site-local)
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "private",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fec0::1": "private",
    "::ffff:10.1.2.3": "private",
    # link-local, the cloud metadata service among them
    "169.254.169.254": "link_local",
    "fe80::1": "link_local",
    "::ffff:169.254.169.254": "link_local",
    "2002:a9fe:a9fe::": "link_local",  # 6to4 of 169.254.169.254
    # multicast
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "ff02::1": "multicast",
    # unspecified
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    # reserved and not publicly routable
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "0.1.2.3": "reserved",
}

PUBLIC = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN.items())
def test_every_internal_address_class_is_forbidden(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "2001:db8::1", "192.0.0.8"]
)
def test_documentation_and_benchmark_ranges_are_forbidden_too(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None


def test_a_teredo_address_is_judged_by_the_ipv4_address_it_carries() -> None:
    # Teredo client 10.0.0.1 (stored inverted in the last 32 bits).
    teredo = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:" + "f5ff:fffe")
    assert teredo.teredo is not None and str(teredo.teredo[1]) == "10.0.0.1"
    assert forbidden_reason(teredo) == "private"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_a_url_host_or_resolver_answer_is_read_as_the_address_it_names() -> None:
    assert parse_address("[::ffff:7f00:1]") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_address("fe80::1%eth0") == ipaddress.IPv6Address("fe80::1")
    assert parse_address("partner.example.com") is None


def policy(**kwargs: object) -> TargetPolicy:
    return TargetPolicy.of(NotificationsSettings(**kwargs))  # type: ignore[arg-type]


def test_https_only_unless_the_operator_allows_http() -> None:
    assert NotificationsSettings().webhook_allow_http is False
    with pytest.raises(TargetRefused) as refused:
        policy().check_url("http://partner.example.com/hook")
    assert refused.value.code == "webhook.url_not_https" and refused.value.message_zh
    policy().check_url("https://partner.example.com/hook")
    policy(webhook_allow_http=True).check_url("http://partner.example.com/hook")


@pytest.mark.parametrize(
    "url",
    ["https://user:pass@partner.example.com/", "https://user@partner.example.com/", "https://:x@a.com/"],
)
def test_credentials_in_the_url_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        policy().check_url(url)
    assert refused.value.code == "webhook.url_has_credentials"


@pytest.mark.parametrize("url", ["ftp://partner.example.com/", "https://", "file:///etc/passwd", "not a url"])
def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        policy().check_url(url)
    assert refused.value.code == "webhook.url_invalid"


def addresses(*values: str) -> list[IPAddress]:
    return [ipaddress.ip_address(v) for v in values]


def test_every_resolved_address_must_be_public() -> None:
    strict = policy()
    strict.check_addresses("partner.example.com", addresses("93.184.216.34", "2606:4700::1"))
    with pytest.raises(TargetRefused) as refused:
        strict.check_addresses("partner.example.com", addresses("93.184.216.34", "10.0.0.7"))
    assert refused.value.code == "webhook.target_forbidden" and refused.value.reason == "private"
    assert "10.0.0.7" not in refused.value.detail  # the subscriber learns the class, not the address


def test_the_allow_list_names_networks_or_hosts() -> None:
    allowed = policy(
        webhook_allowed_networks=["127.0.0.1/32", "10.20.0.0/16", "fd00::/8"],
        webhook_allowed_hosts=["Hooks.Intranet.example."],
    )
    allowed.check_addresses("127.0.0.1", addresses("127.0.0.1"))
    allowed.check_addresses("receiver.test", addresses("10.20.3.4", "fd00::5"))
    allowed.check_addresses("hooks.intranet.example", addresses("192.168.9.9"))
    for host, answer in [
        ("127.0.0.2", "127.0.0.2"),
        ("x.test", "10.21.0.1"),
        ("other.example", "192.168.9.9"),
    ]:
        with pytest.raises(TargetRefused):
            allowed.check_addresses(host, addresses(answer))


def test_the_allow_list_settings_read_comma_separated_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADOPS_GATEWAY_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32, 10.0.0.0/8")
    monkeypatch.setenv("GRADOPS_GATEWAY_WEBHOOK_ALLOWED_HOSTS", '["hooks.intranet"]')
    settings = NotificationsSettings()
    assert [str(n) for n in settings.webhook_allowed_networks] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert settings.webhook_allowed_hosts == ["hooks.intranet"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://2130706433/",  # decimal
        "http://0x7f.1/",  # hex, short form
        "http://0177.0.0.1/",  # octal
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0/",
    ],
)
async def test_internal_targets_are_refused_in_any_spelling(url: str) -> None:
    guard = TargetGuard(policy(webhook_allow_http=True))  # the system resolver, offline
    with pytest.raises(TargetRefused) as refused:
        await guard.check_subscription(url)
    assert refused.value.code == "webhook.target_forbidden"


async def test_a_name_that_does_not_resolve_yet_is_accepted_at_subscription() -> None:
    async def nxdomain(host: str, port: int) -> list[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    await TargetGuard(policy(), resolver=nxdomain).check_subscription("https://not-yet.example.com/")


class FakeDns:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return addresses(*self.answers[host])


async def test_the_transport_connects_to_the_checked_address_with_the_partners_name() -> None:
    seen: list[httpx.Request] = []

    def partner(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    dns = FakeDns({"partner.example.com": ["93.184.216.34"]})
    transport = PinnedTransport(TargetGuard(policy(), resolver=dns), httpx.MockTransport(partner))
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        assert (await client.post("https://partner.example.com:8443/hook", content=b"{}")).status_code == 204
        # The name now answers with the metadata service: nothing is sent.
        dns.answers["partner.example.com"] = ["169.254.169.254"]
        with pytest.raises(TargetRefused) as refused:
            await client.post("https://partner.example.com:8443/hook", content=b"{}")
        assert refused.value.reason == "link_local"
        with pytest.raises(TargetRefused):
            await client.post("https://user:pw@partner.example.com/hook", content=b"{}")
    [request] = seen
    assert request.url.host == "93.184.216.34" and request.url.port == 8443
    assert request.headers["host"] == "partner.example.com:8443"
    assert request.extensions["sni_hostname"] == "partner.example.com"
