"""One typed client for asking the registry (the owner of the student record) about students.

Photo, audit and certificates ask "is this student known, and where?" when an event has not told them
yet. The registry's answer about the input (unknown, out of the caller's reach, malformed) is the
client's business; only the registry failing to answer is an outage worth retrying (503).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx

from gradops_shared.errors import ProblemType
from gradops_shared.logging import current_request_id
from gradops_shared.principal import PRINCIPAL_HEADER, Principal, on_behalf_of, sign_principal


class RegistryClient:
    """Calls the registry for a caller, never with a wider reach than the caller's.

    `unavailable` (503) and `invalid` (422) are the asking service's own catalogued problems."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        service: str,
        secret: str,
        unavailable: ProblemType,
        invalid: ProblemType,
    ) -> None:
        self.http = http
        self.service = service
        self.secret = secret
        self.unavailable = unavailable
        self.invalid = invalid

    def _headers(self, caller: Principal, scopes: Iterable[str] = ("registry:read",)) -> dict[str, str]:
        return {
            "x-request-id": current_request_id() or uuid.uuid4().hex,
            PRINCIPAL_HEADER: sign_principal(on_behalf_of(caller, self.service, scopes), self.secret),
        }

    async def _get(
        self, caller: Principal, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        try:
            return await self.http.get(path, params=params, headers=self._headers(caller))
        except httpx.HTTPError as exc:
            raise self.unavailable("The registry could not be reached.") from exc

    def _outage(self, response: httpx.Response) -> Exception:
        return self.unavailable(f"The registry answered {response.status_code}.")

    async def student(self, caller: Principal, student_no: str) -> dict[str, Any] | None:
        """The registry's record of one student as the caller may see it, or None (unknown or out
        of the caller's reach)."""
        response = await self._get(caller, f"/api/v1/students/{quote(student_no, safe='')}")
        if response.status_code in (403, 404):
            return None
        if response.status_code in (400, 422):
            raise self.invalid(
                f"The registry does not accept student number {student_no!r}.",
                message_zh=f"学号 {student_no} 格式无效",
                extra={"student_no": student_no},
            )
        if response.status_code != 200:
            raise self._outage(response)
        record: dict[str, Any] = response.json()
        record["student_no"] = student_no
        return record

    async def students(self, caller: Principal, filters: dict[str, Any]) -> list[dict[str, Any]]:
        """Every student matching the registry's list filters, page by page (the caller's reach)."""
        students: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {**filters, "limit": 500, **({"cursor": cursor} if cursor else {})}
            response = await self._get(caller, "/api/v1/students", params=query)
            if response.status_code in (400, 422):
                # The caller's filter (a class code, a centre) is not one the registry accepts.
                raise self.invalid(
                    "The registry refused the filter.",
                    message_zh="筛选条件无效",
                    extra={"filters": sorted(filters)},
                )
            if response.status_code != 200:
                raise self._outage(response)
            page = response.json()
            students.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return students
