"""What the gateway costs: a cheap authenticated GET at 200 concurrent clients, through the gateway
vs straight to the service (with a principal signed as the gateway would), on loopback.

The topology is real: the registry API and the gateway each run as their own process
(`gradops serve ...`) on PostgreSQL; the load comes from a second process (this file with
`--generate`: a minimal asyncio HTTP/1.1 keep-alive client, so the generator itself costs little).
Prints median, p99 and throughput for both and writes bench/results/gateway_load.json.

    .venv/bin/python bench/gateway_load.py [--seconds 10] [--concurrency 200]

The machine is shared (2 cores, other work running): absolute figures are pessimistic, and the
generator competes with the servers for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "gateway_load.json"
PG_SERVER = os.environ.get("GRADOPS_BENCH_PG", "postgresql://gradops:gradops@127.0.0.1:55432")
REGISTRY_PORT = 27101
WARMUP_SECONDS = 2.0
GATEWAY_PORT = 27100


# ------------------------------------------------------------------------ the load generator


def _raw_request(url: str, headers: dict[str, str]) -> tuple[str, int, bytes]:
    target = httpx.URL(url)
    lines = [f"GET {target.raw_path.decode()} HTTP/1.1", f"Host: {target.host}:{target.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return target.host, target.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


def _figures(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / seconds, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 2),
    }


async def _client(
    target: tuple[str, int, bytes], stop_at: float, warm_until: float, latencies: list[float]
) -> int:
    host, port, request = target
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status = await _one(reader, writer, request)
            if status != 200:
                errors += 1
            elif started >= warm_until:
                latencies.append(time.perf_counter() - started)
    finally:
        writer.close()
    return errors


async def generate(targets: list[tuple[str, dict[str, str]]], concurrency: int, seconds: float) -> None:
    """One target: `concurrency` keep-alive clients hammer it. Two targets: one client per target,
    alternating requests, so both see the same moments of the shared machine (latency cost)."""
    warm_until = time.perf_counter() + WARMUP_SECONDS
    stop_at = warm_until + seconds
    raw = [_raw_request(url, headers) for url, headers in targets]
    if len(raw) == 1:
        latencies: list[float] = []
        errors = await asyncio.gather(
            *(_client(raw[0], stop_at, warm_until, latencies) for _ in range(concurrency))
        )
        print(json.dumps(_figures(latencies, sum(errors), seconds)))
        return
    connections = [await asyncio.open_connection(host, port) for host, port, _ in raw]
    per_target: list[list[float]] = [[] for _ in raw]
    failures = [0 for _ in raw]
    while time.perf_counter() < stop_at:
        for index, ((reader, writer), (_, _, request)) in enumerate(zip(connections, raw, strict=True)):
            started = time.perf_counter()
            if await _one(reader, writer, request) != 200:
                failures[index] += 1
            elif started >= warm_until:
                per_target[index].append(time.perf_counter() - started)
    for _, writer in connections:
        writer.close()
    print(json.dumps([_figures(lat, err, seconds) for lat, err in zip(per_target, failures, strict=True)]))


# ------------------------------------------------------------------------ the orchestration


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


def _run_generator(targets: list[tuple[str, dict[str, str]]], concurrency: int, seconds: float) -> Any:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--generate",
            json.dumps(targets),
            "--concurrency",
            str(concurrency),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(seconds: float, concurrency: int, rounds: int) -> dict[str, Any]:
    from gradops_shared.principal import Principal, sign_principal
    from gradops_suite.devdb import recreate

    database_url = asyncio.run(recreate(PG_SERVER, "gradops_bench_gateway"))
    secret = secrets.token_urlsafe(32)
    api_key = f"gok_{secrets.token_urlsafe(32)}"
    env = {
        **os.environ,
        "GRADOPS_DATABASE_URL": database_url,
        "GRADOPS_PRINCIPAL_SECRET": secret,
        "GRADOPS_BOOTSTRAP_API_KEY": api_key,
        "GRADOPS_LOG_LEVEL": "WARNING",
        "GRADOPS_GATEWAY_SERVICES": json.dumps(
            {
                "registry": f"http://127.0.0.1:{REGISTRY_PORT}",
                "photo": "http://127.0.0.1:9",
                "audit": "http://127.0.0.1:9",
                "certificates": "http://127.0.0.1:9",
            }
        ),
        # The limits are the subject of another test; here they must not be what is measured.
        "GRADOPS_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
        "GRADOPS_GATEWAY_RATE_LIMIT_BURST": "1000000",
    }
    processes = []
    try:
        for args, port in ((["api", "registry"], REGISTRY_PORT), (["gateway", "gateway"], GATEWAY_PORT)):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gradops_suite", "serve", *args, "--port", str(port)],
                    env=env,
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        _wait_ready(f"http://127.0.0.1:{REGISTRY_PORT}", processes[0])
        _wait_ready(f"http://127.0.0.1:{GATEWAY_PORT}", processes[1])

        sys.path.insert(0, str(REPO))
        from tests.factories import student_payload

        number = "2021990001"
        centre = httpx.put(
            f"http://127.0.0.1:{GATEWAY_PORT}/api/v1/learning-centres/5135701",
            json={"name": "基准测试学习中心", "parent": "51357", "kind": "learning_centre"},
            headers={"authorization": f"Bearer {api_key}"},
            timeout=10,
        )
        assert centre.status_code in (200, 201), centre.text
        created = httpx.put(
            f"http://127.0.0.1:{GATEWAY_PORT}/api/v1/students/{number}",
            json=student_payload(),
            headers={"authorization": f"Bearer {api_key}"},
            timeout=10,
        )
        assert created.status_code in (200, 201), created.text
        path = f"/api/v1/students/{number}"
        principal = sign_principal(
            Principal(subject="bench", scopes=frozenset({"registry:read"}), key_id="bench"), secret
        )
        direct_target = (f"http://127.0.0.1:{REGISTRY_PORT}{path}", {"X-GradOps-Principal": principal})
        gateway_target = (f"http://127.0.0.1:{GATEWAY_PORT}{path}", {"Authorization": f"Bearer {api_key}"})
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            label: {"direct": [], "through_gateway": []} for label in (f"{concurrency}_clients", "1_client")
        }
        for _ in range(rounds):
            # Throughput: each side alone under `concurrency` clients, alternating rounds so that a
            # burst of load from elsewhere on the machine is likely to hit both.
            label = f"{concurrency}_clients"
            runs[label]["direct"].append(_run_generator([direct_target], concurrency, seconds))
            runs[label]["through_gateway"].append(_run_generator([gateway_target], concurrency, seconds))
            # Latency cost: one client, requests alternating between the two.
            direct, gateway = _run_generator([direct_target, gateway_target], 1, seconds)
            runs["1_client"]["direct"].append(direct)
            runs["1_client"]["through_gateway"].append(gateway)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=15)
    summary: dict[str, Any] = {
        "what": f"GET /api/v1/students/{{no}} (one PostgreSQL read), keep-alive clients for {seconds:g} s "
        f"after a 2 s warm-up, load generator in a second process, {rounds} alternating rounds (best kept)",
        "machine": f"{os.cpu_count()} cores, shared with other work while measured",
    }
    for label, sides in runs.items():
        best = {side: max(results, key=lambda r: r["throughput_rps"]) for side, results in sides.items()}
        summary[label] = {
            **best,
            "gateway_adds_median_ms": round(
                best["through_gateway"]["median_ms"] - best["direct"]["median_ms"], 2
            ),
            "gateway_throughput_share": round(
                best["through_gateway"]["throughput_rps"] / best["direct"]["throughput_rps"], 3
            ),
            "all_rounds": sides,
        }
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--generate")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.generate:
        asyncio.run(generate([tuple(t) for t in json.loads(args.generate)], args.concurrency, args.seconds))
        sys.exit(0)
    figures = main(args.seconds, args.concurrency, args.rounds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for label in (f"{args.concurrency}_clients", "1_client"):
        row = figures[label]
        direct, gateway = row["direct"], row["through_gateway"]
        print(
            f"{label}: direct {direct['throughput_rps']} req/s, median {direct['median_ms']} ms, "
            f"p99 {direct['p99_ms']} ms | gateway {gateway['throughput_rps']} req/s, "
            f"median {gateway['median_ms']} ms, p99 {gateway['p99_ms']} ms | "
            f"adds {row['gateway_adds_median_ms']} ms median, keeps {row['gateway_throughput_share']:.0%}"
        )
    print(f"(written to {RESULTS.relative_to(REPO)})")
