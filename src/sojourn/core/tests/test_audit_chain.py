from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sojourn.core.models import AuditEntry
from sojourn.core.services.audit import atomic_audited_last, record_audit, verify_audit_chain
from sojourn.core.tests.factories import SYSTEM


@pytest.fixture
def chain(db):
    for n in range(1, 6):
        record_audit(actor=SYSTEM, action="test.happened", subject_type="thing", subject_id=n, after={"n": n})
    assert verify_audit_chain().ok
    return list(AuditEntry.objects.order_by("seq"))


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_intact_chain_verifies(chain):
    result = verify_audit_chain()
    assert result.ok and result.entries_checked == 5 and result.head_seq == 5


def test_it_detects_an_entry_altered_in_the_database(chain):
    raw("UPDATE core_auditentry SET action = %s WHERE seq = %s", ["test.innocent", 3])
    result = verify_audit_chain()
    assert not result.ok
    assert any("entry 3 was altered" in p for p in result.problems)


def test_it_detects_an_entry_deleted_from_the_middle(chain):
    raw("DELETE FROM core_auditentry WHERE seq = %s", [2])
    result = verify_audit_chain()
    assert any("entry 2 is missing" in p for p in result.problems)


def test_it_detects_the_last_entry_deleted(chain):
    raw("DELETE FROM core_auditentry WHERE seq = %s", [5])
    assert any("chain head says entry 5 is last" in p for p in verify_audit_chain().problems)


def test_it_detects_an_entry_inserted_even_with_a_copied_mac(chain):
    # Shift entries 4 and 5 up and insert a forged entry 4 that reuses a real MAC.
    raw("UPDATE core_auditentry SET seq = seq + 10 WHERE seq >= %s", [4])
    raw("UPDATE core_auditentry SET seq = seq - 9 WHERE seq >= %s", [14])
    third = chain[2]
    raw(
        "INSERT INTO core_auditentry (seq, at, actor_kind, actor_id, actor_label, action, subject_type, subject_id,"
        " program_id, market, before, after, prev_mac, mac) VALUES (%s, %s, 'system', '', 'intruder',"
        " 'pii.read', 'patient', 'P-1', NULL, '', NULL, NULL, %s, %s)",
        [4, third.at, third.mac, chain[3].mac],
    )
    result = verify_audit_chain()
    assert not result.ok
    assert any("entry 4 was altered or forged" in p for p in result.problems)


def test_entries_refuse_update_and_delete_through_the_orm(chain):
    entry = chain[0]
    entry.action = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()


def test_cli_verify_fails_loudly_on_tampering(chain):
    out = StringIO()
    call_command("audit", "verify", stdout=out, stderr=StringIO())
    assert "audit trail intact: 5 entries" in out.getvalue()
    raw("UPDATE core_auditentry SET after = %s WHERE seq = %s", ['{"n": 99}', 1])
    err = StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("audit", "verify", stdout=StringIO(), stderr=err)
    assert "TAMPERED: entry 1 was altered" in err.getvalue()


def test_entries_of_an_audited_last_block_are_appended_when_it_ends(db):
    with atomic_audited_last():
        record_audit(actor=SYSTEM, action="test.opened", subject_type="thing", subject_id=1, after={"n": 1})
        assert not AuditEntry.objects.exists()  # the chain's head is not taken until the end
        record_audit(actor=SYSTEM, action="test.sent", subject_type="thing", subject_id=1, after={"n": 2})
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [(e.seq, e.action) for e in entries] == [(1, "test.opened"), (2, "test.sent")]
    assert entries[0].at <= entries[1].at  # each keeps the time it was recorded
    assert verify_audit_chain().ok


def test_a_rolled_back_audited_last_block_writes_none_of_its_entries(db):
    with pytest.raises(RuntimeError), atomic_audited_last():
        record_audit(actor=SYSTEM, action="test.opened", subject_type="thing", subject_id=1)
        raise RuntimeError("the provider went away")
    assert not AuditEntry.objects.exists()
    record_audit(actor=SYSTEM, action="test.after", subject_type="thing", subject_id=2)  # appended as usual
    assert AuditEntry.objects.get().seq == 1 and verify_audit_chain().ok
