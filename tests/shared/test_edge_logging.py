"""What the log processors mask, and the error answer of a bare app built with the shared skeleton."""

from __future__ import annotations

import httpx
import pytest

from gradops_shared.http import new_app
from gradops_shared.logging import redact_text
from tests.factories import resident_id


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("key gok_AbC-123_xyzXYZ used", "key gok_[redacted] used"),
        ("authorization: Bearer abc.DEF-ghi", "authorization: Bearer [redacted]"),
        ('{"Authorization": "bearer s3cr3t"}', '{"Authorization": "Bearer [redacted]"}'),
        (
            "GET http://registry/api/v1/students?id_number=1&x=2 failed",
            "GET http://registry/api/v1/students?[query redacted] failed",
        ),
        (
            "x-gradops-principal=eyJzdWIiOiJrZXk6a2V5XzEifQ.c2lnbmF0dXJlLW9mLXRoZS1oZWFkZXI",
            "x-gradops-principal=[principal redacted]",
        ),
        ("what? nothing", "what? nothing"),
        ("student 2021000123 in 5135701", "student 2021000123 in 5135701"),
    ],
)
def test_secrets_queries_and_principals_are_masked(text: str, masked: str) -> None:
    assert redact_text(text) == masked


def test_resident_id_numbers_are_masked_wherever_they_appear() -> None:
    number = resident_id()
    lower_x = number[:-1] + "x"
    assert redact_text(f"id={number};") == "id=[id number redacted];"
    assert number not in redact_text(f"名单 {number}, {lower_x}")
    # Not a resident ID number: too long, or an impossible birth date.
    assert redact_text("1" + number[:-1] + "0") == "1" + number[:-1] + "0"
    assert redact_text("110105199013400011") == "110105199013400011"


async def test_an_unhandled_error_is_a_problem_with_the_request_id_and_headers() -> None:
    app = new_app(title="t", description="t")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internal detail")

    # raise_app_exceptions stays on: the error must not escape the app (an in-process caller,
    # like the embedded gateway, would otherwise fail and log it again).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/boom", headers={"x-request-id": "r-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "r-1" and response.json()["request_id"] == "r-1"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "internal detail" not in response.text
