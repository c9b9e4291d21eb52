"""System keys: the platform's own keys (blind index, audit chain), wrapped by the master key.

Below the audit trail, which needs one to sign its chain; nothing here is audited or imports audit.
"""

from __future__ import annotations

from sojourn.core import crypto
from sojourn.core.models import SystemKey

SYSTEM_KEY_NAMES = ("blind-index", "audit-chain")

# System keys never change once created (rotation re-wraps the same key), so a process may keep
# them; ensure_system_keys clears the cache because a test database flush recreates them.
_system_key_cache: dict[str, bytes] = {}


def ensure_system_keys() -> None:
    """Create the platform's system keys if missing; run after every migrate and flush."""
    ring = crypto.key_ring_from_settings()
    _system_key_cache.clear()
    for name in SYSTEM_KEY_NAMES:
        if not SystemKey.objects.filter(name=name).exists():
            key_id, wrapped = ring.wrap(crypto.new_data_key())
            SystemKey.objects.get_or_create(name=name, defaults={"wrapped": wrapped, "master_key_id": key_id})


def system_key(name: str, *, cached: bool = True) -> bytes:
    """Open a system key; cached=False reads it from the database again (the audit check does, so a
    key damaged since the process started is noticed). Raises crypto.KeyMaterialError."""
    if cached and name in _system_key_cache:
        return _system_key_cache[name]
    try:
        row = SystemKey.objects.get(name=name)
    except SystemKey.DoesNotExist as exc:
        raise crypto.KeyMaterialError(f"system key {name!r} is missing: run `sojourn migrate`") from exc
    try:
        key = crypto.key_ring_from_settings().unwrap(row.master_key_id, bytes(row.wrapped))
    except ValueError as exc:  # cut short: AES-GCM refuses the nonce before it can check the tag
        raise crypto.KeyMaterialError(f"system key {name!r} is damaged") from exc
    _system_key_cache[name] = key
    return key
