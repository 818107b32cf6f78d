"""Who is calling: the principal the gateway vouches for, and the scopes each operation needs.

The gateway authenticates the partner's API key and forwards a signed principal in
`X-GradOps-Principal`: base64url(JSON) "." base64url(HMAC-SHA256). Services trust nothing else, so
a request that bypasses the gateway (or forges the header) gets 401. Tenancy is enforced in the
services too: a principal bound to learning centres never sees another centre's student (404,
not 403, so existence does not leak).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, SecurityScopes
from pydantic import BaseModel, ConfigDict

from gradops_shared.errors import GradOpsError, NotFound, shared_problems

PRINCIPAL_HEADER = "X-GradOps-Principal"
SECURITY_SCHEME = "GradOpsPrincipal"
# A signed principal is valid this long: enough for a slow upload, too short to be worth stealing.
PRINCIPAL_TTL_SECONDS = 300

# Every scope a key may hold. The gateway's test matrix and the key CLI read this catalogue.
SCOPES: dict[str, str] = {
    "registry:read": "Read student records, the organisation tree and histories (读取学籍)",
    "registry:write": "Create and change student records, status changes, imports (维护学籍)",
    "registry:review": "Prior-education review and identity flags (前置学历复查、身份存疑)",
    "pii:read": "See resident ID numbers and names unmasked (查看个人敏感信息)",
    "photos:check": "Run the photo QC check without storing anything (照片检测)",
    "photos:capture": "Open capture sessions and upload captured photos (小程序采集)",
    "photos:write": "Upload and import photos for students (上传照片)",
    "photos:read": "Read photo submissions, reports and downloads (查看照片)",
    "photos:review": "Approve, reject and re-open photos; record CHSI states (照片审核)",
    "audit:read": "Read batches, transcripts and audits (查看毕业审核)",
    "audit:write": "Batches, transcripts, applications, exceptions and sign-off (毕业审核)",
    "certificates:read": "Read certificates and documents (查看证书)",
    "certificates:write": "Distribution, replacement, revocation and exports (证书管理)",
    "admin": "Manage API keys and every partner's webhooks (系统管理)",
    "webhooks:manage": "Register and replay this key's own webhooks (管理事件推送)",
}


class Unauthenticated(GradOpsError):
    status = 401
    code = "auth.unauthenticated"
    title = "Unauthenticated"
    message_zh = "未认证：缺少或无效的访问凭证"


class ScopeMissing(GradOpsError):
    status = 403
    code = "auth.scope_missing"
    title = "Forbidden"
    message_zh = "权限不足：访问凭证缺少所需的权限范围"


class Principal(BaseModel):
    """`centres is None` means the whole university (HQ)."""

    model_config = ConfigDict(frozen=True)

    subject: str
    scopes: frozenset[str]
    centres: frozenset[str] | None = None
    key_id: str | None = None

    @property
    def is_hq(self) -> bool:
        return self.centres is None

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def sees_centre(self, centre: str | None) -> bool:
        return self.centres is None or (centre is not None and centre in self.centres)

    def ensure_sees(self, centre: str | None, not_found: GradOpsError | None = None) -> None:
        """Raise the caller's own 404 (or a generic one) when the centre is outside the key's reach."""
        if not self.sees_centre(centre):
            raise not_found or NotFound("Not found.", code="resource.not_found", message_zh="资源不存在")

    def centre_filter(self, requested: Iterable[str] | None = None) -> frozenset[str] | None:
        """The centres a list query may return: the requested ones within reach (None = no filter)."""
        wanted = frozenset(requested) if requested else None
        if self.centres is None:
            return wanted
        return self.centres if wanted is None else self.centres & wanted


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_principal(principal: Principal, secret: str, *, now: float | None = None) -> str:
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "scp": sorted(principal.scopes),
        "ctr": None if principal.centres is None else sorted(principal.centres),
        "kid": principal.key_id,
        "exp": int((now if now is not None else time.time()) + PRINCIPAL_TTL_SECONDS),
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify_principal(token: str, secret: str, *, now: float | None = None) -> Principal:
    try:
        body, mac = token.split(".", 1)
        expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise Unauthenticated("The principal's signature is not valid.")
        claims = json.loads(_unb64(body))
        if int(claims["exp"]) < (now if now is not None else time.time()):
            raise Unauthenticated("The principal has expired.")
        centres = claims.get("ctr")
        return Principal(
            subject=str(claims["sub"]),
            scopes=frozenset(claims["scp"]),
            centres=None if centres is None else frozenset(centres),
            key_id=claims.get("kid"),
        )
    except Unauthenticated:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated("The principal header is malformed.") from exc


_principal_header = APIKeyHeader(
    name=PRINCIPAL_HEADER,
    scheme_name=SECURITY_SCHEME,
    description="Signed by the gateway from the caller's API key (Authorization: Bearer <key>).",
    auto_error=False,
)


def principal_secret_of(request: Request) -> str:
    secret: str = request.app.state.settings.principal_secret.get_secret_value()
    return secret


async def current_principal(
    security_scopes: SecurityScopes,
    request: Request,
    token: Annotated[str | None, Depends(_principal_header)],
) -> Principal:
    if not token:
        raise Unauthenticated("Call through the gateway with `Authorization: Bearer <api key>`.")
    principal = verify_principal(token, principal_secret_of(request))
    missing = [scope for scope in security_scopes.scopes if scope not in principal.scopes]
    if missing:
        raise ScopeMissing(
            f"This operation needs the scope(s): {', '.join(missing)}.",
            extra={"required_scopes": security_scopes.scopes},
        )
    request.state.principal = principal
    return principal


def requires(*scopes: str) -> Any:
    """`principal: Annotated[Principal, requires("registry:read")]` — authenticated and scoped; the
    scopes show up in the OpenAPI security requirement, which the gateway's test matrix reads."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}")
    return Security(current_principal, scopes=list(scopes))


def on_behalf_of(caller: Principal, service: str, scopes: Iterable[str]) -> Principal:
    """The principal a service uses to call a peer for its caller: the peer's scopes it needs, but
    never a wider reach than the caller's centres."""
    return Principal(
        subject=f"service:{service} for {caller.subject}",
        scopes=frozenset(scopes),
        centres=caller.centres,
        key_id=caller.key_id,
    )


shared_problems.declare(ScopeMissing.code, ScopeMissing.status, ScopeMissing.title, ScopeMissing.message_zh)
