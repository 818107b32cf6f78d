"""The merged OpenAPI document of the suite, as partners read it on the gateway.

Services declare their scopes against the internal `GradOpsPrincipal` scheme (the header the
gateway signs); partners never send that header, so the merged document rewrites every requirement
into the gateway's bearer scheme with the same scopes, and documents what the gateway adds
(401/403/429 and 502/504 problems, `Idempotency-Key`).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from gradops_gateway import errors as _gateway_errors  # noqa: F401  (declares the gateway's codes)
from gradops_gateway.gate import BEARER_SCHEME
from gradops_shared.errors import catalogue_entries, document_problems
from gradops_shared.principal import SCOPES, SECURITY_SCHEME

SERVICES = ("registry", "photo", "audit", "certificates", "notifications")
GATEWAY = "gateway"
_WRITE_METHODS = ("post", "put")
_PROBLEM_REF = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

DESCRIPTION = """\
From enrolment to a registered graduation certificate: registry (学籍), photos (学历照片), \
graduation audit (毕业审核) and certificates (毕业证书), through one front door.

**Authentication**: `Authorization: Bearer <api key>`. Each operation lists the scopes it needs; a \
key bound to learning centres gets 404 (not 403) for students of other centres, and lists return \
only its centres. Unknown, expired and revoked keys get 401 `auth.unauthenticated`; a missing scope \
403 `auth.scope_missing`.

**Errors** are `application/problem+json` (RFC 9457) with a stable `code`, `title`, `detail`, \
`message_zh`, `message_en` and, for validation, `errors[]` with one entry per field. Any operation \
may answer 400, 429, 500 and 503; proxied ones 502/504 too (the service unreachable or late).

**Idempotency**: POST and PUT accept `Idempotency-Key`; a retry with the same key and body within \
24 hours gets the first answer again (header `Idempotent-Replayed: true`); the same key with another \
body is 422 `idempotency.key_reused`; while the first is still running, 409 `idempotency.in_flight`. \
A multipart body counts by its parts (field names, values, file names, file contents), so a retry \
with a new boundary is the same request.

**Rate limits** per key (token bucket) and per client IP for public operations: 429 `rate_limited` \
with `Retry-After`.

**Lists** take `?limit=&cursor=` and answer `{"items": [...], "next_cursor": ...}`.

Every response carries `X-Request-ID`; the same id is in the logs and the Kafka headers of the \
events the request caused. Webhooks: see `/api/v1/webhooks` and docs/partners.md."""


def load_specs(directory: Path, services: tuple[str, ...] = SERVICES) -> dict[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {}
    for name in services:
        path = directory / f"{name}.json"
        specs[name] = json.loads(path.read_text(encoding="utf-8"))
    return specs


def _as_partner_operation(method: str, operation: dict[str, Any], *, service: str) -> dict[str, Any]:
    operation = copy.deepcopy(operation)
    responses = operation.setdefault("responses", {})
    # What the gateway itself may answer for any operation it fronts.
    gateway_statuses = [("429", "Rate limit reached; see Retry-After (problem+json)")]
    if service != GATEWAY:
        gateway_statuses += [
            ("502", "The owning service is not reachable; retry later (problem+json)"),
            ("504", "The owning service did not answer in time; retry later (problem+json)"),
        ]
    requirements = operation.get("security")
    if requirements:
        operation["security"] = [
            {
                (BEARER_SCHEME if scheme == SECURITY_SCHEME else scheme): scopes
                for scheme, scopes in req.items()
            }
            for req in requirements
        ]
        gateway_statuses += [
            ("401", "No valid API key: missing, unknown, expired or revoked (problem+json)"),
            ("403", "The key lacks a required scope (problem+json)"),
        ]
    for status, text in gateway_statuses:  # the gateway answers these: its wording wins
        responses[status] = {"description": text, "content": _PROBLEM_REF}
    # Idempotency-Key replay is done on the proxied services' writes; the gateway's own creates
    # declare the header themselves.
    if requirements and service != GATEWAY and method in _WRITE_METHODS:
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name", "").lower() == "idempotency-key" for p in parameters):
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "Any unique string (a UUID): a retry with the same key and body "
                    "within 24 h returns the first answer.",
                    "schema": {"type": "string", "maxLength": 255},
                }
            )
    return operation


def merge_specs(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Union of every service's (and the gateway's own) paths and schemas. A schema name two
    services define differently is a mistake to fix at its source, so it fails loudly here."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: list[dict[str, str]] = []
    # The catalogue partners read: the shared and the gateway's codes, then each service's.
    problem_codes = {e["code"]: e for e in catalogue_entries() if e["service"] in ("shared", GATEWAY)}
    for service, spec in specs.items():
        problem_codes.update({e["code"]: e for e in spec.get("x-problem-codes", [])})
        tags.append({"name": service, "description": spec.get("info", {}).get("description", "")})
        for template, operations in spec.get("paths", {}).items():
            merged = paths.setdefault(template, {})
            for method, operation in operations.items():
                if method in merged:
                    raise ValueError(f"{method.upper()} {template} is defined by two services")
                merged[method] = _as_partner_operation(method, operation, service=service)
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"schema {name!r} differs between services; rename it in {service}")
            schemas[name] = schema
    return document_problems(
        {
            "openapi": "3.1.0",
            "info": {"title": "GradOps API", "version": "1.0.0", "description": DESCRIPTION},
            "tags": tags,
            "x-problem-codes": [problem_codes[code] for code in sorted(problem_codes)],
            "paths": {template: dict(sorted(ops.items())) for template, ops in sorted(paths.items())},
            "components": {
                "schemas": dict(sorted(schemas.items())),
                "securitySchemes": {
                    BEARER_SCHEME: {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API key from `gradops keys create` or "
                        "`POST /api/v1/admin/api-keys`. Scopes: "
                        + "; ".join(f"`{name}` {text}" for name, text in SCOPES.items()),
                    }
                },
            },
        }
    )
