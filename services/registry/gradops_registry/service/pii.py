"""Resident ID numbers at rest: AES-GCM encrypted, plus a keyed hash (HMAC-SHA256) for exact
lookups. Both keys derive (HKDF) from one secret in settings, so a database dump shows neither the
number nor anything a dictionary attack could reverse without the key."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gradops_registry.settings import RegistrySettings

_VERSION = "v1"
_AAD = b"gradops.registry.id_number"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


class PiiCipher:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the PII key must not be empty")
        self._aead = AESGCM(_derive(secret, b"gradops id-number encryption"))
        self._hash_key = _derive(secret, b"gradops id-number lookup hash")

    def encrypt(self, number: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, number.encode(), _AAD)
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        version, _, body = token.partition(".")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], _AAD).decode()

    def lookup_hash(self, number: str) -> str:
        return hmac.new(self._hash_key, number.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=8)
def cipher_for(secret: str) -> PiiCipher:
    return PiiCipher(secret)


def registry_cipher(settings: RegistrySettings) -> PiiCipher:
    return cipher_for(settings.pii_key.get_secret_value())
