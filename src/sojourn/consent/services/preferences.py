"""Change how a patient is reached: channels, language, quiet hours, contact days and times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.db import transaction
from django.utils.translation import gettext as _

from sojourn.consent.models import ContactPreferences
from sojourn.consent.queries import CHANNEL_PURPOSE, granted_purposes
from sojourn.consent.services.withdrawal import _authorize
from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Patient


@dataclass(frozen=True)
class PreferenceChange:
    channels: list[str]
    locale: str
    quiet_start: time | None = None
    quiet_end: time | None = None
    contact_days: list[int] | None = None
    contact_from: time | None = None
    contact_until: time | None = None


def update_contact_preferences(*, actor: Actor, patient: Patient, change: PreferenceChange) -> ContactPreferences:
    """Apply the change if the consent on record covers every channel chosen."""
    _authorize(actor, patient)
    problems: list[ErrorDetail] = []
    purposes = granted_purposes(patient)
    for channel in change.channels:
        if channel not in CHANNEL_PURPOSE or channel not in patient.market.channels:
            problems.append(ErrorDetail(_("%(channel)s is not a channel of this program.") % {"channel": channel},
                                        field="channels"))
        elif CHANNEL_PURPOSE[channel] and CHANNEL_PURPOSE[channel] not in purposes:
            problems.append(ErrorDetail(
                _("To be contacted by %(channel)s, first agree to it in your consent.") % {"channel": channel},
                field="channels"))
    if change.locale not in patient.market.locales:
        problems.append(ErrorDetail(_("%(locale)s is not a language of this market.") % {"locale": change.locale},
                                    field="locale"))
    if (change.quiet_start is None) != (change.quiet_end is None):
        problems.append(ErrorDetail(_("Give both ends of your quiet hours, or neither."), field="quiet_start"))
    if (change.contact_from is None) != (change.contact_until is None):
        problems.append(ErrorDetail(_("Give both ends of your contact times, or neither."), field="contact_from"))
    days = sorted(set(change.contact_days or []))
    if any(d not in range(1, 8) for d in days):
        problems.append(ErrorDetail(_("Days are numbered 1 (Monday) to 7 (Sunday)."), field="contact_days"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    with transaction.atomic(durable=True):
        preferences, _created = ContactPreferences.objects.select_for_update().get_or_create(patient=patient)
        before = {"channels": preferences.channels, "locale": patient.locale}
        preferences.channels = [c for c in CHANNEL_PURPOSE if c in set(change.channels)]
        preferences.quiet_start, preferences.quiet_end = change.quiet_start, change.quiet_end
        preferences.contact_days = days
        preferences.contact_from, preferences.contact_until = change.contact_from, change.contact_until
        preferences.save()
        if patient.locale != change.locale:
            Patient.objects.filter(pk=patient.pk).update(locale=change.locale)
            patient.locale = change.locale
        record_audit(actor=actor, action="preferences.changed", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country, before=before,
                     after={"channels": preferences.channels, "locale": change.locale,
                            "quiet_hours": bool(change.quiet_start), "contact_days": days})
        return preferences
