"""The embedded default (`make run`): the whole suite in one process, driven through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gradops_suite.embedded import embedded_client
from tests.e2e.slice import assert_problem, check_bad_inputs_change_nothing, run_vertical_slice, wait_for
from tests.factories import ensure_learning_centre, jpeg, student_payload


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with embedded_client(tmp_path) as client:
        yield client


async def test_vertical_slice_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    await run_vertical_slice(gateway)


async def test_bad_input_gets_problem_json_and_changes_nothing(gateway: httpx.AsyncClient) -> None:
    await check_bad_inputs_change_nothing(gateway)


async def test_docs_list_every_service_and_load_no_cdn(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/students/{student_no}",
        "/api/v1/students/{student_no}/photos",
        "/api/v1/photo-submissions/{submission_id}/approve",
        "/api/v1/students/{student_no}/audit",
        "/api/v1/students/{student_no}/certificate",
    ):
        assert path in paths
    docs = await gateway.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    asset = await gateway.get("/docs-static/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    redoc = await gateway.get("/redoc")
    assert redoc.status_code == 200 and "fonts.googleapis" not in redoc.text


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    async with embedded_client(tmp_path) as client:
        result = await run_vertical_slice(client)
    async with embedded_client(tmp_path) as client:
        again = await wait_for(client, f"/api/v1/students/{result['student_no']}/certificate")
        assert again.json()["number"] == result["certificate"]["number"]
        # The serial continues after a restart: no reuse, no gap.
        second = await run_vertical_slice(client)
        assert int(second["certificate"]["number"][-6:]) == int(result["certificate"]["number"][-6:]) + 1


async def test_readiness_reports_every_service(gateway: httpx.AsyncClient) -> None:
    ready = await gateway.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert (await gateway.get("/healthz")).json() == {"status": "alive"}


async def test_request_id_is_propagated(gateway: httpx.AsyncClient) -> None:
    await ensure_learning_centre(gateway)
    response = await gateway.put(
        "/api/v1/students/2099000001", json=student_payload(), headers={"x-request-id": "req-42"}
    )
    assert response.headers["x-request-id"] == "req-42"


async def test_oversized_uploads_are_refused_before_anything_is_stored(tmp_path: Path) -> None:
    async with embedded_client(tmp_path, service_overrides={"photo": {"max_upload_bytes": 2048}}) as client:
        number = "2099000002"
        await ensure_learning_centre(client)
        assert (await client.put(f"/api/v1/students/{number}", json=student_payload())).status_code == 201
        big = await client.post(
            f"/api/v1/students/{number}/photos", files={"file": ("p.jpg", jpeg(), "image/jpeg")}
        )
        assert_problem(big, 413, "photo.upload_too_large")
        assert (await client.get(f"/api/v1/students/{number}/photos")).json()["items"] == []
