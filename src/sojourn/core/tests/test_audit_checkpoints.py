"""Truncation is noticed: signed checkpoints outside the database anchor the chain, and rows that are
only written with an audit entry are cross-checked; every kind of tampering is reported by
`sojourn audit verify` with a clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sojourn.consent.models import ConsentRecord
from sojourn.core.models import AuditChainHead, AuditEntry, SystemKey
from sojourn.core.services.audit import GENESIS_MAC
from sojourn.dialogue.worker import Worker


@pytest.fixture
def anchored(settings, tmp_path, active_patient):
    """An enrolled patient's trail, anchored by a checkpoint written from the command line."""
    settings.SOJOURN_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    out = StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "checkpoint of entry" in out.getvalue()
    verify()  # intact
    return active_patient


def verify() -> str:
    """Run `sojourn audit verify`; return what it reported as tampering (empty when intact)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except CommandError as error:
        assert "problem(s)" in str(error)
        return err.getvalue()
    assert "audit trail intact" in out.getvalue() and "TAMPERED" not in err.getvalue()
    return ""


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_the_whole_trail_deleted_and_the_head_reset_is_reported(anchored):
    raw("DELETE FROM core_auditentry")
    raw("UPDATE core_auditchainhead SET seq = 0, mac = %s WHERE id = 1", [GENESIS_MAC])
    report = verify()
    assert "the trail ends at entry 0, but the checkpoint" in report
    assert "consent record(s) without their consent.given entry" in report


def test_the_tail_cut_and_the_head_rewritten_is_reported(anchored):
    checkpoint_seq = AuditChainHead.objects.get().seq - 1  # the checkpoint's own entry came after it
    keep = AuditEntry.objects.get(seq=checkpoint_seq - 2)
    raw("DELETE FROM core_auditentry WHERE seq > %s", [keep.seq])
    raw("UPDATE core_auditchainhead SET seq = %s, mac = %s WHERE id = 1", [keep.seq, keep.mac])
    report = verify()
    assert f"the trail ends at entry {keep.seq}, but the checkpoint" in report
    assert f"records entry {checkpoint_seq}: entries were deleted and the head set back" in report


@pytest.mark.parametrize("damage", [b"\x00" * 60, b"\x00\x11"], ids=["overwritten", "cut short"])
def test_a_damaged_key_is_reported_as_tampering_not_a_traceback(anchored, damage):
    SystemKey.objects.filter(name="audit-chain").update(wrapped=damage)
    report = verify()
    assert "the audit chain's key cannot be opened" in report
    with pytest.raises(CommandError, match="TAMPERED: the audit chain's key cannot be opened"):
        call_command("audit", "checkpoint", stdout=StringIO())


def test_a_deleted_key_is_reported_as_tampering(anchored):
    SystemKey.objects.filter(name="audit-chain").delete()
    assert "the audit chain's key cannot be opened" in verify()


def test_a_consent_record_without_its_entry_is_reported(anchored):
    record = ConsentRecord.objects.get(patient=anchored)
    # An earlier consent "found" in the database, written straight into it around the consent service.
    record.pk, record.status, record.withdrawn_at = None, ConsentRecord.Status.WITHDRAWN, record.signed_at
    record.save()
    assert f"1 consent record(s) without their consent.given entry: {record.pk}" in verify()


def test_deleted_or_forged_checkpoints_are_reported(anchored, settings):
    [path] = list(settings.SOJOURN_AUDIT_CHECKPOINT_DIR.glob("*/*.json"))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "seq": data["seq"] + 5}))
    assert f"checkpoint {path} is damaged or forged" in verify()
    path.unlink()
    assert f"the trail says a checkpoint of entry {data['seq']} was written, but it is not in" in verify()


def test_the_worker_writes_checkpoints_on_its_schedule(settings, tmp_path, active_patient):
    settings.SOJOURN_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.SOJOURN_AUDIT_CHECKPOINT_EVERY = 0
    Worker().step()
    assert len(list((tmp_path / "checkpoints").glob("*/*.json"))) == 1
    assert AuditEntry.objects.filter(action="audit.checkpointed", actor_label="worker").count() == 1
    assert verify() == ""
    settings.SOJOURN_AUDIT_CHECKPOINT_EVERY = 600
    Worker().step()  # not due yet: nothing more
    assert len(list((tmp_path / "checkpoints").glob("*/*.json"))) == 1
