"""The API as the CLI sees it: base URL and key from options or the environment, problem+json
turned into a clear bilingual message, one exit code per kind of outcome."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx
import typer

# Exit codes (documented in the README): scripts branch on them.
EXIT_OK = 0
EXIT_REFUSED = 1  # the API refused the request (4xx problem), or a health check failed
EXIT_USAGE = 2  # bad options (typer's own code)
EXIT_UNAVAILABLE = 3  # the API or Kafka could not be reached, or answered 5xx
EXIT_INCOMPLETE = 4  # done, but not everything in it succeeded (rows or files refused)
DEFAULT_API_URL = "http://127.0.0.1:8000"


class CliError(Exception):
    def __init__(self, message: str, exit_code: int, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.problem = problem


@dataclass
class Context:
    api_url: str
    api_key: str | None
    as_json: bool
    timeout: float = 60.0
    transport: httpx.BaseTransport | None = None  # tests hand in an in-process transport
    _client: httpx.Client | None = field(default=None, repr=False)

    def client(self) -> httpx.Client:
        if self._client is None:
            headers = {"user-agent": "gradops-cli/1"}
            if self.api_key:
                headers["authorization"] = f"Bearer {self.api_key}"
            self._client = httpx.Client(
                base_url=self.api_url.rstrip("/"),
                headers=headers,
                timeout=self.timeout,
                transport=self.transport,
            )
        return self._client

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response when it is a success; CliError otherwise (problem shown in zh and en)."""
        try:
            response = self.client().request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(
                f"cannot reach the API at {self.api_url}: {exc} / 无法连接 API", EXIT_UNAVAILABLE
            ) from exc
        if response.status_code < 400:
            return response
        raise problem_error(response)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def problem_error(response: httpx.Response) -> CliError:
    code = EXIT_UNAVAILABLE if response.status_code >= 500 else EXIT_REFUSED
    try:
        problem: dict[str, Any] = response.json()
    except ValueError:
        return CliError(f"HTTP {response.status_code}: {response.text[:300]}", code)
    if not isinstance(problem, dict):
        return CliError(f"HTTP {response.status_code}: {response.text[:300]}", code)
    lines = [
        f"error {response.status_code} {problem.get('code', '')}".rstrip(),
        f"  {problem.get('message_zh', '')}".rstrip(),
        f"  {problem.get('detail') or problem.get('message_en') or problem.get('title', '')}".rstrip(),
    ]
    for item in problem.get("errors") or []:
        if isinstance(item, dict):
            lines.append(f"  - {item.get('field') or item.get('in', '')}: {item.get('message', '')}")
    request_id = response.headers.get("x-request-id")
    if request_id:
        lines.append(f"  request id: {request_id}")
    return CliError("\n".join(line for line in lines if line.strip()), code, problem)


def emit(ctx: Context, data: Any, human: str | None = None) -> None:
    """`--json`: the data as JSON on stdout; otherwise the human text (or pretty JSON)."""
    if ctx.as_json or human is None:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=None if ctx.as_json else 2, default=str))
    else:
        typer.echo(human)


def fail(ctx: Context, error: CliError) -> NoReturn:
    if ctx.as_json:
        body = {"error": error.message, "exit_code": error.exit_code}
        if error.problem is not None:
            body["problem"] = error.problem
        typer.echo(json.dumps(body, ensure_ascii=False), err=True)
    else:
        typer.echo(error.message, err=True)
    sys.stdout.flush()
    raise typer.Exit(error.exit_code)
