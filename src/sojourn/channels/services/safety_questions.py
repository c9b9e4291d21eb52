"""Drug safety's follow-up questions that are not calls: the patient is told, by an approved notice on a
channel they agreed to, that a question waits on their own page; a doctor is emailed that one waits on
theirs. The question itself is never in the message: a mailbox or a phone is not the place for it."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sojourn.channels.email import public_url
from sojourn.channels.models import NurseTask
from sojourn.channels.services.nurse import FOLLOW_UP
from sojourn.channels.services.outbox import cancel_messages, enqueue
from sojourn.consent.purposes import action_refusal
from sojourn.consent.queries import contact_facts
from sojourn.content.queries import resolve
from sojourn.core.errors import InvalidInput
from sojourn.core.models import QueuedWork
from sojourn.people.services.hcps import read_hcp_field
from sojourn.safety.models import FollowUp
from sojourn.safety.services import NOTICE_CHANNELS

log = logging.getLogger(__name__)
# The approved content that tells a patient a question waits on their page, by channel.
NOTICES = {"email": "safety-question-email", "sms": "safety-question-sms"}


def tell_the_patient(follow_up: FollowUp) -> str:
    """Queue the notice on the first channel (email, then text) the patient agreed to and the program
    has approved words for in their language; the channel it goes by. Refused, naming the channel, when
    there is none: the question is not asked then."""
    patient = follow_up.case.patient
    facts = contact_facts([patient])[patient.pk]
    now = timezone.now()
    for channel in NOTICE_CHANNELS:
        if action_refusal("send", facts.purposes, channel) or channel not in facts.channels():
            continue
        if resolve(patient.program_id, NOTICES[channel], locale=patient.locale, country=facts.country,
                   channel=channel).content is None:
            continue
        enqueue([{"program": patient.program_id, "patient": patient.pk, "channel": channel, "kind": "content",
                  "payload": {"content": NOTICES[channel], "follow_up": follow_up.pk}, "due_at": now,
                  "lane": int(QueuedWork.Lane.URGENT), "idempotency_key": f"safety-question:{follow_up.pk}",
                  "created_at": now}])
        return channel
    raise InvalidInput(_("No approved notice can tell the patient: the program needs approved content "
                         "%(email)s or %(sms)s in the patient's language, on a channel they agreed to.")
                       % {"email": NOTICES["email"], "sms": NOTICES["sms"]}, field="channel")


def email_the_doctor(follow_up: FollowUp) -> None:
    """Once the request commits, tell the doctor a question about their report waits on their page."""
    hcp = follow_up.case.hcp
    address = read_hcp_field(hcp, "email")
    if not address:
        raise InvalidInput(_("The program has no email address for this doctor."), field="channel")
    link = public_url(reverse("safety-hcp:report"))
    zone = ZoneInfo(hcp.time_zone)  # the dates as the doctor reads them, where the doctor is
    # Due at the end of a day where the patient lives: that day is the one to answer by.
    day = follow_up.case.day_zero.astimezone(zone).date()
    due = (follow_up.due_at - timedelta(microseconds=1)).astimezone(zone).date()

    # A lost notice is not a lost question: it waits on the doctor's page, listed on the safety queue
    # until answered or overdue; so after-commit delivery is enough, as for a one-time code.
    def deliver() -> None:
        with translation.override(hcp.locale.split("-")[0]):
            subject = _("A question from drug safety about your report")
            body = render_to_string("channels/email/safety_question.txt", {"link": link, "day": day, "due": due})
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except (OSError, smtplib.SMTPException) as error:  # its text may name the address: not logged
            log.warning("a follow-up question could not be mailed to doctor %s: %s", hcp.pseudonym,
                        type(error).__name__)

    transaction.on_commit(deliver)


def withdraw_question(follow_up: FollowUp) -> None:
    """A question no longer asked: its call leaves the nurses' queue, its notice the outbox, if not made."""
    now = timezone.now()
    key = f"{FOLLOW_UP}{follow_up.pk}"  # the call, and its call-backs (key:…)
    NurseTask.objects.filter(Q(source_key=key) | Q(source_key__startswith=f"{key}:"),
                             status__in=[NurseTask.Status.OPEN, NurseTask.Status.CLAIMED]).update(
        status=NurseTask.Status.CANCELLED, completed_at=now)
    cancel_messages(keys=[f"safety-question:{follow_up.pk}"], reason="drug safety closed the question", now=now)
