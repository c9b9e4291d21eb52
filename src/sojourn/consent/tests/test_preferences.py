from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from sojourn.consent.queries import may_contact
from sojourn.consent.services.preferences import PreferenceChange, update_contact_preferences
from sojourn.consent.tests.factories import me
from sojourn.core.errors import InvalidInput
from sojourn.core.models import AuditEntry

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_patient_narrows_channels_and_sets_quiet_hours_and_language(active_patient):
    update_contact_preferences(actor=me(active_patient), patient=active_patient, change=PreferenceChange(
        channels=["web", "sms"], locale="de-DE", quiet_start=time(18, 0), quiet_end=time(9, 0),
        contact_days=[1, 2, 3, 4, 5]))
    assert not may_contact(active_patient, "email").allowed
    assert may_contact(active_patient, "sms", datetime(2026, 5, 5, 10, 0, tzinfo=BERLIN)).allowed
    assert not may_contact(active_patient, "sms", datetime(2026, 5, 5, 18, 30, tzinfo=BERLIN)).allowed
    saturday = datetime(2026, 5, 9, 10, 0, tzinfo=BERLIN)
    assert may_contact(active_patient, "sms", saturday).reason == "not a contact day"
    assert AuditEntry.objects.filter(action="preferences.changed").exists()


def test_bad_preferences_name_the_field(active_patient):
    with pytest.raises(InvalidInput) as refused:
        update_contact_preferences(actor=me(active_patient), patient=active_patient, change=PreferenceChange(
            channels=["web", "fax"], locale="ja-JP", quiet_start=time(20, 0), contact_days=[0, 9]))
    fields = {d.field for d in refused.value.details}
    assert fields == {"channels", "locale", "quiet_start", "contact_days"}
