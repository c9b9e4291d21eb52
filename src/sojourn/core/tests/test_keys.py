from __future__ import annotations

import secrets
from base64 import urlsafe_b64encode
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from sojourn.core import crypto
from sojourn.core.errors import DataErased
from sojourn.core.models import AuditEntry, DataKey, SystemKey
from sojourn.core.services.keys import create_data_key, destroy_data_key, open_data_key, rotate_master_key
from sojourn.core.tests.factories import SYSTEM


def new_master() -> str:
    return urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_sealed_values_open_only_in_their_own_context():
    key = crypto.new_data_key()
    sealed = crypto.seal(key, "Lena Hoffmann", "people.patient:P-1:given_name")
    assert b"Lena" not in sealed
    assert crypto.unseal(key, sealed, "people.patient:P-1:given_name") == "Lena Hoffmann"
    with pytest.raises(crypto.KeyMaterialError):
        crypto.unseal(key, sealed, "people.patient:P-2:given_name")  # moved to another row
    with pytest.raises(crypto.KeyMaterialError):
        crypto.unseal(crypto.new_data_key(), sealed, "people.patient:P-1:given_name")


def test_a_malformed_master_key_is_refused_with_the_reason():
    with pytest.raises(crypto.KeyMaterialError, match="32 bytes"):
        crypto.decode_master_key("c2hvcnQ")


def test_rotation_rewraps_every_key_and_old_master_keys_can_then_be_dropped(db):
    keys = [create_data_key() for _ in range(7)]
    plain = [open_data_key(k) for k in keys]
    old = crypto.key_ring_from_settings()
    new = new_master()
    from django.conf import settings

    with override_settings(SOJOURN_MASTER_KEY=new, SOJOURN_PREVIOUS_MASTER_KEYS=[settings.SOJOURN_MASTER_KEY]):
        # Before rotation finishes, keys still open through the previous master key.
        assert open_data_key(DataKey.objects.get(pk=keys[0].pk)) == plain[0]
        progress: list[tuple[int, int]] = []
        report = rotate_master_key(actor=SYSTEM, batch_size=3, progress=lambda d, t: progress.append((d, t)))
        assert report.data_keys_rewrapped == 7 and report.system_keys_rewrapped == 2
        assert progress[-1] == (7, 7)
        assert not DataKey.objects.exclude(master_key_id=crypto.master_key_id(crypto.decode_master_key(new))).exists()
        again = rotate_master_key(actor=SYSTEM)
        assert again.data_keys_rewrapped == 0 and again.already_current == 7
    with override_settings(SOJOURN_MASTER_KEY=new, SOJOURN_PREVIOUS_MASTER_KEYS=[]):
        assert [open_data_key(DataKey.objects.get(pk=k.pk)) for k in keys] == plain
        assert SystemKey.objects.exclude(master_key_id=old.current_id).count() == 2
    assert AuditEntry.objects.filter(action="keys.rotated").count() == 2


def test_keys_rotate_command_reports_what_it_did(db):
    create_data_key()
    from django.conf import settings

    out = StringIO()
    with override_settings(SOJOURN_MASTER_KEY=new_master(), SOJOURN_PREVIOUS_MASTER_KEYS=[settings.SOJOURN_MASTER_KEY]):
        call_command("keys", "rotate", stdout=out, stderr=StringIO())
    assert "1 data key(s) and 2 system key(s) re-wrapped" in out.getvalue()


def test_a_destroyed_key_can_never_open_again(db):
    key = create_data_key()
    destroy_data_key(actor=SYSTEM, data_key=key, subject_type="patient", subject_id="P-X", program_id=None,
                     market="DE", reason="erasure request")
    key.refresh_from_db()
    with pytest.raises(DataErased):
        open_data_key(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT wrapped FROM core_datakey WHERE id = %s", [key.pk.hex if connection.vendor == "sqlite"
                                                                         else key.pk])
        assert cursor.fetchone()[0] is None
    assert AuditEntry.objects.filter(action="pii.shredded", subject_id="P-X").exists()
