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


@dataclass(frozen=True)
class Match:
    service: str | None
    allowed: frozenset[str]


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    regex = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class RouteTable:
    def __init__(self, specs: dict[str, dict[str, Any]]) -> None:
        routes: list[Route] = []
        for service, spec in specs.items():
            for template, operations in spec.get("paths", {}).items():
                methods = frozenset(m.upper() for m in operations if m in _HTTP_METHODS)
                literal = sum(1 for s in template.split("/") if s and not s.startswith("{"))
                routes.append(Route(service, template, _compile(template), methods, literal))
        # More literal segments first: /students/imports wins over /students/{student_no}.
        self.routes = sorted(routes, key=lambda r: -r.literal_segments)

    def match(self, method: str, path: str) -> Match:
        allowed: set[str] = set()
        for route in self.routes:
            if route.pattern.match(path):
                if method.upper() in route.methods or (method.upper() == "HEAD" and "GET" in route.methods):
                    return Match(route.service, frozenset(route.methods))
                allowed |= route.methods
        return Match(None, frozenset(allowed))
