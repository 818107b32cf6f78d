"""The merged OpenAPI document of the suite, as partners read it on the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SERVICES = ("registry", "photo", "audit", "certificates")


def load_specs(directory: Path, services: tuple[str, ...] = SERVICES) -> dict[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {}
    for name in services:
        path = directory / f"{name}.json"
        specs[name] = json.loads(path.read_text(encoding="utf-8"))
    return specs


def merge_specs(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Union of every service's paths and schemas. A schema name two services define differently
    is a mistake to fix at its source, so it fails loudly here (and in the drift test)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: list[dict[str, str]] = []
    for service, spec in specs.items():
        tags.append({"name": service, "description": spec.get("info", {}).get("description", "")})
        for template, operations in spec.get("paths", {}).items():
            merged = paths.setdefault(template, {})
            for method, operation in operations.items():
                if method in merged:
                    raise ValueError(f"{method.upper()} {template} is defined by two services")
                merged[method] = operation
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"schema {name!r} differs between services; rename it in {service}")
            schemas[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GradOps API",
            "version": "1.0.0",
            "description": (
                "From enrolment to a registered graduation certificate: registry (学籍), photos "
                "(学历照片), graduation audit (毕业审核) and certificates (毕业证书). Errors are "
                "`application/problem+json` with a stable `code`, `message_zh` and `message_en`; every "
                "response carries `X-Request-ID`."
            ),
        },
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
