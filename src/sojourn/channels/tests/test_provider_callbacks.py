"""Provider callbacks are the provider's alone: a staff token, an unsigned or wrongly signed call, an
old timestamp or a secret of the past are refused alike; a signed callback answers the same for every
number; a STOP is audited with the provider as actor; a replay changes nothing twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from standardwebhooks import Webhook

from sojourn.channels.tests.providers import post_callback, signed_headers
from sojourn.consent.queries import granted_purposes
from sojourn.core.models import AuditEntry
from sojourn.people.models import Patient
from sojourn.people.tests.api import Api

pytestmark = pytest.mark.django_db
PHONE = "+4930901820"  # the active patient's number
STRANGER = "+4915112345678"  # nobody's
INBOUND = "/channels/sms/inbound"
OTHER_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def attempts(client, cast, number: str) -> dict[str, object]:
    """Every way in that is not the provider's own signed callback, for one sender number."""
    payload = {"from": number, "text": "STOP", "id": "in-1"}
    body = json.dumps(payload).encode()
    old = datetime.now(UTC) - timedelta(minutes=6)
    ahead = datetime.now(UTC) + timedelta(minutes=6)
    forged = signed_headers(json.dumps({**payload, "text": "HELP"}).encode(), secret=OTHER_SECRET)
    raw = {"data": body, "content_type": "application/json"}
    return {
        "staff token": Api(client, cast.admin).post(INBOUND, payload),
        "unsigned": client.post(f"/api/v1{INBOUND}", **raw),
        "wrong secret": post_callback(client, INBOUND, payload, secret=OTHER_SECRET),
        "old timestamp": post_callback(client, INBOUND, payload, at=old),
        "timestamp ahead": post_callback(client, INBOUND, payload, at=ahead),
        "signature of another body": client.post(f"/api/v1{INBOUND}", **raw, **{
            **signed_headers(body, secret=OTHER_SECRET), "HTTP_WEBHOOK_SIGNATURE": forged["HTTP_WEBHOOK_SIGNATURE"]}),
        "control characters in the id": post_callback(client, INBOUND, payload, webhook_id="msg\x00-1"),
    }


def test_everything_but_the_providers_signature_is_refused_alike_whatever_the_number(client, cast, active_patient):
    answers = {(number, way): (r.status_code, r.content) for number in (PHONE, STRANGER)
               for way, r in attempts(client, cast, number).items()}
    assert set(answers.values()) == {answers[(PHONE, "staff token")]}, answers
    assert answers[(PHONE, "staff token")][0] == 401
    assert "contact_sms" in granted_purposes(active_patient)
    assert not AuditEntry.objects.filter(action="consent.withdrawn").exists()


def test_a_replayed_callback_with_a_fresh_signature_of_an_old_id_changes_nothing(client, active_patient):
    stop = {"from": PHONE, "text": "STOP", "id": "in-1"}
    assert post_callback(client, INBOUND, stop, webhook_id="msg_stop").status_code == 200
    assert post_callback(client, INBOUND, {"from": PHONE, "text": "START", "id": "in-2"},
                         webhook_id="msg_start").status_code == 200
    again = post_callback(client, INBOUND, stop, webhook_id="msg_stop")  # the provider retries, or someone replays
    assert (again.status_code, again.json()) == (200, {"received": True})
    assert "contact_sms" in granted_purposes(active_patient)
    assert AuditEntry.objects.filter(action="consent.withdrawn").count() == 1


def test_during_a_rotation_the_new_and_the_previous_secret_are_both_accepted(client, settings, active_patient):
    previous = settings.SOJOURN_SMS_WEBHOOK_SECRET
    settings.SOJOURN_SMS_WEBHOOK_SECRET = OTHER_SECRET
    settings.SOJOURN_SMS_WEBHOOK_PREVIOUS_SECRET = previous
    assert post_callback(client, INBOUND, {"from": PHONE, "text": "HILFE"}, secret=previous).status_code == 200
    assert post_callback(client, INBOUND, {"from": PHONE, "text": "HILFE"}, secret=OTHER_SECRET).status_code == 200
    settings.SOJOURN_SMS_WEBHOOK_PREVIOUS_SECRET = ""  # the rotation is over: the old secret opens nothing
    assert post_callback(client, INBOUND, {"from": PHONE, "text": "HILFE"}, secret=previous).status_code == 401


def test_a_provider_signing_with_both_secrets_at_once_is_accepted(client, settings, active_patient):
    """Standard Webhooks lets a sender put several signatures in one header while it rotates."""
    settings.SOJOURN_SMS_WEBHOOK_PREVIOUS_SECRET = ""
    body = json.dumps({"from": PHONE, "text": "HILFE"}).encode()
    headers = signed_headers(body, secret=settings.SOJOURN_SMS_WEBHOOK_SECRET, webhook_id="msg_both")
    at = datetime.fromtimestamp(int(headers["HTTP_WEBHOOK_TIMESTAMP"]), UTC)
    headers["HTTP_WEBHOOK_SIGNATURE"] = " ".join([Webhook(OTHER_SECRET).sign("msg_both", at, body),
                                                  headers["HTTP_WEBHOOK_SIGNATURE"]])
    assert client.post(f"/api/v1{INBOUND}", body, content_type="application/json", **headers).status_code == 200


def test_a_known_and_an_unknown_number_get_the_same_answer_and_no_pseudonym(client, active_patient):
    for text in ("STOP", "HILFE", "hello", "START"):
        known = post_callback(client, INBOUND, {"from": PHONE, "text": text})
        unknown = post_callback(client, INBOUND, {"from": STRANGER, "text": text})
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (
            200, b'{"received": true}')
        assert active_patient.pseudonym.encode() not in known.content


def test_a_stop_from_the_provider_is_audited_with_the_provider_as_actor(client, active_patient):
    answer = post_callback(client, INBOUND, {"from": PHONE, "text": "STOP", "id": "in-9"}, webhook_id="msg_2Kx9")
    assert answer.status_code == 200
    assert "contact_sms" not in granted_purposes(active_patient)
    entry = AuditEntry.objects.get(action="consent.withdrawn")
    assert (entry.actor_kind, entry.actor_id, entry.actor_label) == ("system", "", "sms provider callback msg_2Kx9")
    assert entry.subject_id == active_patient.pseudonym and entry.after["via"] == "sms"
    assert not AuditEntry.objects.filter(actor_kind="patient").exists()


def test_a_nurse_records_a_spoken_opt_out_as_herself(client, cast, active_patient):
    """A patient who says "no more texts" on the phone: the nurse records it, and the audit names her."""
    client.force_login(cast.nurse_de)
    response = client.post(f"/console/consent/patients/{active_patient.pseudonym}/withdraw/",
                           {"scope": "contact_sms", "via": "nurse", "reason": "said so on the phone"})
    assert response.status_code == 302
    assert "contact_sms" not in granted_purposes(active_patient)
    entry = AuditEntry.objects.get(action="consent.withdrawn")
    assert (entry.actor_kind, entry.actor_id) == ("staff", str(cast.nurse_de.pk))
    assert Patient.objects.get(pk=active_patient.pk).status == Patient.Status.ACTIVE


def test_delivery_reports_need_the_providers_signature_too(client, cast, active_patient):
    report = {"id": "prov-1", "status": "delivered"}
    staff = Api(client, cast.admin).post("/channels/sms/status", report)
    signed = post_callback(client, "/channels/sms/status", report)
    assert staff.status_code == 401
    assert signed.status_code == 422  # let in; there is simply no such message


def test_the_worker_forgets_webhook_ids_past_the_retry_horizon(client, active_patient):
    from django.utils import timezone

    from sojourn.core.models import WebhookReceipt
    from sojourn.dialogue.worker import Worker

    post_callback(client, INBOUND, {"from": PHONE, "text": "HILFE"})
    post_callback(client, INBOUND, {"from": STRANGER, "text": "HILFE"})
    assert WebhookReceipt.objects.count() == 2
    with time_machine.travel(timezone.now() + timedelta(days=6), tick=False):
        Worker().step()
        assert WebhookReceipt.objects.count() == 2
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        Worker().step()
        assert WebhookReceipt.objects.count() == 0
