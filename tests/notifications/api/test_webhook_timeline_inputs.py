"""Hostile input on the webhook and timeline endpoints (the notifications service's, behind the
gateway), on the embedded suite (SQLite) and the real stack (PostgreSQL, which refuses a NUL in
text): a clear 4xx, never a 5xx, and nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gradops_shared.text import encode_cursor
from gradops_suite import stack
from tests.e2e.slice import assert_problem
from tests.factories import create_student
from tests.support.suite import Suite

HOOK = {"url": "http://93.184.216.34/hook", "event_types": ["StudentRegistered"]}


@pytest.fixture
def embedded(suite: Suite) -> httpx.AsyncClient:
    return suite.gateway


@pytest.fixture
async def real_stack(stack_config: stack.StackConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stack_config.gateway_url(),
        timeout=30,
        headers={"authorization": f"Bearer {stack_config.bootstrap_api_key}"},
    ) as client:
        yield client


@pytest.fixture(params=["embedded", "real_stack"])
def client(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """Only the chosen suite is started (`-k embedded` runs without the stack)."""
    chosen: httpx.AsyncClient = request.getfixturevalue(request.param)
    return chosen


async def test_bad_webhook_input_is_a_clear_4xx_and_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/v1/webhooks", params={"limit": 500})).json()["items"]
    for description in ["LMS\x00", "LMS\x1b[31m", "LMS\u0085", "two\nlines"]:
        problem = assert_problem(
            await client.post("/api/v1/webhooks", json={**HOOK, "description": description}), 422
        )
        assert problem["errors"][0]["field"] == "description", problem
    assert_problem(
        await client.post("/api/v1/webhooks", json={**HOOK, "event_types": ["Student\x00Registered"]}),
        422,
        "webhook.event_type_unknown",
    )
    assert (await client.get("/api/v1/webhooks", params={"limit": 500})).json()["items"] == before

    # Path parameters travel percent-encoded: the server decodes them into NUL, ESC, C1... The
    # gateway refuses a control character in any path it routes (400); anything else names nothing.
    for bad_id in ["wh_%00", "wh_%1B", "%C2%B2%18"]:
        assert_problem(await client.get(f"/api/v1/webhooks/{bad_id}"), 400, "request.invalid_path")
    for bad_id in ["%C2%B2", "x" * 5000]:
        assert_problem(await client.get(f"/api/v1/webhooks/{bad_id}"), 404, "webhook.not_found")
    for cursor in ["\x00", "wh_ä", "AAA"]:
        assert_problem(await client.get("/api/v1/webhooks", params={"cursor": cursor}), 422)

    created = await client.post("/api/v1/webhooks", json=HOOK)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert_problem(
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/dl_%00"), 400, "request.invalid_path"
    )
    assert_problem(
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/dl_%C2%B2"), 404, "webhook.not_found"
    )
    assert_problem(
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"cursor": "dl_\x01"}), 422
    )
    # Deleted: gone from GET and the list, the delivery log still readable, a second DELETE harmless.
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 204
    assert_problem(await client.get(f"/api/v1/webhooks/{hook['id']}"), 404, "webhook.not_found")
    listed = (await client.get("/api/v1/webhooks", params={"limit": 500})).json()["items"]
    assert hook["id"] not in {h["id"] for h in listed}
    assert (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).status_code == 200
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 204


async def test_bad_timeline_input_is_a_clear_4xx(client: httpx.AsyncClient) -> None:
    number = await create_student(client)
    for bad in ["2024%00", "2024%1B", "%C2%B2%18", "%C2%85"]:  # control characters: the gateway's 400
        assert_problem(await client.get(f"/api/v1/students/{bad}/timeline"), 400, "request.invalid_path")
    for bad in ["%C2%B2", "x" * 5000]:
        assert_problem(
            await client.get(f"/api/v1/students/{bad}/timeline"), 404, "timeline.student_not_found"
        )
    huge = encode_cursor("2024-01-01T00:00:00+00:00|" + "9" * 30)  # beyond a BIGINT
    naive = encode_cursor("2024-01-01T00:00:00|1")
    for cursor in ["\x00", "ä", "AAA", huge, naive]:
        assert_problem(
            await client.get(f"/api/v1/students/{number}/timeline", params={"cursor": cursor}),
            422,
            "timeline.cursor_invalid",
        )
    assert_problem(
        await client.get(
            f"/api/v1/students/{number}/timeline", params={"type": ["StudentRegistered", "Nope\x00"]}
        ),
        422,
        "timeline.event_type_unknown",
    )


async def test_a_wrong_method_on_a_webhook_path_is_405_with_that_resources_allow(
    client: httpx.AsyncClient,
) -> None:
    # Routed like any service's path: the gateway's route table knows the notifications spec.
    response = await client.put("/api/v1/webhooks/wh_1")
    assert_problem(response, 405, "route.method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET"


async def test_the_service_itself_refuses_ids_with_control_characters(suite: Suite) -> None:
    # Behind the gateway these never arrive (400 above). Called directly, a webhook id breaks the
    # pattern its schema declares (422 naming the field); a student number names nobody (404).
    notifications = suite.services["notifications"]
    headers = suite.headers("webhooks:manage", "registry:read")
    for bad_id in ["wh_%00", "wh_%1B", "%C2%B2%18"]:
        response = await notifications.get(f"/api/v1/webhooks/{bad_id}", headers=headers)
        assert_problem(response, 422, "request.validation_failed")
        assert response.json()["errors"][0]["field"] == "webhook_id"
    for bad in ["2024%00", "%C2%85"]:
        response = await notifications.get(f"/api/v1/students/{bad}/timeline", headers=headers)
        assert_problem(response, 404, "timeline.student_not_found")
