"""`gradops health`: each process's `/readyz` and what its `/metrics` say about the outbox and the
consumers (backlog, age of the oldest unsent event, lag, dead letters). Plain HTTP to the processes,
no key: `/readyz` and `/metrics` are outside `/api/v1` (restricted at the network level)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

SUMMED = {
    "gradops_outbox_backlog_events": ("outbox_backlog", "service"),
    "gradops_outbox_oldest_unsent_age_seconds": ("outbox_oldest_unsent_age_seconds", "service"),
    "gradops_consumer_lag_messages": ("consumer_lag", "consumer"),
    "gradops_consumer_dead_lettered_total": ("dead_lettered", "consumer"),
}


@dataclass
class ProcessHealth:
    name: str
    url: str
    reachable: bool = False
    ready: bool = False
    checks: dict[str, Any] = field(default_factory=dict)
    # figure -> label value (service or consumer) -> value
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "reachable": self.reachable,
            "ready": self.ready,
            "checks": self.checks,
            "figures": self.figures,
            "error": self.error,
        }


def figures_from_metrics(text: str) -> dict[str, dict[str, float]]:
    """Outbox backlog and oldest age per service; lag and dead letters summed per consumer."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            wanted = SUMMED.get(sample.name)
            if wanted is None:
                continue
            figure, label = wanted
            key = sample.labels.get(label, "")
            if figure == "outbox_oldest_unsent_age_seconds":
                out[figure][key] = max(out[figure].get(key, 0.0), sample.value)
            else:
                out[figure][key] = out[figure].get(key, 0.0) + sample.value
    return dict(out)


def probe(name: str, url: str, client: httpx.Client) -> ProcessHealth:
    health = ProcessHealth(name, url)
    try:
        ready = client.get(f"{url.rstrip('/')}/readyz")
        health.reachable = True
        health.ready = ready.status_code == 200
        try:
            body = ready.json()
            health.checks = body.get("checks", body) if isinstance(body, dict) else {}
        except ValueError:
            health.checks = {}
        metrics = client.get(f"{url.rstrip('/')}/metrics")
        if metrics.status_code == 200:
            health.figures = figures_from_metrics(metrics.text)
    except httpx.HTTPError as exc:
        health.error = f"{type(exc).__name__}: {exc}"
    return health


def render(results: list[ProcessHealth]) -> str:
    lines = []
    for h in results:
        state = "ready" if h.ready else ("NOT READY" if h.reachable else "UNREACHABLE")
        lines.append(f"{h.name:<22} {state:<12} {h.url}")
        if h.error:
            lines.append(f"    {h.error}")
        elif not h.ready:
            failing = {k: v for k, v in h.checks.items() if v not in ("ok", True)}
            if failing:
                lines.append(f"    {failing}")
        for figure, values in sorted(h.figures.items()):
            for key, value in sorted(values.items()):
                lines.append(f"    {figure}[{key}] = {value:g}")
    return "\n".join(lines)
