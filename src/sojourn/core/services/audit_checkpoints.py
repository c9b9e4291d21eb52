"""Anchor the audit chain outside the database, and cross-check it with the rows that imply entries.

The chain's MACs show an entry altered, inserted or deleted in the middle; they cannot show a trail
cut at its end (or deleted whole) with the head row set back to match. So now and then (the worker,
every SOJOURN_AUDIT_CHECKPOINT_EVERY seconds, and `sojourn audit checkpoint`) Sojourn writes a signed
checkpoint into SOJOURN_AUDIT_CHECKPOINT_DIR: the last sequence number, its MAC and counts by action,
signed with a key derived from the chain's own key (which the database holds only wrapped under the
master key, so whoever can write the database cannot forge one). `sojourn audit verify` then demands
that the trail still reaches the last checkpoint with the same MAC and counts, that the checkpoint the
trail says was written is there, and that rows which are only ever written with an audit entry
(consent records, destroyed keys, messages sent with contact details read) each have theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.models import AuditChainHead, AuditEntry
from sojourn.core.services.audit import AuditVerification, chain_key, record_audit, verify_audit_chain
from sojourn.core.services.system_keys import system_key

FORMAT = "sojourn-audit-checkpoint/1"
KEEP_CHECKPOINTS = 1000  # the newest files per chain; only the last one is checked
FILE_NAME = re.compile(r"^(\d{12})\.json$")
SHOWN = 10  # rows named per cross-check; the rest are counted


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    mac: str
    at: str
    counts: dict[str, int]
    path: Path


def _derived(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, b"sojourn audit " + purpose, hashlib.sha256).digest()


def _folder(key: bytes) -> Path:
    """One folder per chain (named from its key), so checkpoints of another database, a test run's for
    instance, are never held against this one."""
    return Path(settings.SOJOURN_AUDIT_CHECKPOINT_DIR) / _derived(key, b"chain id").hex()[:16]


def _signature(key: bytes, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_derived(key, b"checkpoint"), canonical, hashlib.sha256).hexdigest()


def _counts(up_to: int) -> dict[str, int]:
    by_action = dict(AuditEntry.objects.filter(seq__lte=up_to).order_by().values_list("action")
                     .annotate(n=Count("id")).values_list("action", "n"))
    return {"entries": sum(by_action.values()), **{f"action:{a}": n for a, n in sorted(by_action.items())}}


def write_checkpoint(*, actor: Actor) -> Checkpoint:
    """Write a signed checkpoint of the chain as it stands, then record in the chain that it was written."""
    key = system_key("audit-chain", cached=False)
    with transaction.atomic():
        head = AuditChainHead.objects.get(pk=1)
        counts = _counts(head.seq)
    body = {"format": FORMAT, "seq": head.seq, "mac": head.mac, "at": timezone.now().isoformat(), "counts": counts}
    folder = _folder(key)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{head.seq:012d}.json"
    # Written whole or not at all: a crash leaves no half file to be mistaken for tampering.
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False, encoding="utf-8") as out:
        json.dump({**body, "signature": _signature(key, body)}, out, sort_keys=True)
    os.replace(out.name, path)
    # After the file: an entry naming a checkpoint that was never written would be a false alarm.
    record_audit(actor=actor, action="audit.checkpointed", subject_type="audit_chain", subject_id=head.seq,
                 after={"seq": head.seq})
    for old in sorted(folder.glob("*.json"))[:-KEEP_CHECKPOINTS]:
        old.unlink(missing_ok=True)
    return Checkpoint(head.seq, head.mac, body["at"], counts, path)


def _last_checkpoint(key: bytes, result: AuditVerification) -> Checkpoint | None:
    """The newest checkpoint whose signature holds; every damaged or forged one is a problem."""
    newest = None
    folder = _folder(key)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not FILE_NAME.match(path.name):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            body = {k: v for k, v in data.items() if k != "signature"}
            valid = data.get("format") == FORMAT and hmac.compare_digest(_signature(key, body),
                                                                          str(data.get("signature", "")))
        except (OSError, ValueError, AttributeError):
            valid = False
        if not valid:
            result.problems.append(f"checkpoint {path} is damaged or forged: its signature does not hold")
            continue
        checkpoint = Checkpoint(int(data["seq"]), str(data["mac"]), str(data["at"]), dict(data["counts"]), path)
        if newest is None or checkpoint.seq > newest.seq:
            newest = checkpoint
    return newest


def check_against_checkpoint(key: bytes, result: AuditVerification) -> Checkpoint | None:
    """The trail must still reach the last checkpoint with its MAC and its counts."""
    checkpoint = _last_checkpoint(key, result)
    recorded = (AuditEntry.objects.filter(action="audit.checkpointed").order_by("-seq")
                .values_list("after", flat=True).first())
    if recorded and (checkpoint is None or checkpoint.seq < int(recorded.get("seq", 0))):
        result.problems.append(f"the trail says a checkpoint of entry {recorded.get('seq')} was written, but it is "
                               f"not in {_folder(key)}: checkpoints were deleted")
    if checkpoint is None:
        result.notes.append(f"no checkpoint in {_folder(key)} yet: a trail cut at its end cannot be noticed "
                            "before one is written (sojourn audit checkpoint)")
        return None
    if result.head_seq < checkpoint.seq:
        result.problems.append(f"the trail ends at entry {result.head_seq}, but the checkpoint of {checkpoint.at} "
                               f"records entry {checkpoint.seq}: entries were deleted and the head set back")
    mac = AuditEntry.objects.filter(seq=checkpoint.seq).values_list("mac", flat=True).first()
    if checkpoint.seq and mac is None:
        result.problems.append(f"entry {checkpoint.seq}, the last one the checkpoint of {checkpoint.at} records, "
                               "is missing")
    elif checkpoint.seq and not hmac.compare_digest(mac, checkpoint.mac):
        result.problems.append(f"entry {checkpoint.seq} is not the entry the checkpoint of {checkpoint.at} "
                               "records: the trail up to it was rewritten")
    counts = _counts(checkpoint.seq)
    differ = {k for k in set(counts) | set(checkpoint.counts) if counts.get(k, 0) != checkpoint.counts.get(k, 0)}
    changed = sorted(differ, key=lambda k: (k != "entries", k))
    if changed:
        result.problems.append("the entries up to the checkpoint of {at} no longer add up: {what}".format(
            at=checkpoint.at, what=", ".join(f"{k} {checkpoint.counts.get(k, 0)} then, {counts.get(k, 0)} now"
                                             for k in changed[:SHOWN])))
    return checkpoint


@dataclass(frozen=True)
class Requirement:
    """Rows of `model` that are only ever written together with an `action` entry whose after[key]
    names them (by `column`); a row without one was written around Sojourn, or its entry removed."""

    what: str  # plural, as in "3 consent record(s) without …"
    model: str  # app_label.Model
    action: str
    key: str
    column: str = "pk"
    rows: tuple[tuple[str, Any], ...] = ()


REQUIREMENTS = [
    Requirement("consent record(s)", "consent.ConsentRecord", "consent.given", "record"),
    Requirement("destroyed data key(s)", "core.DataKey", "pii.shredded", "data_key",
                rows=(("destroyed_at__isnull", False),)),
    # A message handed to the email or SMS provider was addressed with contact details read for it.
    Requirement("patient(s) sent email or SMS", "channels.OutboxMessage", "pii.read", "patients",
                column="patient__pseudonym", rows=(("channel__in", ("email", "sms")), ("provider_id__gt", ""))),
]


def _named(after: Any, key: str) -> list[str]:
    value = after.get(key) if isinstance(after, dict) else None
    return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]


def cross_check(result: AuditVerification) -> None:
    for need in REQUIREMENTS:
        named = {name for after in AuditEntry.objects.filter(action=need.action).values_list("after", flat=True)
                 .iterator(chunk_size=5000) for name in _named(after, need.key)}
        rows = apps.get_model(need.model).objects.filter(**dict(need.rows)).values_list(need.column, flat=True)
        missing = sorted({str(v) for v in rows.iterator(chunk_size=5000)} - named, key=lambda v: (len(v), v))
        if missing:
            listed = ", ".join(missing[:SHOWN]) + (f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else "")
            result.problems.append(f"{len(missing)} {need.what} without their {need.action} entry: {listed}")


def verify_audit_trail(progress: Any = None) -> tuple[AuditVerification, Checkpoint | None]:
    """Everything `sojourn audit verify` checks: the chain, the last checkpoint, the cross-checks."""
    result = verify_audit_chain(progress=progress)
    if result.key_damaged:
        return result, None
    key = chain_key(result)
    if key is None:
        return result, None
    checkpoint = check_against_checkpoint(key, result)
    cross_check(result)
    return result, checkpoint

