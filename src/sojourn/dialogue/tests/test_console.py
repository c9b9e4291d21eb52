"""Console: rules checked while typing, saved, reviewed by someone else, diffed and dry-run; the agenda
and outbox monitors; a patient's timeline saying which rule fired and why."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.utils import timezone

from sojourn.channels.models import OutboxMessage
from sojourn.consent.tests.test_withdrawal import active_patient  # noqa: F401  (fixture)
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
    assert "Someone other than the author must approve." in page.content.decode()
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


def test_nurses_see_no_rules_and_monitors_show_only_their_markets(client, cast, program, active_patient):  # noqa: F811
    signed_in(client, cast.nurse_de)
    assert client.get("/console/dialogue/rules/").status_code == 404
    assert client.get("/console/dialogue/agenda/").status_code == 404
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


def test_the_timeline_shows_events_and_which_rule_fired_why(client, cast, program, active_patient):  # noqa: F811
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
