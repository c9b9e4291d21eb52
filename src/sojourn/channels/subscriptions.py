"""Consent withdrawn: what has not left the outbox for the withdrawn channels never leaves, and calls
a nurse has not made leave the queue when calls are no longer agreed to. Patient erased: the files
channels wrote about them in clear are deleted. Drug safety asks a follow-up question: a nurse calls,
or the patient is told it waits on their page, or the doctor is emailed. Answers that raise an
urgent clinical flag: a task for a person, due at once."""

from __future__ import annotations

from sojourn.channels.filebased import forget_recipient
from sojourn.channels.services.magazine import remove_copies_of
from sojourn.channels.services.nurse import call_for_follow_up, call_for_urgent_flags, cancel_open_calls
from sojourn.channels.services.outbox import cancel_pending
from sojourn.channels.services.safety_questions import email_the_doctor, tell_the_patient, withdraw_question
from sojourn.consent.hooks import ConsentWithdrawn, consent_withdrawn, patient_erased
from sojourn.people.models import Patient
from sojourn.questionnaires.hooks import response_completed
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.safety.hooks import follow_up_closed, follow_up_requested
from sojourn.safety.models import FollowUp


@consent_withdrawn.connect
def cancel_messages(event: ConsentWithdrawn) -> None:
    everything = event.everything or "program_participation" in event.purposes
    cancel_pending(patient_id=event.patient.pk, purposes=None if everything else event.purposes,
                   reason="consent withdrawn", now=event.at)
    if everything or event.purposes & {"nurse_calls", "contact_phone"}:
        cancel_open_calls(patient_id=event.patient.pk, now=event.at)


@patient_erased.connect
def remove_written_copies(patient: Patient) -> None:
    """What channels wrote in clear outside the database: the patient's spooled mail and printed pages.
    (Text messages in the local gateway's log are sealed with the patient's key: shredded with it.)"""
    forget_recipient(patient.email_index)
    remove_copies_of(patient)


@response_completed.connect
def call_for_urgent_answers(response: QuestionnaireResponse) -> None:
    call_for_urgent_flags(response)


@follow_up_requested.connect
def ask_the_question(follow_up: FollowUp) -> None:
    if follow_up.channel == FollowUp.Channel.CALL:
        call_for_follow_up(follow_up)
    elif follow_up.channel == FollowUp.Channel.PORTAL:
        tell_the_patient(follow_up)
    else:
        email_the_doctor(follow_up)


@follow_up_closed.connect
def withdraw_the_question(follow_up: FollowUp) -> None:
    withdraw_question(follow_up)
