"""Writing rules: every problem with where it is, four-eyes review, one live version, history kept."""

from __future__ import annotations

import pytest

from sojourn.content.tests.factories import stock_library
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.dialogue.models import AgendaItem, RuleSetVersion
from sojourn.dialogue.services.rulesets import (
    approve,
    check_rules,
    create_rule_set,
    retire,
    return_to_draft,
    save_draft,
    submit_for_review,
)
from sojourn.dialogue.tests.factories import SYSTEM, rule
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.tracking.services.taxonomy import define_need, define_stage

GOOD = [rule("itch", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "itch-1"}],
             condition="profile.needs.itch >= 0.6")]


@pytest.fixture
def shaped(program):
    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"}, position=0)
    define_stage(actor=SYSTEM, program=program, code="diagnosis", labels={"en": "Diagnosis"}, position=0)
    stock_library(program, GOOD)
    return program


def test_every_problem_is_reported_with_where_it_is(shaped):
    rules = [
        rule("itch", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "itch-1"}],
             condition="profile.needs.itch >= 0.6 &&\n  profile.needs.itchy > 0.2"),
        rule("itch", {"events": ["content.exploded"]}, [{"do": "set_stage", "stage": "remission"}]),
        rule("Bad Key", {"after": "content.viewed", "delay": "3 days"},
             [{"do": "send", "channel": "pigeon", "content": "x"}, {"do": "dance"}],
             caps={"sms": {"month": 4}}, active_from="2026-02-30"),
        rule("follow", {"events": ["content.viewed"]}, [{"do": "follow_up", "rule": "nowhere", "delay": "24h"}]),
        rule("typed", {"events": ["call.completed"]}, [{"do": "set_flag", "flag": "x"}],
             condition="event.data.outcome == 3 || event.data.minutes > 2"),
    ]
    problems = [(p.where, p.line, p.column, p.message) for p in check_rules(shaped, rules)]
    assert ("rules[0].condition", 2, 17,
            "unknown field 'itchy' of profile.needs (known: itch)") in problems
    assert ("rules[1].key", None, None, "itch is used by another rule") in problems
    assert ("rules[1].trigger.events", None, None, "content.exploded is not an event type of this program") in problems
    wheres = {p[0] for p in problems}
    assert {"rules[1].actions[0]", "rules[2].key", "rules[2].trigger.delay", "rules[2].actions[0]",
            "rules[2].actions[1].do", "rules[2].caps.sms", "rules[2].active_from", "rules[3].actions[0].rule"} <= wheres
    assert ("rules[4].condition", 1, 20, "string is never equal to int") in problems
    assert ("rules[4].condition", 1, 39,
            "unknown field 'minutes' of event.data (known: duration_s, needs, outcome, task)") in problems
    rule_set = create_rule_set(actor=SYSTEM, program=shaped, name="main")
    with pytest.raises(InvalidInput) as refused:
        save_draft(actor=SYSTEM, rule_set=rule_set, rules=rules)
    detail = refused.value.details[0]
    assert (detail.field, detail.line, detail.column) == ("rules[0].condition", 2, 17)
    assert not RuleSetVersion.objects.exists()
    assert check_rules(shaped, "not a list")[0].where == "rules"


def test_a_version_goes_live_only_after_someone_else_reviews_it(shaped, cast):
    author = actor_for_user(cast.admin)
    mlr = make_staff("mlr@sponsor.example", Role.CONTENT_REVIEWER, shaped)
    reviewer = actor_for_user(mlr)
    with pytest.raises(AccessDenied):
        create_rule_set(actor=actor_for_user(cast.nurse_de), program=shaped, name="main")
    rule_set = create_rule_set(actor=author, program=shaped, name="main")
    first = submit_for_review(actor=author, version=save_draft(actor=author, rule_set=rule_set, rules=GOOD))
    with pytest.raises(AccessDenied, match="cannot approve"):
        approve(actor=author, version=first)
    returned = return_to_draft(actor=reviewer, version=first, comment="Cap the texts.")
    assert returned.status == "draft" and returned.review_comment == "Cap the texts."
    capped = [dict(GOOD[0], caps={"sms": {"day": 1}})]
    first = submit_for_review(actor=author, version=save_draft(actor=author, rule_set=rule_set, rules=capped))
    live = approve(actor=reviewer, version=first)
    assert live.status == "live" and live.reviewer_id == mlr.pk
    # a new draft is a new version; the live one is untouched until the next approval retires it
    second = save_draft(actor=author, rule_set=rule_set, rules=[
        *GOOD, rule("stage", {"events": ["content.viewed"]}, [{"do": "set_stage", "stage": "diagnosis"}])])
    assert second.number == 2 and RuleSetVersion.objects.get(pk=live.pk).rules == capped
    approve(actor=reviewer, version=submit_for_review(actor=author, version=second))
    assert list(RuleSetVersion.objects.order_by("number").values_list("number", "status")) == [(1, "retired"),
                                                                                              (2, "live")]
    with pytest.raises(Conflict):
        approve(actor=reviewer, version=RuleSetVersion.objects.get(number=1))
    actions = list(AuditEntry.objects.filter(action__startswith="rule_set.").values_list("action", flat=True))
    assert actions.count("rule_set.live") == 2 and "rule_set.returned" in actions


def test_retiring_the_live_version_stops_it_and_cancels_its_planned_steps(shaped, cast):
    from django.utils import timezone

    from sojourn.consent.tests.factories import enroll

    reviewer = actor_for_user(make_staff("mlr@sponsor.example", Role.CONTENT_REVIEWER, shaped))
    rule_set = create_rule_set(actor=SYSTEM, program=shaped, name="main")
    live = approve(actor=reviewer, version=submit_for_review(
        actor=SYSTEM, version=save_draft(actor=SYSTEM, rule_set=rule_set, rules=GOOD)))
    patient, _record = enroll(shaped, "DE")
    now = timezone.now()
    AgendaItem.objects.create(program=shaped, patient=patient, rule_set=rule_set, rule_key="itch", kind="after",
                              due_at=now, idempotency_key="k1", created_at=now)
    retire(actor=reviewer, version=live)
    assert RuleSetVersion.objects.get(pk=live.pk).status == "retired"
    assert AgendaItem.objects.get().status == "cancelled"
    assert AuditEntry.objects.get(action="rule_set.retired").after == {"version": 1, "status": "retired",
                                                                       "cancelled_steps": 1}
    # Retiring it again is refused, and cancels nothing planned since.
    AgendaItem.objects.create(program=shaped, patient=patient, rule_set=rule_set, rule_key="itch", kind="after",
                              due_at=now, idempotency_key="k2", created_at=now)
    with pytest.raises(Conflict):
        retire(actor=reviewer, version=live)
    assert AgendaItem.objects.get(idempotency_key="k2").status != "cancelled"


def test_the_command_line_checks_a_rule_file_and_dry_runs_a_version(shaped, tmp_path):
    import json

    from django.core.management import CommandError, call_command

    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps([dict(GOOD[0], condition="profile.needs.itchy > 1.0")]))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("rules", "check", str(bad), "--program", shaped.slug)
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(CommandError, match=r"broken\.json:1: not valid JSON or YAML"):
        call_command("rules", "check", str(broken), "--program", shaped.slug)
    from io import StringIO

    out = StringIO()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    call_command("rules", "check", str(good), "--program", shaped.slug, stdout=out)
    assert "1 rules: no problems" in out.getvalue()
    rule_set = create_rule_set(actor=SYSTEM, program=shaped, name="main")
    save_draft(actor=SYSTEM, rule_set=rule_set, rules=GOOD)
    call_command("rules", "dry-run", "--program", shaped.slug, "--rule-set", "main", "--json", stdout=out)
    assert '"fired": 0' in out.getvalue()
    with pytest.raises(CommandError, match="Replay from 1 to 90 days"):
        call_command("rules", "dry-run", "--program", shaped.slug, "--rule-set", "main", "--days", "400")


def test_rules_may_send_only_approved_content_on_a_channel_it_is_made_for(shaped):
    from sojourn.content.models import ContentVersion
    from sojourn.content.services.library import create_item
    from sojourn.content.services.review import withdraw
    from sojourn.content.tests.factories import approved_item, author, reviewer

    create_item(actor=author(shaped), program=shaped, code="draft-only", kind="tip", title="x")
    approved_item(shaped, "call-guide", "call_script", {"en-GB": {"title": "Call", "body": "Ask how it goes."}})
    rules = [rule("a", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "draft-only"}]),
             rule("b", {"events": ["content.viewed"]}, [{"do": "send", "channel": "email", "content": "call-guide"}]),
             rule("c", {"events": ["content.viewed"]}, [{"do": "nurse_task", "reason": "x", "script": "itch-1"}]),
             rule("d", {"events": ["content.viewed"]}, [{"do": "nurse_task", "reason": "x", "script": "call-guide"}])]
    problems = {p.where: p.message for p in check_rules(shaped, rules)}
    assert problems == {
        "rules[0].actions[0]": "content draft-only has no approved, unexpired version in the content library",
        "rules[1].actions[0]": "content call-guide cannot go on email (it may go on phone)",
        "rules[2].actions[0]": "content itch-1 cannot go on phone (it may go on web, email, sms, print)"}
    rule_set = create_rule_set(actor=SYSTEM, program=shaped, name="main")
    draft = save_draft(actor=SYSTEM, rule_set=rule_set, rules=GOOD)
    submitted = submit_for_review(actor=SYSTEM, version=draft)
    withdraw(actor=reviewer(shaped), version=ContentVersion.objects.get(item__code="itch-1"), reason="recall")
    with pytest.raises(InvalidInput) as error:  # withdrawn between writing and approval
        approve(actor=SYSTEM, version=submitted)
    assert "itch-1 has no approved" in error.value.message


def test_a_questionnaire_is_asked_on_the_page_or_by_text_message(shaped):
    from sojourn.questionnaires.tests.factories import approved_instrument

    who5 = approved_instrument(shaped, "who-5")
    asks = [rule("ask", {"events": ["content.viewed"]},
                 [{"do": "ask_questionnaire", "questionnaire": who5.name, "channel": "email"}])]
    assert [p.message for p in check_rules(shaped, asks)] == [
        "a questionnaire is asked on the personal page (web) or by text message (sms)"]
