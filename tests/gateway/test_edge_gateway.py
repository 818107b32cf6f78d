"""The gateway's edges against a small upstream: junk in paths, 405 and Allow, whom X-Forwarded-For
is believed from, security and cache headers, multipart idempotency by parts."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from gradops_gateway.app import create_app
from gradops_gateway.edges import client_address, parse_networks
from gradops_gateway.idempotency import REPLAY_HEADER
from gradops_gateway.settings import GatewaySettings
from tests.e2e.slice import assert_problem
from tests.gateway.test_gateway_proxy import gateway_database
from tests.support.gateway_tools import bearer

WRITE = [{"GradOpsPrincipal": ["registry:write"]}]
SPEC: dict[str, dict[str, Any]] = {
    "echo": {
        "paths": {
            "/api/v1/echo/{thing}": {"get": {}, "post": {}},
            "/api/v1/echo/imports": {"put": {}},
            "/api/v1/uploads": {"post": {"security": WRITE}},
        }
    },
}
BOOTSTRAP = "gok_edge-unit-bootstrap-key-000000"


class Echo:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.app = FastAPI()

        @self.app.api_route("/api/v1/echo/{thing}", methods=["GET", "POST", "PUT"])
        async def echo(thing: str, request: Request) -> dict[str, Any]:
            self.calls[thing] += 1
            return {
                "thing": thing,
                "query": request.scope["query_string"].decode("latin-1"),
                "forwarded_for": request.headers.getlist("x-forwarded-for"),
            }

        @self.app.post("/api/v1/uploads", status_code=201)
        async def upload(request: Request) -> dict[str, Any]:
            self.calls["upload"] += 1
            return {"call": self.calls["upload"], "size": len(await request.body())}


Factory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def gateway_with(tmp_path: Path, echo: Echo) -> Factory:
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings: dict[str, Any] = {
            "services": {"echo": "http://echo"},
            "database_url": await gateway_database(tmp_path),
            "bootstrap_api_key": BOOTSTRAP,
            **overrides,
        }
        app = create_app(
            GatewaySettings(**settings),
            specs=SPEC,
            transports={"echo": httpx.ASGITransport(app=echo.app)},
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
        ):
            yield client

    return make


@pytest.fixture
async def gateway(gateway_with: Factory) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_with() as client:
        yield client


# ---- junk in the path


@pytest.mark.parametrize("raw", ["%00", "a%0Db", "%1B[31m", "x%7F", "%C2%85"])
async def test_a_control_character_in_a_path_is_a_400_and_reaches_no_service(
    gateway: httpx.AsyncClient, echo: Echo, raw: str
) -> None:
    response = await gateway.get(f"/api/v1/echo/{raw}")
    assert_problem(response, 400, "request.invalid_path")
    assert "x-request-id" in response.headers
    assert sum(echo.calls.values()) == 0


@pytest.mark.parametrize(
    ("raw", "seen"),
    [("a%3Fb", "a?b"), ("a%23b", "a#b"), ("a%2541", "a%41"), ("%E5%BC%A0", "张"), ("a%20b", "a b")],
)
async def test_encoded_path_text_reaches_the_service_as_the_client_meant_it(
    gateway: httpx.AsyncClient, raw: str, seen: str
) -> None:
    response = await gateway.get(f"/api/v1/echo/{raw}")
    assert response.status_code == 200, response.text
    assert response.json()["thing"] == seen


async def test_raw_non_ascii_in_a_query_is_forwarded_not_a_500(gateway: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(transport=gateway._transport, base_url="http://gw") as raw_client:
        request = raw_client.build_request("GET", "http://gw/api/v1/echo/q")
        request.url = request.url.copy_with(raw_path=b"/api/v1/echo/q?name=%E5%BC%A0&x=a%00b")
        response = await raw_client.send(request)
    assert response.status_code == 200
    assert response.json()["query"] == "name=%E5%BC%A0&x=a%00b"


# ---- 405 and Allow


async def test_a_wrong_method_on_an_existing_path_is_405_with_that_resources_allow(
    gateway: httpx.AsyncClient,
) -> None:
    # /echo/imports exists (PUT only); /echo/{thing} also matches the path but is another resource.
    response = await gateway.delete("/api/v1/echo/imports")
    assert_problem(response, 405, "route.method_not_allowed")
    assert response.headers["allow"] == "PUT"
    # A method the less specific template serves still reaches it.
    assert (await gateway.get("/api/v1/echo/imports")).status_code == 200
    response = await gateway.patch("/api/v1/echo/x")
    assert_problem(response, 405, "route.method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert_problem(await gateway.get("/api/v1/nothing/here"), 404, "route.not_found")


async def test_the_gateways_own_paths_answer_405_too(gateway: httpx.AsyncClient) -> None:
    response = await gateway.delete("/api/v1/admin/api-keys")
    assert_problem(response, 405, "route.method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    # (The webhook paths are the notifications service's now: tests/notifications/api checks them.)


# ---- trusted proxies


def test_the_client_address_believes_only_configured_proxies() -> None:
    proxies = parse_networks(["10.0.0.0/8", "192.168.1.7"])
    assert client_address("203.0.113.9", ["1.2.3.4"], ()) == "203.0.113.9"
    assert client_address("203.0.113.9", ["1.2.3.4"], proxies) == "203.0.113.9"
    assert client_address("10.1.1.1", ["1.2.3.4"], proxies) == "1.2.3.4"
    # A client-written hop sits left of what the proxies appended: never reached.
    assert client_address("10.1.1.1", ["6.6.6.6, 198.51.100.2", "192.168.1.7"], proxies) == "198.51.100.2"
    assert client_address("10.1.1.1", ["not-an-ip"], proxies) == "10.1.1.1"
    assert client_address("10.1.1.1", [], proxies) == "10.1.1.1"
    assert client_address("10.1.1.1", ["[2001:db8::1]:443"], proxies) == "2001:db8::1"
    with pytest.raises(ValueError):
        GatewaySettings(trusted_proxies=["not a network"])


async def test_a_rotating_x_forwarded_for_does_not_bypass_the_per_ip_limit(
    gateway_with: Factory, echo: Echo
) -> None:
    async with gateway_with(public_rate_limit_burst=3, public_rate_limit_per_second=0.001) as gateway:
        statuses = [
            (await gateway.get("/api/v1/echo/v", headers={"x-forwarded-for": f"198.51.100.{n}"})).status_code
            for n in range(5)
        ]
        forwarded = (await gateway.get("/api/v1/echo/v")).status_code
    assert statuses == [200, 200, 200, 429, 429]
    assert forwarded == 429
    assert echo.calls["v"] == 3


async def test_behind_a_configured_proxy_the_forwarded_client_is_the_client(
    gateway_with: Factory,
) -> None:
    async with gateway_with(
        public_rate_limit_burst=1, public_rate_limit_per_second=0.001, trusted_proxies=["127.0.0.1"]
    ) as gateway:
        first = await gateway.get("/api/v1/echo/v", headers={"x-forwarded-for": "6.6.6.6, 198.51.100.1"})
        other = await gateway.get("/api/v1/echo/v", headers={"x-forwarded-for": "198.51.100.2"})
        again = await gateway.get("/api/v1/echo/v", headers={"x-forwarded-for": "198.51.100.1"})
    assert first.status_code == 200 and other.status_code == 200
    # The service gets one X-Forwarded-For: the client the gateway settled on, nothing the client wrote.
    assert first.json()["forwarded_for"] == ["198.51.100.1"]
    assert again.status_code == 429


async def test_without_trusted_proxies_the_service_sees_the_socket_peer(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/echo/v", headers={"x-forwarded-for": "6.6.6.6"})
    assert response.json()["forwarded_for"] == ["127.0.0.1"]


# ---- security and cache headers


async def test_every_answer_carries_the_security_headers(gateway: httpx.AsyncClient) -> None:
    answers = [
        await gateway.get("/api/v1/echo/x"),
        await gateway.get("/api/v1/nothing"),
        await gateway.get("/api/v1/echo/%00"),
        await gateway.get("/openapi.json"),
        await gateway.get("/healthz"),
    ]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert answers[0].headers["content-security-policy"].startswith("default-src 'none'")


async def test_api_answers_are_never_stored_by_caches(gateway: httpx.AsyncClient) -> None:
    for response in (
        await gateway.get("/api/v1/echo/x"),
        await gateway.get("/api/v1/admin/api-keys", headers=bearer(BOOTSTRAP)),
        await gateway.get("/api/v1/admin/api-keys"),
    ):
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in (await gateway.get("/openapi.json")).headers.get("cache-control", "")


async def test_the_offline_docs_pages_allow_their_own_scripts_only(gateway: httpx.AsyncClient) -> None:
    docs = await gateway.get("/docs")
    policy = docs.headers["content-security-policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "'sha256-" in script_src
    assert "unsafe-inline" not in script_src and "http" not in policy
    redoc = await gateway.get("/redoc")
    assert "worker-src 'self' blob:" in redoc.headers["content-security-policy"]
    assert (await gateway.get("/docs-static/swagger-ui.css")).status_code == 200


# ---- multipart idempotency by parts


def _multipart(boundary: str, photo: bytes, note: str = "first") -> tuple[bytes, dict[str, str]]:
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\n{note}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


async def test_a_multipart_retry_with_a_new_boundary_replays_the_first_answer(
    gateway: httpx.AsyncClient, echo: Echo
) -> None:
    key = {**bearer(BOOTSTRAP), "idempotency-key": str(uuid.uuid4())}
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 40
    body, headers = _multipart("first-boundary-1111", photo)
    first = await gateway.post("/api/v1/uploads", content=body, headers={**key, **headers})
    assert first.status_code == 201
    body, headers = _multipart("a-new-boundary-from-a-retry-2222", photo)
    retry = await gateway.post("/api/v1/uploads", content=body, headers={**key, **headers})
    assert retry.status_code == 201 and retry.headers[REPLAY_HEADER] == "true"
    assert retry.json() == first.json()
    assert echo.calls["upload"] == 1
    # Another file, or another field value, under the same key is another request.
    body, headers = _multipart("third-boundary-3333", photo[:-1] + b"\x00")
    assert_problem(
        await gateway.post("/api/v1/uploads", content=body, headers={**key, **headers}),
        422,
        "idempotency.key_reused",
    )
    body, headers = _multipart("fourth-boundary-4444", photo, note="second")
    assert_problem(
        await gateway.post("/api/v1/uploads", content=body, headers={**key, **headers}),
        422,
        "idempotency.key_reused",
    )
    assert echo.calls["upload"] == 1
