"""The merged spec partners read documents every error answer as what it is (problem+json) and the
generic statuses any operation can answer through the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
UPLOADS = ("multipart/form-data", "application/octet-stream")


def _operations(name: str) -> list[tuple[str, str, dict[str, Any]]]:
    spec = json.loads((OPENAPI / name).read_text(encoding="utf-8"))
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_error_answer_of_every_spec_is_problem_json() -> None:
    for name in (
        "gradops.json",
        "registry.json",
        "photo.json",
        "audit.json",
        "certificates.json",
        "gateway.json",
    ):
        for method, path, operation in _operations(name):
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"] == {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, (name, method, path, status)


def test_the_generic_statuses_are_documented_on_every_operation() -> None:
    operations = _operations("gradops.json")
    assert len(operations) > 80
    for method, path, operation in operations:
        statuses = set(operation["responses"])
        assert {"400", "429", "500", "503"} <= statuses, (method, path)
        if operation.get("security"):
            assert {"401", "403"} <= statuses, (method, path)
        if not path.startswith(("/api/v1/admin/", "/api/v1/webhooks")) and not path.endswith("/timeline"):
            assert {"502", "504"} <= statuses, (method, path)
        if any(media in operation.get("requestBody", {}).get("content", {}) for media in UPLOADS):
            assert {"413", "415"} <= statuses, (method, path)


def test_the_gateways_own_creates_take_an_idempotency_key() -> None:
    for method, path, operation in _operations("gradops.json"):
        if method == "post" and path in ("/api/v1/admin/api-keys", "/api/v1/webhooks"):
            names = [p["name"] for p in operation.get("parameters", [])]
            assert "Idempotency-Key" in names, path
