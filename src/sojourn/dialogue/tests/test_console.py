"""Console: rules checked while typing, saved, reviewed by someone else, diffed and dry-run; the agenda
and outbox monitors; a patient's timeline saying which rule fired and why."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.content.tests.factories import stock_library
from sojourn.core.permissions import Role
from sojourn.dialogue.models import RuleSetVersion
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.people.tests.factories import make_staff
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.taxonomy import define_need

RULES = [rule("itch", {"events": ["content.viewed"]}, [{"do": "send", "channel": "email", "content": "itch-1"}],
              condition="profile.needs.itch >= 0.0")]


def signed_in(client, user):
    client.force_login(user)
    return client


def test_rules_are_checked_while_typing_saved_reviewed_and_diffed(client, cast, program):
    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"}, position=0)
    reviewer = make_staff("mlr@sponsor.example", Role.CONTENT_REVIEWER, program)
    stock_library(program, RULES)
    author = signed_in(client, cast.admin)
    assert author.post("/console/dialogue/rules/", {"name": "main"}).status_code == 302
    checked = author.post("/console/dialogue/rules/main/check/",
                          {"rules": json.dumps([dict(RULES[0], condition="profile.needs.itchy > 1.0")])})
    assert checked.status_code == 200
    assert "rules[0].condition" in checked.content.decode() and "line 1, column 15" in checked.content.decode()
    assert "unknown field &#x27;itchy&#x27;" in checked.content.decode()
    broken = author.post("/console/dialogue/rules/main/check/", {"rules": '[{"key": "a",'})
    assert "line 1, column 14" in broken.content.decode()
    fine = author.post("/console/dialogue/rules/main/check/", {"rules": json.dumps(RULES)})
    assert "No problems: these rules compile." in fine.content.decode()
    assert not RuleSetVersion.objects.exists()  # checking writes nothing
    refused = author.post("/console/dialogue/rules/main/", {"rules": "[1, 2"})
    assert refused.status_code == 422 and not RuleSetVersion.objects.exists()
    assert author.post("/console/dialogue/rules/main/", {"rules": json.dumps(RULES)}).status_code == 302
    author.post("/console/dialogue/rules/main/v1/review/", {"step": "submit"})
    page = author.post("/console/dialogue/rules/main/v1/review/", {"step": "approve"}, follow=True)
    assert "Whoever wrote or submitted a version cannot approve it." in page.content.decode()
    client.logout()
    signed_in(client, reviewer).post("/console/dialogue/rules/main/v1/review/", {"step": "approve"})
    assert RuleSetVersion.objects.get(number=1).status == "live"
    client.logout()
    signed_in(client, cast.admin).post("/console/dialogue/rules/main/", {"rules": json.dumps(
        [dict(RULES[0], caps={"email": {"day": 1}})])})
    diff = client.get("/console/dialogue/rules/main/?diff=2").content.decode()
    assert '+++ v2' in diff and '+    &quot;caps&quot;: {' in diff
    dry = client.get("/console/dialogue/rules/main/v2/dry-run/?days=7")
    assert dry.status_code == 200 and "Nothing was written." in dry.content.decode()
    assert client.get("/console/dialogue/rules/main/v2/dry-run/?days=900").status_code == 422


def test_nurses_see_no_rules_and_monitors_show_only_their_markets(client, cast, program, active_patient):
    signed_in(client, cast.nurse_de)
    assert client.get("/console/dialogue/rules/").status_code == 403
    assert client.get("/console/dialogue/agenda/").status_code == 403
    client.logout()
    live_rules(program, [rule("hello", {"events": ["content.viewed"]},
                              [{"do": "send", "channel": "email", "content": "hello"}])])
    record_events(SYSTEM, [{"client_id": "c1", "type": "content.viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"content": "x"}}], source="test")
    OutboxMessage.objects.update(status="dead", last_error="provider answered 550")
    page = signed_in(client, cast.admin).get("/console/dialogue/outbox/?status=dead").content.decode()
    assert active_patient.pseudonym in page and "provider answered 550" in page
    assert re.search(r'data-count="dead">dead: 1<', page)
    manager = make_staff("pm.gb@sponsor.example", Role.PROGRAM_MANAGER, program, ("GB",))
    client.logout()
    other = signed_in(client, manager).get("/console/dialogue/outbox/").content.decode()
    assert active_patient.pseudonym not in other  # a German patient, not in this manager's markets


def test_the_timeline_shows_events_and_which_rule_fired_why(client, cast, program, active_patient):
    live_rules(program, [rule("hello", {"events": ["content.viewed"]},
                              [{"do": "send", "channel": "email", "content": "hello"}],
                              condition="event.data.content == 'welcome' && profile.engagement != 'lapsed'")])
    record_events(SYSTEM, [{"client_id": "t1", "type": "content.viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"content": "welcome"}}], source="test")
    page = signed_in(client, cast.nurse_de).get(f"/console/dialogue/patients/{active_patient.pseudonym}/timeline/")
    text = page.content.decode()
    assert page.status_code == 200
    # the German nurse reads her console in German
    assert "content.viewed" in text and "Regel hello hat ausgelöst (v1)" in text
    assert "event.data.content = welcome" in text and "send (email): queued" in text
    client.logout()
    assert signed_in(client, cast.nurse_gb).get(
        f"/console/dialogue/patients/{active_patient.pseudonym}/timeline/").status_code == 404


def test_the_timeline_tells_events_in_the_readers_words_never_as_python_values(client, cast, program, active_patient):
    from sojourn.consent.portal import patient_actor
    from sojourn.questionnaires.answers import response_items
    from sojourn.questionnaires.services.definitions import definition
    from sojourn.questionnaires.services.responses import save_response
    from sojourn.questionnaires.tests.factories import approved_instrument

    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch", "de": "Juckreiz"}, position=0)
    who5 = approved_instrument(program, "who-5")
    save_response(actor=patient_actor(active_patient), patient=active_patient, questionnaire=who5,
                  items=response_items(definition(who5), {f"who5-{n}": ["3"] for n in range(1, 6)}),
                  source="portal", complete=True)
    record_events(SYSTEM, [{"client_id": "r1", "type": "content.rated", "patient": active_patient.pseudonym,
                            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
                            "data": {"content": "itch-tips", "needs": ["itch"], "channel": "web", "helpful": False}}],
                  source="test")
    page = signed_in(client, cast.nurse_de).get(f"/console/dialogue/patients/{active_patient.pseudonym}/timeline/")
    text = re.sub(r"<[^>]+>", "", page.content.decode())
    assert "{'" not in text and "['" not in text and "scores=" not in text and "needs=" not in text
    assert "Fragebogen beantwortet" in text and "WHO-5-Fragebogen zum Wohlbefinden" in text
    assert "Wohlbefinden (0–100): 60" in text
    assert "Klinische Flags" not in text  # a raw score of 15 raises none
    save_response(actor=patient_actor(active_patient), patient=active_patient, questionnaire=who5,
                  items=response_items(definition(who5), {f"who5-{n}": ["1"] for n in range(1, 6)}),
                  source="portal", complete=True)
    page = signed_in(client, cast.nurse_de).get(f"/console/dialogue/patients/{active_patient.pseudonym}/timeline/")
    text = re.sub(r"<[^>]+>", "", page.content.decode())
    assert "Klinische Flags: Geringes Wohlbefinden (WHO-5-Rohwert unter 13)" in text
    assert "who5_poor_wellbeing" not in text
    assert "Inhalt bewertet" in text and "Bedarf: Juckreiz" in text and "Hilfreich: Nein" in text


def test_a_dry_run_names_sample_patients_and_says_in_words_what_each_rule_would_do(
        client, cast, program, active_patient):
    now = timezone.now()
    record_events(SYSTEM, [{"client_id": f"d{n}", "type": "content.viewed", "patient": active_patient.pseudonym,
                            "occurred_at": (now - timedelta(hours=n + 1)).isoformat(), "data": {"content": "tip"}}
                           for n in range(2)], source="test")
    live_rules(program, [
        rule("tip-email", {"events": ["content.viewed"]}, [{"do": "send", "channel": "email", "content": "tip"}],
             caps={"email": {"day": 1}}),
        rule("never", {"events": ["content.viewed"]}, [{"do": "send", "channel": "web", "content": "tip"}],
             condition="event.data.content == 'something else'")])
    url = "/console/dialogue/rules/main/v1/dry-run/?days=7"
    page = signed_in(client, cast.admin).get(url).content.decode()
    assert active_patient.pseudonym in page.split("Sample patients", 1)[1]  # the one patient the rule fired for
    for raw in ("by_rule", "skipped_because", "by_action", "{'", "send:skipped", "cap: 1 email a day"):
        assert raw not in page
    tip = page.split('data-rule="tip-email"', 1)[1].split("</tr>", 1)[0]
    assert "Would fire 2 times, for 1 patient." in tip
    assert "Send content (Email): 1 would go ahead, 1 skipped" in tip
    assert "Daily limit reached: at most 1 a day by Email. (1)" in tip
    assert f'<a href="/console/patients/{active_patient.pseudonym}/">{active_patient.pseudonym}</a>' in tip
    never = page.split('data-rule="never"', 1)[1].split("</tr>", 1)[0]
    assert "Would not fire in the last 7 days." in never and active_patient.pseudonym not in never
    client.logout()
    agency = make_staff("agency@sponsor.example", Role.AGENCY_USER, program, language="de")
    german = signed_in(client, agency).get(url).content.decode()  # writes rules, may not open patients
    tip = german.split('data-rule="tip-email"', 1)[1].split("</tr>", 1)[0]
    assert "Tageslimit erreicht: höchstens 1 pro Tag per E-Mail. (1)" in tip and "Würde 2-mal greifen" in tip
    assert active_patient.pseudonym in tip and "/console/patients/" not in tip
