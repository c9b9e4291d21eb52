"""Write the audit trail and check that nobody has rewritten it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.db import for_update, insert_rows, select_rows
from sojourn.core.models import AuditChainHead, AuditEntry
from sojourn.core.services.keys import system_key

GENESIS_MAC = "0" * 64
_HEAD = AuditChainHead._meta.db_table
_ENTRY_FIELDS = ("seq", "at", "actor_kind", "actor_id", "actor_label", "action", "subject_type", "subject_id",
                 "program_id", "market", "before", "after", "prev_mac", "mac")


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
    with transaction.atomic(savepoint=False):
        # Plain SQL: an append is three statements on every write of the product (tens of thousands a
        # demo run), and compiling them through the ORM cost more than running them.
        seq, prev_mac = select_rows(f"SELECT seq, mac FROM {_HEAD} WHERE id = 1{for_update()}")[0]  # noqa: S608
        entry = AuditEntry(
            seq=seq + 1,
            at=timezone.now(),
            actor_kind=actor.kind,
            actor_id=actor.audit_id,
            actor_label=actor.label[:200],
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            program_id=program_id,
            market=market or "",
            before=before,
            after=after,
            prev_mac=prev_mac,
        )
        entry.mac = _mac(system_key("audit-chain"), entry)
        insert_rows(AuditEntry, _ENTRY_FIELDS, [[getattr(entry, f) for f in _ENTRY_FIELDS]])
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {_HEAD} SET seq = %s, mac = %s WHERE id = 1", [entry.seq, entry.mac])  # noqa: S608


@dataclass
class AuditVerification:
    entries_checked: int = 0
    head_seq: int = 0
    head_mac: str = GENESIS_MAC
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit_chain(progress: Callable[[int, int], None] | None = None,
                       chunk_size: int = 5000) -> AuditVerification:
    """Walk the chain from its first entry and report every break: altered, inserted, missing."""
    key = system_key("audit-chain")
    head = AuditChainHead.objects.get(pk=1)
    result = AuditVerification(head_seq=head.seq, head_mac=head.mac)
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
