"""Which service owns a request: built from the services' OpenAPI path templates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@dataclass(frozen=True)
class Route:
    service: str
    template: str
    pattern: re.Pattern[str]
    methods: frozenset[str]
    literal_segments: int
    # method -> scopes the operation needs; None = public (no security requirement in the spec)
    security: dict[str, tuple[str, ...] | None]


@dataclass(frozen=True)
class Match:
    service: str | None
    allowed: frozenset[str]
    scopes: tuple[str, ...] | None = None
    template: str | None = None


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def _required_scopes(operation: dict[str, Any]) -> tuple[str, ...] | None:
    """The scopes of an operation's first security requirement; None when it has none (public)."""
    requirements = operation.get("security") or []
    if not requirements:
        return None
    return tuple(sorted({scope for req in requirements[:1] for scopes in req.values() for scope in scopes}))


class RouteTable:
    def __init__(self, specs: dict[str, dict[str, Any]]) -> None:
        routes: list[Route] = []
        for service, spec in specs.items():
            for template, operations in spec.get("paths", {}).items():
                methods = frozenset(m.upper() for m in operations if m in _HTTP_METHODS)
                literal = sum(1 for s in template.split("/") if s and not s.startswith("{"))
                security = {
                    m.upper(): _required_scopes(op) for m, op in operations.items() if m in _HTTP_METHODS
                }
                routes.append(Route(service, template, _compile(template), methods, literal, security))
        # More literal segments first: /students/imports wins over /students/{student_no}.
        self.routes = sorted(routes, key=lambda r: -r.literal_segments)

    def match(self, method: str, path: str) -> Match:
        """The operation for (method, path). When the path exists but not with this method, `allowed`
        lists the methods of the most specific template that matches it (the resource the client
        named), as `Allow` must; a less specific template may still serve the method itself
        (`GET /students/imports` is `GET /students/{student_no}`)."""
        allowed: frozenset[str] | None = None
        verb = method.upper()
        for route in self.routes:
            if route.pattern.match(path):
                wanted = verb
                if verb == "HEAD" and "HEAD" not in route.methods and "GET" in route.methods:
                    wanted = "GET"
                if wanted in route.methods:
                    return Match(
                        route.service, frozenset(route.methods), route.security[wanted], route.template
                    )
                if allowed is None:
                    allowed = route.methods
        return Match(None, allowed or frozenset())
