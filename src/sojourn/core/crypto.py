"""Envelope encryption for personal data, and keyed hashes for lookups.

Each data subject has a 256-bit data key; PII fields are sealed with it (AES-256-GCM, the field's
context as associated data so a ciphertext cannot be moved to another field or row). Data keys
are wrapped by the master key, which lives outside the database. Rotating the master key re-wraps
data keys without touching the sealed fields.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from base64 import urlsafe_b64decode
from binascii import Error as BinasciiError
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

SEAL_VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32


class KeyMaterialError(RuntimeError):
    """Key material is missing, malformed, or does not open what it should."""


def decode_master_key(text: str) -> bytes:
    try:
        raw = urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (BinasciiError, ValueError) as exc:
        raise KeyMaterialError("a master key must be 32 bytes in URL-safe base64") from exc
    if len(raw) != KEY_BYTES:
        raise KeyMaterialError(f"a master key must be 32 bytes in URL-safe base64, not {len(raw)} bytes")
    return raw


def master_key_id(key: bytes) -> str:
    return hashlib.sha256(b"sojourn-master-key-id" + key).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKeyRing:
    """The current master key, which wraps, and previous ones, which still unwrap during rotation."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    @property
    def current_id(self) -> str:
        return master_key_id(self.current)

    def key_for(self, key_id: str) -> bytes:
        for key in (self.current, *self.previous):
            if master_key_id(key) == key_id:
                return key
        raise KeyMaterialError(f"no configured master key has id {key_id}; add it to SOJOURN_PREVIOUS_MASTER_KEYS")

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        return self.current_id, nonce + AESGCM(self.current).encrypt(nonce, data_key, b"sojourn-data-key")

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        key = self.key_for(key_id)
        try:
            return AESGCM(key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"sojourn-data-key")
        except InvalidTag as exc:
            raise KeyMaterialError(f"the wrapped key does not open under master key {key_id}") from exc


def key_ring_from_settings() -> MasterKeyRing:
    return _key_ring(settings.SOJOURN_MASTER_KEY, tuple(settings.SOJOURN_PREVIOUS_MASTER_KEYS))


@lru_cache(maxsize=4)
def _key_ring(current: str, previous: tuple[str, ...]) -> MasterKeyRing:
    return MasterKeyRing(decode_master_key(current), tuple(decode_master_key(p) for p in previous))


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(data_key: bytes, plaintext: str, context: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    return SEAL_VERSION + nonce + sealed


def unseal(data_key: bytes, sealed: bytes, context: str) -> str:
    sealed = bytes(sealed)
    if sealed[:1] != SEAL_VERSION:
        raise KeyMaterialError("unknown seal version")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, body, context.encode("utf-8")).decode("utf-8")
    except InvalidTag as exc:
        raise KeyMaterialError(f"sealed value does not open for {context}") from exc


def keyed_hash(key: bytes, kind: str, normalized: str) -> str:
    """Return the blind index of a normalized value: equal inputs match, nothing is revealed."""
    return hmac.new(key, f"{kind}\x00{normalized}".encode(), hashlib.sha256).hexdigest()
