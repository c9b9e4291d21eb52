"""Data keys: create, open, destroy (crypto-shredding); rotate the master key over data and system keys.

System keys live in system_keys.py, below the audit trail that uses one; these writes are audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sojourn.core import crypto
from sojourn.core.actors import Actor
from sojourn.core.errors import DataErased
from sojourn.core.models import DataKey, SystemKey
from sojourn.core.services.audit import record_audit


def create_data_key() -> DataKey:
    key_id, wrapped = crypto.key_ring_from_settings().wrap(crypto.new_data_key())
    return DataKey.objects.create(wrapped=wrapped, master_key_id=key_id)


def open_data_key(data_key: DataKey) -> bytes:
    if data_key.destroyed_at is not None or data_key.wrapped is None:
        raise DataErased()
    return crypto.key_ring_from_settings().unwrap(data_key.master_key_id, bytes(data_key.wrapped))


def destroy_data_key(*, actor: Actor, data_key: DataKey, subject_type: str, subject_id: str,
                     program_id: int | None, market: str, reason: str) -> DataKey:
    """Destroy a subject's key so that every field sealed with it is unreadable for good."""
    with transaction.atomic(savepoint=False):
        locked = DataKey.objects.select_for_update().get(pk=data_key.pk)
        if locked.destroyed_at is not None:
            return locked
        locked.wrapped = None
        locked.master_key_id = ""
        locked.destroyed_at = timezone.now()
        locked.save(update_fields=["wrapped", "master_key_id", "destroyed_at"])
        record_audit(
            actor=actor, action="pii.shredded", subject_type=subject_type, subject_id=subject_id,
            program_id=program_id, market=market,
            after={"data_key": str(locked.pk), "reason": reason},
        )
        return locked


@dataclass(frozen=True)
class RotationReport:
    new_master_key_id: str
    data_keys_rewrapped: int
    system_keys_rewrapped: int
    already_current: int


def rotate_master_key(*, actor: Actor, batch_size: int = 500,
                      progress: Callable[[int, int], None] | None = None) -> RotationReport:
    """Re-wrap every key under the current master key, a batch per transaction.

    Readers keep working throughout: until a row is re-wrapped it still opens with the previous
    master key, which stays configured in SOJOURN_PREVIOUS_MASTER_KEYS until this has finished.
    Each row is updated only if it is still wrapped by the key we read, so a concurrent rotation
    or shredding is never overwritten.
    """
    ring = crypto.key_ring_from_settings()
    current = ring.current_id
    stale = DataKey.objects.filter(destroyed_at__isnull=True).exclude(master_key_id=current)
    total = stale.count()
    already = DataKey.objects.filter(master_key_id=current).count()
    done = 0
    rewrapped = 0
    while True:
        batch = list(stale.order_by("pk").values_list("pk", "master_key_id", "wrapped")[:batch_size])
        if not batch:
            break
        with transaction.atomic():
            now = timezone.now()
            for pk, key_id, wrapped in batch:
                plain = ring.unwrap(key_id, bytes(wrapped))
                new_id, new_wrapped = ring.wrap(plain)
                rewrapped += DataKey.objects.filter(pk=pk, master_key_id=key_id, destroyed_at__isnull=True).update(
                    wrapped=new_wrapped, master_key_id=new_id, rewrapped_at=now
                )
        done += len(batch)
        if progress:
            progress(done, total)
    system_rewrapped = 0
    with transaction.atomic():
        for row in SystemKey.objects.select_for_update().exclude(master_key_id=current):
            plain = ring.unwrap(row.master_key_id, bytes(row.wrapped))
            row.master_key_id, row.wrapped = ring.wrap(plain)
            row.rewrapped_at = timezone.now()
            row.save(update_fields=["master_key_id", "wrapped", "rewrapped_at"])
            system_rewrapped += 1
        record_audit(
            actor=actor, action="keys.rotated", subject_type="master_key", subject_id=current,
            after={"data_keys_rewrapped": rewrapped, "system_keys_rewrapped": system_rewrapped},
        )
    return RotationReport(current, rewrapped, system_rewrapped, already)
