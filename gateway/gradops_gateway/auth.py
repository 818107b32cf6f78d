"""Authentication at the front door: an API key in `Authorization: Bearer <key>` becomes a
principal, which the gateway signs and hands to the service (see gradops_shared.principal)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from gradops_shared.principal import SCOPES, Principal


class KeyStore(Protocol):
    async def authenticate(self, api_key: str) -> Principal | None:
        """The key's principal, or None when the key is unknown, expired or revoked."""
        ...


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class BootstrapKeyStore:
    """The one HQ key of a fresh install (GRADOPS_BOOTSTRAP_API_KEY): every scope, whole university."""

    def __init__(self, api_key: str | None) -> None:
        self._digest = key_digest(api_key) if api_key else None

    async def authenticate(self, api_key: str) -> Principal | None:
        if self._digest is None or not hmac.compare_digest(self._digest, key_digest(api_key)):
            return None
        return Principal(subject="bootstrap", scopes=frozenset(SCOPES), centres=None, key_id="bootstrap")
