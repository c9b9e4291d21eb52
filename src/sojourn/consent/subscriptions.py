"""What consent itself stops when consent is withdrawn."""

from __future__ import annotations

from sojourn.consent.hooks import ConsentWithdrawn, consent_withdrawn
from sojourn.consent.models import ContactPreferences, ReconsentRequest, Verification
from sojourn.consent.queries import CHANNEL_PURPOSE


@consent_withdrawn.connect
def narrow_contact_preferences(event: ConsentWithdrawn) -> None:
    """Turn off every channel whose purpose was withdrawn; all of them when the person left."""
    preferences = ContactPreferences.objects.select_for_update().filter(patient=event.patient).first()
    if preferences is None:
        return
    if event.everything:
        preferences.channels = []
    else:
        preferences.channels = [c for c in preferences.channels if CHANNEL_PURPOSE.get(c) not in event.purposes]
    preferences.save(update_fields=["channels", "updated_at"])


@consent_withdrawn.connect
def cancel_pending_codes_and_requests(event: ConsentWithdrawn) -> None:
    if not event.everything:
        return
    Verification.objects.filter(patient=event.patient, consumed_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=event.at)
    ReconsentRequest.objects.filter(record__patient=event.patient, closed_at__isnull=True).update(closed_at=event.at)
