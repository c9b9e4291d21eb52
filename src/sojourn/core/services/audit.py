"""Write the audit trail and check that nobody has rewritten it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.crypto import KeyMaterialError
from sojourn.core.db import for_update, insert_rows, select_rows
from sojourn.core.models import AuditChainHead, AuditEntry
from sojourn.core.services.system_keys import system_key

GENESIS_MAC = "0" * 64
_HEAD = AuditChainHead._meta.db_table
_ENTRY_FIELDS = ("seq", "at", "actor_kind", "actor_id", "actor_label", "action", "subject_type", "subject_id",
                 "program_id", "market", "before", "after", "prev_mac", "mac")
# Entries waiting for the end of an `atomic_audited_last` block, per thread (Django's connections are).
_held_back = threading.local()


def _mac(key: bytes, entry: AuditEntry) -> str:
    body = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "program_id": entry.program_id,
        "market": entry.market,
        "before": entry.before,
        "after": entry.after,
        "prev_mac": entry.prev_mac,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def record_audit(*, actor: Actor, action: str, subject_type: str, subject_id: str | int = "",
                 program_id: int | None = None, market: str = "",
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Append one entry to the chain, inside the caller's transaction (nothing is read back: read the
    trail through `AuditEntry`).

    Never put personal data in before/after: name the field that changed, not its value.
    """
    entry = AuditEntry(at=timezone.now(), actor_kind=actor.kind, actor_id=actor.audit_id,
                       actor_label=actor.label[:200], action=action, subject_type=subject_type,
                       subject_id=str(subject_id), program_id=program_id, market=market or "", before=before,
                       after=after)
    held_back = getattr(_held_back, "entries", None)
    if held_back is not None:
        held_back.append(entry)
        return
    _append([entry])


@contextmanager
def atomic_audited_last() -> Iterator[None]:
    """A transaction whose audit entries are appended as its last writes, just before it commits.

    Every audited write of the product waits for the chain's head row; a block that audits and then
    waits on the outside world (a channel handing a batch to its provider) would otherwise hold the
    head, and every other writer, for as long as the provider takes, or a stopped worker stays
    stopped. Entries keep the time they were recorded; rolled back with the block, none is written.
    """
    if getattr(_held_back, "entries", None) is not None:  # already inside one: the outer block appends
        with transaction.atomic():
            yield
        return
    _held_back.entries = []
    try:
        with transaction.atomic():
            try:
                yield
            finally:
                entries, _held_back.entries = _held_back.entries, None
            if entries:
                _append(entries)
    finally:
        _held_back.entries = None


def _append(entries: list[AuditEntry]) -> None:
    with transaction.atomic(savepoint=False):
        # Plain SQL: an append is three statements on every write of the product (tens of thousands a
        # demo run), and compiling them through the ORM cost more than running them.
        seq, prev_mac = select_rows(f"SELECT seq, mac FROM {_HEAD} WHERE id = 1{for_update()}")[0]
        key = system_key("audit-chain")
        for entry in entries:
            entry.seq, entry.prev_mac = seq + 1, prev_mac
            entry.mac = _mac(key, entry)
            seq, prev_mac = entry.seq, entry.mac
        insert_rows(AuditEntry, _ENTRY_FIELDS, [[getattr(e, f) for f in _ENTRY_FIELDS] for e in entries])
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {_HEAD} SET seq = %s, mac = %s WHERE id = 1", [seq, prev_mac])


@dataclass
class AuditVerification:
    entries_checked: int = 0
    head_seq: int = 0
    head_mac: str = GENESIS_MAC
    problems: list[str] = field(default_factory=list)
    key_damaged: bool = False
    notes: list[str] = field(default_factory=list)  # not tampering, but worth saying (no checkpoint yet, …)

    @property
    def ok(self) -> bool:
        return not self.problems


def chain_key(result: AuditVerification) -> bytes | None:
    """The chain's key read afresh, or None with the problem noted: a key that does not open is
    tampering to report (or a wrong master key), never a traceback."""
    try:
        return system_key("audit-chain", cached=False)
    except KeyMaterialError as error:
        result.key_damaged = True
        result.problems.append(f"the audit chain's key cannot be opened ({error}): it was damaged, deleted or "
                               "replaced, or SOJOURN_MASTER_KEY is not the key it was wrapped with")
        return None


def verify_audit_chain(progress: Callable[[int, int], None] | None = None,
                       chunk_size: int = 5000) -> AuditVerification:
    """Walk the chain from its first entry and report every break: altered, inserted, missing."""
    head = AuditChainHead.objects.get(pk=1)
    result = AuditVerification(head_seq=head.seq, head_mac=head.mac)
    key = chain_key(result)
    if key is None:
        return result
    total = AuditEntry.objects.count()
    expected_seq, expected_prev = 1, GENESIS_MAC
    entries: Iterable[AuditEntry] = AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size)
    for entry in entries:
        result.entries_checked += 1
        if entry.seq > expected_seq:
            if entry.seq == expected_seq + 1:
                result.problems.append(f"entry {expected_seq} is missing (deleted)")
            else:
                result.problems.append(f"entries {expected_seq} to {entry.seq - 1} are missing (deleted)")
        elif entry.seq < expected_seq:
            result.problems.append(f"entry {entry.seq} is out of order")
        if not hmac.compare_digest(_mac(key, entry), entry.mac):
            result.problems.append(f"entry {entry.seq} was altered or forged: its MAC does not match its content")
        elif entry.prev_mac != expected_prev:
            result.problems.append(f"entry {entry.seq} does not follow the entry before it (inserted or reordered)")
        expected_seq, expected_prev = entry.seq + 1, entry.mac
        if progress and result.entries_checked % chunk_size == 0:
            progress(result.entries_checked, total)
    if head.seq != expected_seq - 1 or head.mac != expected_prev:
        result.problems.append(
            f"the chain head says entry {head.seq} is last, but the log ends at entry {expected_seq - 1}"
        )
    if progress:
        progress(result.entries_checked, total)
    return result
