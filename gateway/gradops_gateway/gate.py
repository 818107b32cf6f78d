"""The checks every request passes at the front door: who is calling (API key), may it (scopes),
how often (rate limits). Used by the proxy and by the gateway's own endpoints alike."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from starlette.responses import Response

from gradops_gateway.auth import KeyStore
from gradops_gateway.errors import RATE_LIMITED, SCOPE_MISSING, UNAUTHENTICATED
from gradops_gateway.ratelimit import TokenBuckets, retry_after_header
from gradops_gateway.settings import GatewaySettings
from gradops_shared.errors import answer
from gradops_shared.principal import SCOPES, Principal

BEARER_SCHEME = "ApiKey"


class Refused(Exception):
    """Carries the problem response of a refused request out of a dependency."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def unauthenticated(instance: str) -> Response:
    return answer(
        UNAUTHENTICATED,
        "Send a valid API key as `Authorization: Bearer <key>` (unknown, expired and revoked "
        "keys are refused alike).",
        message_zh="未认证：请在 Authorization 头中提供有效的 API 密钥",
        instance=instance,
        headers={"www-authenticate": "Bearer"},
    )


def scope_missing(instance: str, required: tuple[str, ...], missing: list[str]) -> Response:
    return answer(
        SCOPE_MISSING,
        f"This operation needs the scope(s): {', '.join(missing)}.",
        message_zh="权限不足：访问凭证缺少所需的权限范围",
        instance=instance,
        extra={"required_scopes": list(required)},
    )


def rate_limited(instance: str, wait: float) -> Response:
    return answer(
        RATE_LIMITED,
        f"Rate limit reached; retry after {retry_after_header(wait)} s.",
        message_zh="请求过于频繁，请稍后重试",
        instance=instance,
        headers={"retry-after": retry_after_header(wait)},
    )


class Gate:
    def __init__(self, keys: KeyStore, settings: GatewaySettings) -> None:
        self.keys = keys
        self.per_key = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.per_ip = TokenBuckets(settings.public_rate_limit_per_second, settings.public_rate_limit_burst)

    async def admit(self, request: Request, scopes: tuple[str, ...] | None) -> Principal | Response | None:
        """The caller's principal (None for a public operation), or the refusal to send back."""
        instance = request.url.path
        if scopes is None:
            wait = self.per_ip.take(request.client.host if request.client else "unknown")
            return rate_limited(instance, wait) if wait else None
        scheme, _, api_key = request.headers.get("authorization", "").partition(" ")
        principal = await self.keys.authenticate(api_key.strip()) if scheme.lower() == "bearer" else None
        if principal is None:
            return unauthenticated(instance)
        wait = self.per_key.take(principal.key_id or principal.subject)
        if wait:
            return rate_limited(instance, wait)
        missing = [scope for scope in scopes if scope not in principal.scopes]
        if missing:
            return scope_missing(instance, scopes, missing)
        return principal


_bearer = HTTPBearer(
    scheme_name=BEARER_SCHEME,
    description="`Authorization: Bearer <api key>`. Keys carry scopes and may be bound to learning centres.",
    auto_error=False,
)


async def gateway_principal(
    security_scopes: SecurityScopes,
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    gate: Gate = request.app.state.gate
    outcome = await gate.admit(request, tuple(security_scopes.scopes))
    if isinstance(outcome, Response):
        raise Refused(outcome)
    assert outcome is not None
    request.state.principal = outcome
    return outcome


def gateway_requires(*scopes: str) -> Any:
    """Like gradops_shared.principal.requires, for the endpoints the gateway serves itself."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}")
    return Security(gateway_principal, scopes=list(scopes))
