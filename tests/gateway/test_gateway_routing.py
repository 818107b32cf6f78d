from typing import Any

import pytest

from gradops_gateway.openapi import merge_specs
from gradops_gateway.routing import RouteTable

SPECS: dict[str, dict[str, Any]] = {
    "registry": {
        "paths": {
            "/api/v1/students/{student_no}": {"get": {}, "put": {}},
            "/api/v1/students/imports": {"post": {}},
        }
    },
    "photo": {"paths": {"/api/v1/students/{student_no}/photos": {"post": {}, "get": {}}}},
    "certificates": {"paths": {"/api/v1/students/{student_no}/certificate": {"get": {}}}},
}


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("PUT", "/api/v1/students/2021510001", "registry"),
        ("GET", "/api/v1/students/2021510001", "registry"),
        ("HEAD", "/api/v1/students/2021510001", "registry"),
        ("POST", "/api/v1/students/imports", "registry"),
        ("POST", "/api/v1/students/2021510001/photos", "photo"),
        ("GET", "/api/v1/students/2021510001/certificate", "certificates"),
    ],
)
def test_requests_go_to_the_service_that_declares_the_path(method: str, path: str, service: str) -> None:
    assert RouteTable(SPECS).match(method, path).service == service


def test_unknown_path_and_wrong_method_are_told_apart() -> None:
    table = RouteTable(SPECS)
    unknown = table.match("GET", "/api/v1/nothing/here")
    assert unknown.service is None and not unknown.allowed
    wrong = table.match("DELETE", "/api/v1/students/2021510001")
    assert wrong.service is None and wrong.allowed == {"GET", "PUT"}


def test_a_path_parameter_never_spans_segments() -> None:
    assert RouteTable(SPECS).match("GET", "/api/v1/students/a/b").service is None


def test_merged_spec_has_every_path_and_refuses_conflicting_schemas() -> None:
    merged = merge_specs(SPECS)
    assert set(merged["paths"]) == {p for s in SPECS.values() for p in s["paths"]}
    clash = {
        "a": {"paths": {}, "components": {"schemas": {"Thing": {"type": "string"}}}},
        "b": {"paths": {}, "components": {"schemas": {"Thing": {"type": "integer"}}}},
    }
    with pytest.raises(ValueError, match="Thing"):
        merge_specs(clash)
