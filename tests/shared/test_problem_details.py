"""The error model every endpoint shares, checked on a small app built with the shared skeleton."""

import httpx
import pytest
from pydantic import BaseModel

from gradops_shared.errors import NotFound
from gradops_shared.http import new_app


class Thing(BaseModel):
    name: str
    count: int


def _app() -> httpx.AsyncClient:
    app = new_app(title="t", description="t")

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("No such thing.", code="thing.not_found", message_zh="不存在")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    )


async def test_domain_errors_render_as_problem_json_in_two_languages() -> None:
    async with _app() as client:
        response = await client.get("/missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "thing.not_found"
    assert body["message_zh"] == "不存在"
    assert body["detail"] == "No such thing."
    assert response.headers["x-request-id"]


async def test_validation_errors_list_each_field() -> None:
    async with _app() as client:
        response = await client.post("/things", json={"name": 3, "count": "many"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "request.validation_failed"
    assert {e["field"] for e in body["errors"]} == {"name", "count"}


async def test_malformed_json_is_a_400() -> None:
    async with _app() as client:
        response = await client.post(
            "/things", content=b"{oops", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["code"] == "request.malformed_json"


async def test_unexpected_errors_never_leak_internals() -> None:
    async with _app() as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert response.json()["code"] == "internal.error"


@pytest.mark.parametrize("incoming", ["abc-123", "Z" * 128])
async def test_a_sane_request_id_is_echoed(incoming: str) -> None:
    async with _app() as client:
        response = await client.get("/missing", headers={"x-request-id": incoming})
    assert response.headers["x-request-id"] == incoming


async def test_an_unsafe_request_id_is_replaced() -> None:
    async with _app() as client:
        response = await client.get("/missing", headers={"x-request-id": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
