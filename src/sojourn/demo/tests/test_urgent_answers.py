"""A patient who answers PHQ-9 item 9 above "Not at all" (thoughts of death or self-harm) reaches a
person the same day in every demo market, whatever the demo's rules say: an urgent task first in the
queue of the market's nurse, due at once, and on the patient's own page, where to turn now."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from sojourn.channels.models import NurseTask
from sojourn.consent.portal import SESSION_PATIENT
from sojourn.demo.builder import STAFF, build_demo
from sojourn.dialogue.models import RuleSetVersion
from sojourn.people.models import Patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.tracking.models import Event

PATH = "/p/me/questionnaires/phq-9/"
NURSES = {"CA": "nurse.na", "DE": "nurse.de", "GB": "nurse.gb", "JP": "nurse.jp", "US": "nurse.na"}
# The numbers from the patient's market pack, in the words of their language.
HELP = {"CA": ("911", "988"), "DE": ("112", "0800 111 0 111"), "GB": ("999", "116 123"), "JP": ("119", "0120-279-338"),
        "US": ("911", "988")}
CALL = {"de": "rufen Sie {} an", "en": "call {}.", "fr": "appelez le {}.", "ja": "{} に電話してください"}
URGENT = {"de": "Dringend", "en": "Urgent", "ja": "緊急"}
SEVERAL_DAYS = {"de": "An einzelnen Tagen", "en": "Several days", "ja": "数日"}  # item 9's answer


def nurse_language(staff) -> str:
    return next(m.language for m in STAFF if m.email == staff.username)


def answer_phq9(portal: Client, item9: str) -> str:
    for n in range(1, 10):
        step = portal.post(f"{PATH}?q=phq9-{n}", {"item": f"phq9-{n}", "answer": item9 if n == 9 else "0"})
        assert step.status_code == 302, (n, step.content.decode()[:300])
    sent = portal.post(f"{PATH}review/")
    assert sent.status_code == 302
    return portal.get(sent["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
def test_thoughts_of_self_harm_reach_a_person_today_in_every_demo_market():
    program = build_demo()
    rules = RuleSetVersion.objects.get(rule_set__program=program, status="live")
    assert "self_harm" not in str(rules.rules)  # nothing in the program's own rules asks for it
    users = get_user_model().objects
    now = timezone.now()
    for country in NURSES:  # a call already overdue in every market: the urgent one still goes first
        patient = Patient.objects.filter(program=program, market__country=country, status="active").last()
        NurseTask.objects.create(program=program, patient=patient, source_key=f"overdue:{country}",
                                 reason="adherence support", due_at=now - timedelta(hours=3), created_at=now)
    for country, nurse in NURSES.items():
        patients = Patient.objects.filter(program=program, market__country=country, status="active")
        calm, worried = patients.order_by("pk")[:2]
        for patient, item9 in ((calm, "0"), (worried, "1")):
            portal = Client()
            session = portal.session
            session[SESSION_PATIENT] = patient.pseudonym
            session.save()
            page = answer_phq9(portal, item9)
            response = QuestionnaireResponse.objects.get(patient=patient, questionnaire__name="phq-9")
            urgent = NurseTask.objects.filter(patient=patient, urgent=True)
            if item9 == "0":
                assert response.flags == [] and not urgent.exists() and 'id="urgent-help"' not in page
                continue
            assert response.flags == ["self_harm_thoughts"]
            emergency, line = HELP[country]
            said = CALL[patient.locale.split("-")[0]].format(emergency)
            assert 'id="urgent-help"' in page and said in page and line in page, country
            # Due the moment the answers came in, whatever the hour, the quiet hours or the rules.
            task = urgent.get()
            assert (task.status, task.due_at) == ("open", response.completed_at)
            event = Event.objects.get(patient=patient, type="questionnaire.completed",
                                      data__questionnaire="phq-9")
            assert event.data["flags"] == ["self_harm_thoughts"]

            staff = users.get(username=f"{nurse}@demo.sojourn.example")
            console = Client()
            console.force_login(staff)
            queue = console.get("/console/nurse/").content.decode()
            order = [int(pk) for pk in re.findall(r'data-task="(\d+)"', queue)]
            urgent_first = list(NurseTask.objects.filter(pk__in=order, urgent=True).order_by("due_at", "pk")
                                .values_list("pk", flat=True))
            assert task.pk in urgent_first and order[:len(urgent_first)] == urgent_first, country
            assert len(order) > len(urgent_first)
            language = nurse_language(staff)
            assert URGENT[language] in queue, country
            call = console.get(f"/console/nurse/calls/{task.pk}/").content.decode()
            assert 'id="urgent"' in call and HELP[country][0] in call and SEVERAL_DAYS[language] in call
