"""The nurse queue: a rule's nurse task becomes a call; a nurse takes it, sees the context and the
approved script, records the outcome; a call-back is a new call; an adverse event reaches safety."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.channels.queries import sla_colour
from sojourn.channels.services.delivery import deliver_due
from sojourn.channels.services.nurse import claim_task, complete_call, release_task
from sojourn.channels.tests.helpers import noon
from sojourn.content.tests.factories import approved_item
from sojourn.core.errors import Conflict, InvalidInput, NotFound
from sojourn.core.models import AuditEntry
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.people.queries import actor_for_user
from sojourn.people.services.patients import unseal_for_patient
from sojourn.safety.models import Intake
from sojourn.safety.questions import QUESTIONS
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import record_events

NO_TO_ALL = dict.fromkeys(QUESTIONS, "no")

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(program, active_patient):
    approved_item(program, "adherence-call", "call_script", {"de-DE": {
        "title": "Gespräch zur Therapietreue", "body": "Fragen Sie, wie die Injektionen gelingen."}})
    live_rules(program, [rule("missed-nurse", {"events": ["medication.missed"]}, [
        {"do": "nurse_task", "reason": "adherence support", "due_in": "4h", "script": "adherence-call"}])])
    at = noon()
    record_events(SYSTEM, [{"client_id": "m1", "type": "medication.missed", "patient": active_patient.pseudonym,
                            "occurred_at": (at - timedelta(minutes=1)).isoformat(),
                            "data": {"product": "biologic"}}], source="test", now=at)
    deliver_due(owner="w", now=at + timedelta(minutes=1))
    return NurseTask.objects.get()


def test_a_rules_nurse_task_becomes_a_call_with_its_script(call, active_patient):
    assert (call.patient_id, call.reason, call.script_code, call.status) == (
        active_patient.pk, "adherence support", "adherence-call", "open")
    assert call.due_at == noon() + timedelta(hours=4)  # queued at once, due within the four hours the rule gave
    assert sla_colour(call, call.due_at - timedelta(hours=3)) == "green"
    assert sla_colour(call, call.due_at - timedelta(hours=1)) == "amber"
    assert sla_colour(call, call.due_at + timedelta(minutes=1)) == "red"


def test_a_call_is_taken_by_one_nurse_and_only_in_her_market(call, cast):
    german, british = actor_for_user(cast.nurse_de), actor_for_user(cast.nurse_gb)
    with pytest.raises(NotFound):
        from sojourn.channels.services.nurse import access_task

        access_task(british, call.pk)
    taken = claim_task(actor=german, task=call)
    assert (taken.status, taken.claimed_by_id) == ("claimed", cast.nurse_de.pk)
    from sojourn.core.actors import Actor, Grant
    from sojourn.core.permissions import Role

    colleague = Actor(kind="staff", label="other", user_id=4242,
                      grants=(Grant(program_id=call.program_id, role=Role.NURSE, markets=frozenset({"DE"})),))
    with pytest.raises(Conflict):
        claim_task(actor=colleague, task=call)
    with pytest.raises(Conflict):
        release_task(actor=colleague, task=call)
    assert release_task(actor=german, task=call).status == "open"


def test_the_outcome_is_checked_and_nothing_is_saved_when_wrong(call, cast):
    nurse = actor_for_user(cast.nurse_de)
    with pytest.raises(Conflict):  # not taken yet
        complete_call(actor=nurse, task=call, outcome="reached", safety=NO_TO_ALL)
    claim_task(actor=nurse, task=call)
    with pytest.raises(InvalidInput) as error:
        complete_call(actor=nurse, task=call, outcome="call_back")
    assert error.value.field == "call_back_at"
    with pytest.raises(InvalidInput) as error:
        complete_call(actor=nurse, task=call, outcome="voicemail", safety={"side_effect": "yes"})
    assert error.value.field == "safety"
    with pytest.raises(InvalidInput) as error:  # a reached call: every safety question, each missing one named
        complete_call(actor=nurse, task=call, outcome="reached",
                      safety={**NO_TO_ALL, "pregnancy": "", "lack_of_effect": None})
    assert [d.field for d in error.value.details] == ["safety_pregnancy", "safety_lack_of_effect"]
    with pytest.raises(InvalidInput):
        complete_call(actor=nurse, task=call, outcome="maybe")
    assert NurseTask.objects.get(pk=call.pk).status == "claimed" and not Intake.objects.exists()


def test_a_call_back_is_a_new_call_and_an_adverse_event_goes_to_safety(call, cast, active_patient):
    nurse = actor_for_user(cast.nurse_de)
    claim_task(actor=nurse, task=call)
    later = timezone.now() + timedelta(days=1)
    done = complete_call(actor=nurse, task=call, outcome="call_back", call_back_at=later,
                         notes="Ruft morgen zurück.")
    assert done.status == "done" and unseal_for_patient(active_patient, "nurse_notes", done.notes_sealed) == \
        "Ruft morgen zurück."
    again = NurseTask.objects.get(status="open")
    assert (again.due_at, again.reason, again.source_key) == (later, "adherence support", f"call-back:{call.pk}")
    claim_task(actor=nurse, task=again)
    complete_call(actor=nurse, task=again, outcome="reached",
                  safety={**NO_TO_ALL, "side_effect": "yes", "product_complaint": "yes"})
    intake = Intake.objects.get()
    assert (intake.source, intake.detail, intake.status) == (
        "nurse call", {"task": again.pk, "answers": ["side_effect", "product_complaint"]}, "open")
    assert NurseTask.objects.get(pk=again.pk).safety_answers == {**{q: False for q in QUESTIONS},
                                                                 "side_effect": True, "product_complaint": True}
    assert list(Event.objects.filter(type="call.completed").values_list("data__outcome", flat=True)) == [
        "call_back", "reached"]
    entry = AuditEntry.objects.filter(action="nurse_task.completed").latest("pk")
    assert entry.after == {"task": again.pk, "outcome": "reached", "adverse_event": True,
                           "safety": ["side_effect", "product_complaint"], "notes": False}


def test_the_console_queue_and_call_page(call, cast, client):
    client.force_login(cast.nurse_de)
    queue = client.get("/console/nurse/").content.decode()
    assert f'data-task="{call.pk}"' in queue and "adherence support" in queue
    page = client.get(f"/console/nurse/calls/{call.pk}/").content.decode()
    assert "Lena" not in page  # the name is opened only once the nurse takes the call
    assert client.post(f"/console/nurse/calls/{call.pk}/take/").status_code == 302
    page = client.get(f"/console/nurse/calls/{call.pk}/").content.decode()
    assert "Lena Hoffmann" in page and "Fragen Sie, wie die Injektionen gelingen." in page
    assert AuditEntry.objects.filter(action="pii.read", after__purpose=f"nurse call {call.pk}").exists()
    refused = client.post(f"/console/nurse/calls/{call.pk}/", {"outcome": "call_back", "call_back_at": ""})
    assert refused.status_code == 422
    unasked = client.post(f"/console/nurse/calls/{call.pk}/", {"outcome": "reached", "notes": "Alles gut."})
    assert unasked.status_code == 422 and "Ja oder Nein: Ist die Patientin" in unasked.content.decode()
    done = client.post(f"/console/nurse/calls/{call.pk}/", {"outcome": "reached", "notes": "Alles gut.",
                                                            **{f"safety_{q}": "no" for q in QUESTIONS}})
    assert done.status_code == 302 and NurseTask.objects.get(pk=call.pk).outcome == "reached"
    client.logout()
    client.force_login(cast.nurse_gb)
    assert client.get(f"/console/nurse/calls/{call.pk}/").status_code == 404


def test_a_withdrawn_call_script_is_not_shown_and_says_why(call, cast, client):
    from sojourn.content.models import ContentVersion
    from sojourn.content.services.review import withdraw
    from sojourn.content.tests.factories import reviewer

    withdraw(actor=reviewer(call.program), version=ContentVersion.objects.get(item__code="adherence-call"),
             reason="label change")
    client.force_login(cast.nurse_de)
    page = client.get(f"/console/nurse/calls/{call.pk}/").content.decode()
    assert "Fragen Sie, wie die Injektionen gelingen." not in page
    assert "adherence-call has no approved version" in page


def test_the_call_page_says_which_rule_raised_the_call_and_what_it_saw(program, cast, client,
                                                                        active_patient):
    live_rules(program, [rule("forgot-call", {"events": ["medication.missed"]}, [
        {"do": "nurse_task", "reason": "adherence support", "due_in": "24h"}],
        condition="event.data.reason == 'forgot'", name="A nurse call when a dose is forgotten")])
    at = noon()
    record_events(SYSTEM, [{"client_id": "m9", "type": "medication.missed", "patient": active_patient.pseudonym,
                            "occurred_at": (at - timedelta(minutes=1)).isoformat(),
                            "data": {"product": "biologic", "reason": "forgot"}}], source="test", now=at)
    deliver_due(owner="w", now=at + timedelta(minutes=1))
    task = NurseTask.objects.get()
    client.force_login(cast.nurse_de)
    page = client.get(f"/console/nurse/calls/{task.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    start = page.index('<section id="why">')
    why = page[start:page.index("</section>", start)]
    assert "Warum dieser Anruf" in why and "adherence support" in why
    assert "Die Regel „A nurse call when a dose is forgotten“ hat diesen Anruf ausgelöst, als medication.missed" \
        in why
    assert "event.data.reason: forgot" in why


def test_a_call_back_says_it_was_agreed_on_the_earlier_call(call, cast, client):
    nurse = actor_for_user(cast.nurse_de)
    claim_task(actor=nurse, task=call)
    complete_call(actor=nurse, task=call, outcome="call_back", call_back_at=timezone.now() + timedelta(days=1))
    again = NurseTask.objects.get(status="open")
    client.force_login(cast.nurse_de)
    page = client.get(f"/console/nurse/calls/{again.pk}/").content.decode()
    assert "„missed nurse“" in page and "medication.missed" in page and "adherence support" in page
    assert "Ein Rückruf, vereinbart beim Anruf vom" in page


def _missed_dose(patient, at):
    record_events(SYSTEM, [{"client_id": "m1", "type": "medication.missed", "patient": patient.pseudonym,
                            "occurred_at": (at - timedelta(minutes=1)).isoformat(),
                            "data": {"product": "biologic"}}], source="test", now=at)


def test_phone_contact_alone_raises_no_nurse_call_and_the_skip_says_so(program, patient_without_nurse_calls):
    from sojourn.consent.queries import granted_purposes
    from sojourn.dialogue.models import Decision

    assert "contact_phone" in granted_purposes(patient_without_nurse_calls)
    live_rules(program, [rule("missed-nurse", {"events": ["medication.missed"]}, [
        {"do": "nurse_task", "reason": "adherence support", "due_in": "4h"}])])
    _missed_dose(patient_without_nurse_calls, noon())
    deliver_due(owner="w", now=noon() + timedelta(minutes=1))
    assert not NurseTask.objects.exists()
    outcome = Decision.objects.get().outcomes[0]
    assert (outcome["result"], outcome["reason"]) == ("skipped", "no consent for nurse_calls")


def test_a_patient_who_agreed_to_nurse_calls_gets_one(call, active_patient):
    from sojourn.consent.queries import granted_purposes

    assert {"nurse_calls", "contact_phone"} <= granted_purposes(active_patient)
    assert call.patient_id == active_patient.pk and call.status == "open"


def test_withdrawing_nurse_calls_takes_open_calls_off_the_queue_and_stops_those_not_delivered(
        program, call, active_patient):
    from sojourn.channels.models import OutboxMessage
    from sojourn.consent.services.withdrawal import withdraw_consent
    from sojourn.consent.tests.factories import me

    _missed_dose_again = {"client_id": "m2", "type": "medication.missed", "patient": active_patient.pseudonym,
                          "occurred_at": noon().isoformat(), "data": {"product": "biologic"}}
    record_events(SYSTEM, [_missed_dose_again], source="test", now=noon() + timedelta(minutes=2))
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["nurse_calls"], via="portal")
    assert NurseTask.objects.get(pk=call.pk).status == "cancelled"
    deliver_due(owner="w", now=noon() + timedelta(minutes=3))
    pending = OutboxMessage.objects.filter(kind="nurse_task").exclude(idempotency_key=call.source_key).get()
    assert pending.status == "cancelled" and pending.last_error == "no consent for nurse_calls"
    assert NurseTask.objects.count() == 1
