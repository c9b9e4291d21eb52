"""Events meet the live rules: decisions that explain themselves, messages in the outbox with consent,
caps and quiet hours checked, delayed steps on the agenda, state changes, and nothing after withdrawal."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from sojourn.channels.adapters import RECORDING
from sojourn.channels.models import OutboxMessage, RecordedDelivery
from sojourn.channels.services.delivery import deliver_due
from sojourn.consent.services.enrollment import verify_patient
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.consent.tests.factories import SELF, enroll, me
from sojourn.content.tests.factories import stock_library
from sojourn.core.models import AuditEntry
from sojourn.dialogue.models import AgendaItem, Decision, DialogueState, RuleSet
from sojourn.dialogue.services.agenda import run_due_agenda
from sojourn.dialogue.tests.factories import DAY, live_rules, rule, viewed
from sojourn.safety.clocks import Clocks
from sojourn.safety.models import Intake
from sojourn.tracking.models import PatientProfile
from sojourn.tracking.services.events import record_events

from .factories import SYSTEM

NIGHT = DAY.replace(hour=21, minute=30)  # 22:30 in Berlin: quiet hours until 08:00


@pytest.fixture(autouse=True)
def _recording_channels(settings):
    """Email and text messages land in the recording channel here: these tests are about deciding and
    delivering once, not about SMTP or an SMS provider (their own tests use those)."""
    settings.SOJOURN_CHANNEL_ADAPTERS = {"email": RECORDING, "sms": RECORDING}


def test_an_event_fires_the_rules_indexed_under_its_type_and_the_decision_says_why(
        program_needs, active_patient):
    live_rules(program_needs, [
        rule("itch-sms", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "itch-sms-1"}],
             condition="profile.needs.itch > 0.0 && 'contact_sms' in consents.purposes && event.data.content == "
                       "'itch-tips'"),
        rule("sleep-email", {"events": ["content.viewed"]}, [{"do": "send", "channel": "email", "content": "sleep"}],
             condition="profile.needs.sleep > 0.5"),
        rule("on-calls", {"events": ["call.completed"]}, [{"do": "send", "channel": "email", "content": "x"}]),
    ])
    result = record_events(SYSTEM, [viewed(active_patient, "v1", DAY - timedelta(minutes=5))], source="test",
                           now=DAY)
    event_id = result.accepted[0][1]
    decision = Decision.objects.get(patient=active_patient)
    assert decision.rule_key == "itch-sms" and decision.event_id == event_id
    assert decision.why["profile.needs.itch"] > 0 and decision.why["event.data.content"] == "itch-tips"
    assert decision.why["consents.purposes"] == sorted(decision.why["consents.purposes"])
    assert decision.outcomes == [{"do": "send", "result": "queued", "reason": "", "channel": "sms"}]
    message = OutboxMessage.objects.get(patient=active_patient)
    assert (message.channel, message.kind, message.payload, message.status) == ("sms", "content",
                                                                                 {"content": "itch-sms-1"}, "pending")
    assert message.decision_key == decision.key and message.due_at == DAY
    # the same event sent again is a duplicate: no second decision, no second message
    record_events(SYSTEM, [viewed(active_patient, "v1", DAY - timedelta(minutes=5))], source="test", now=DAY)
    assert Decision.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_caps_quiet_hours_and_consent_are_checked_when_deciding(program_needs, active_patient):
    live_rules(program_needs, [
        rule("sms", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "tip"}],
             caps={"sms": {"day": 1, "week": 3}}),
    ])
    record_events(SYSTEM, [viewed(active_patient, "n1", NIGHT - timedelta(minutes=1))], source="test", now=NIGHT)
    deferred = OutboxMessage.objects.get()
    # at 22:30 in Berlin a text waits for the end of quiet hours: 08:00 local is 07:00 UTC next day
    assert deferred.due_at == (NIGHT + timedelta(days=1)).replace(hour=7, minute=0)
    assert Decision.objects.get().outcomes[0]["result"] == "deferred"
    record_events(SYSTEM, [viewed(active_patient, "n2", NIGHT)], source="test", now=NIGHT + timedelta(minutes=1))
    capped = Decision.objects.order_by("pk").last()
    assert capped.outcomes[0] == {"do": "send", "result": "skipped", "reason": "cap: 1 sms a day", "channel": "sms"}
    assert OutboxMessage.objects.count() == 1
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=["contact_sms"], via="portal")
    assert OutboxMessage.objects.get().status == "cancelled"  # withdrawal cancelled what had not left
    record_events(SYSTEM, [viewed(active_patient, "n3", DAY + timedelta(days=3))], source="test",
                  now=DAY + timedelta(days=3))
    refused = Decision.objects.order_by("pk").last()
    assert refused.outcomes[0]["result"] == "skipped" and refused.outcomes[0]["reason"] == "no consent for contact_sms"


def test_a_rule_that_changed_nothing_leaves_no_decision_but_one_skipped_by_a_cap_does(
        program_needs, active_patient):
    live_rules(program_needs, [
        rule("mark", {"events": ["content.viewed"]}, [{"do": "set_flag", "flag": "reader"}]),
        rule("tip", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "tip"}],
             caps={"sms": {"day": 1, "week": 3}}),
    ])
    record_events(SYSTEM, [viewed(active_patient, "c1", DAY - timedelta(minutes=2))], source="test", now=DAY)
    record_events(SYSTEM, [viewed(active_patient, "c2", DAY - timedelta(minutes=1))], source="test", now=DAY)
    # The second view set no flag (set already) and sent no text (the day's one was sent): only the cap
    # tells the patient's timeline something, so only it is kept.
    assert list(Decision.objects.order_by("pk").values_list("rule_key", flat=True)) == ["mark", "tip", "tip"]
    assert Decision.objects.order_by("pk").last().outcomes[0]["reason"] == "cap: 1 sms a day"
    assert DialogueState.objects.get(patient=active_patient).flags == ["reader"]


def test_a_delayed_rule_waits_on_the_agenda_and_checks_its_condition_when_due(
        program_needs, active_patient):
    live_rules(program_needs, [
        rule("check-in", {"after": "content.viewed", "delay": "72h"},
             [{"do": "send", "channel": "email", "content": "how-are-you"}],
             condition="now - event.occurred_at >= duration('72h') && profile.engagement != 'lapsed'"),
    ])
    record_events(SYSTEM, [viewed(active_patient, "d1", DAY)], source="test", now=DAY)
    item = AgendaItem.objects.get()
    assert (item.kind, item.due_at, item.status) == ("after", DAY + timedelta(hours=72), "pending")
    assert not Decision.objects.exists()
    assert run_due_agenda(owner="w1", now=DAY + timedelta(hours=71))["claimed"] == 0
    report = run_due_agenda(owner="w1", now=DAY + timedelta(hours=72, minutes=1))
    assert (report["claimed"], report["fired"], report["done"]) == (1, 1, 1)
    assert AgendaItem.objects.get().status == "done"
    decision = Decision.objects.get()
    assert decision.agenda_item_id == item.pk and decision.why["event.occurred_at"].startswith(DAY.date().isoformat())
    assert OutboxMessage.objects.get().payload == {"content": "how-are-you"}
    assert run_due_agenda(owner="w1", now=DAY + timedelta(hours=80))["claimed"] == 0  # a second run does nothing


def test_actions_change_stage_flags_level_open_safety_referrals_and_nurse_tasks(
        program_needs, active_patient):
    live_rules(program_needs, [
        rule("phq9-item9", {"events": ["questionnaire.completed"]},
             [{"do": "refer_safety", "reason": "PHQ-9 item 9 answered above 0"},
              {"do": "nurse_task", "reason": "call within 24 hours", "due_in": "1h"},
              {"do": "set_stage", "stage": "daily_management"},
              {"do": "set_flag", "flag": "psychosocial"},
              {"do": "unlock_level", "level": 2},
              {"do": "follow_up", "rule": "after-call", "delay": "24h"}],
             condition="has(event.data.scores) && 'item9' in event.data.scores && event.data.scores['item9'] > 0.0"),
        rule("after-call", {"follow_up": True}, [{"do": "send", "channel": "email", "content": "support"}],
             condition="'psychosocial' in patient.flags && patient.content_level == 2"),
    ])
    answered = {"client_id": "q1", "type": "questionnaire.completed", "patient": active_patient.pseudonym,
                "occurred_at": DAY.isoformat(), "data": {"questionnaire": "phq-9", "scores": {"item9": 1.0}}}
    record_events(SYSTEM, [answered], source="platform", now=DAY, allow_internal=True)
    intake = Intake.objects.get(patient=active_patient)
    assert (intake.reason, intake.day_zero) == ("PHQ-9 item 9 answered above 0", DAY)
    assert intake.due_at == Clocks.for_pack(active_patient.market.pack).forward_due(DAY) > DAY
    assert AuditEntry.objects.filter(action="safety.intake_recorded", subject_id=active_patient.pseudonym).exists()
    task = OutboxMessage.objects.get(kind="nurse_task")
    assert task.channel == "phone" and task.due_at == DAY  # in the queue at once, to be called within the hour
    assert task.payload["call_by"] == (DAY + timedelta(hours=1)).isoformat()
    assert PatientProfile.objects.get(patient=active_patient).stage.code == "daily_management"
    state = DialogueState.objects.get(patient=active_patient)
    assert state.flags == ["psychosocial"] and state.content_level == 2
    follow_up = AgendaItem.objects.get(kind="follow_up")
    assert follow_up.rule_key == "after-call" and follow_up.due_at == DAY + timedelta(hours=24)
    run_due_agenda(owner="w1", now=DAY + timedelta(hours=25))
    assert OutboxMessage.objects.filter(kind="content", payload={"content": "support"}).count() == 1
    # the same answers recorded again change nothing
    record_events(SYSTEM, [answered], source="platform", now=DAY, allow_internal=True)
    assert Intake.objects.count() == 1 and OutboxMessage.objects.filter(kind="nurse_task").count() == 1


def test_withdrawing_everything_cancels_the_agenda_and_the_outbox(program_needs, active_patient):
    live_rules(program_needs, [
        rule("now", {"events": ["content.viewed"]}, [{"do": "send", "channel": "email", "content": "a"}]),
        rule("later", {"after": "content.viewed", "delay": "24h"}, [{"do": "send", "channel": "email",
                                                                    "content": "b"}]),
    ])
    record_events(SYSTEM, [viewed(active_patient, "w1", DAY)], source="test", now=DAY)
    assert OutboxMessage.objects.get().status == "pending" and AgendaItem.objects.get().status == "pending"
    withdraw_consent(actor=me(active_patient), patient=active_patient, purposes=None, via="portal")
    assert OutboxMessage.objects.get().status == "cancelled" and AgendaItem.objects.get().status == "cancelled"
    assert run_due_agenda(owner="w", now=DAY + timedelta(days=2))["claimed"] == 0
    assert deliver_due(owner="w", now=DAY + timedelta(days=2)).claimed == 0
    assert not RecordedDelivery.objects.exists()


def test_the_outbox_delivers_once_and_checks_consent_again_at_send_time(program_needs, active_patient):
    from sojourn.consent.models import ContactPreferences

    live_rules(program_needs, [
        rule("both", {"events": ["content.viewed"]}, [{"do": "send", "channel": "email", "content": "a"},
                                                      {"do": "send", "channel": "sms", "content": "b"}]),
    ])
    record_events(SYSTEM, [viewed(active_patient, "s1", DAY)], source="test", now=DAY)
    # the patient turns text messages off after the decision, before delivery
    ContactPreferences.objects.filter(patient=active_patient).update(channels=["web", "email"])
    report = deliver_due(owner="w1", now=DAY + timedelta(minutes=1))
    assert (report.claimed, report.sent, report.cancelled) == (2, 1, 1)
    assert list(RecordedDelivery.objects.values_list("channel", flat=True)) == ["email"]
    sms = OutboxMessage.objects.get(channel="sms")
    assert sms.status == "cancelled" and sms.last_error == "patient turned sms off"
    assert OutboxMessage.objects.get(channel="email").delivery_status == "sent"
    assert deliver_due(owner="w1", now=DAY + timedelta(minutes=2)).claimed == 0


class FlakyChannel:
    def deliver(self, messages, now):
        from sojourn.channels.adapters import Outcome

        return {m.pk: Outcome("temporary", error="provider answered 503") for m in messages}


def test_a_failing_channel_is_retried_with_backoff_then_dead_with_the_reason(
        program_needs, active_patient, settings):
    settings.SOJOURN_CHANNEL_ADAPTERS = {"email": "sojourn.dialogue.tests.test_engine.FlakyChannel"}
    live_rules(program_needs, [rule("e", {"events": ["content.viewed"]},
                                    [{"do": "send", "channel": "email", "content": "a"}])])
    record_events(SYSTEM, [viewed(active_patient, "f1", DAY)], source="test", now=DAY)
    moment, waits = DAY, []
    for _attempt in range(5):
        assert deliver_due(owner="w", now=moment).claimed == 1
        message = OutboxMessage.objects.get()
        if message.status == "dead":
            break
        waits.append(message.due_at - moment)
        moment = message.due_at
    assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    assert (message.status, message.attempts, message.last_error) == ("dead", 5, "provider answered 503")


def test_a_lease_that_expired_is_taken_over_and_the_first_worker_cannot_complete(
        program_needs, active_patient):
    from sojourn.core.services import queue

    live_rules(program_needs, [rule("e", {"events": ["content.viewed"]},
                                    [{"do": "send", "channel": "email", "content": "a"}])])
    record_events(SYSTEM, [viewed(active_patient, "l1", DAY)], source="test", now=DAY)
    ids = queue.claim(OutboxMessage, owner="slow", limit=10, lease=timedelta(seconds=30), now=DAY)
    assert len(ids) == 1
    assert deliver_due(owner="fast", now=DAY + timedelta(seconds=10)).claimed == 0  # still leased
    report = deliver_due(owner="fast", now=DAY + timedelta(seconds=31))
    assert report.sent == 1
    assert queue.complete(OutboxMessage, ids, owner="slow", now=DAY + timedelta(seconds=32)) == 0
    assert RecordedDelivery.objects.count() == 1


def test_a_dry_run_reports_what_a_version_would_do_and_writes_nothing(program_needs, active_patient):
    from sojourn.dialogue.models import RuleSet
    from sojourn.dialogue.services.dry_run import dry_run
    from sojourn.dialogue.services.rulesets import save_draft

    live_rules(program_needs, [rule("old", {"events": ["portal.page_viewed"]},
                                    [{"do": "send", "channel": "web", "content": "x"}])])
    now = timezone.now()
    record_events(SYSTEM, [viewed(active_patient, f"r{n}", now - timedelta(days=n, hours=1)) for n in range(3)],
                  source="test")
    counts = (Decision.objects.count(), OutboxMessage.objects.count(), AgendaItem.objects.count())
    rules = [
        rule("itch-sms", {"events": ["content.viewed"]}, [{"do": "send", "channel": "sms", "content": "tip"}],
             condition="'itch' in event.data.needs", caps={"sms": {"day": 1, "week": 2}}),
        rule("later", {"after": "content.viewed", "delay": "24h"}, [{"do": "set_flag", "flag": "x"}]),
    ]
    stock_library(program_needs, rules)
    draft = save_draft(actor=SYSTEM, rule_set=RuleSet.objects.get(), rules=rules)
    report = dry_run(actor=SYSTEM, version=draft, days=7)
    assert report.events == 4 and report.fired == 3  # three views (plus the enrollment event)
    assert report.by_action["send:skipped"] == 1 and report.skipped_because == {"cap: 2 sms a week": 1}
    assert report.by_channel["sms"] == 2 and report.by_market == {"DE": 3}
    assert report.by_action["later:scheduled"] == 3 and report.samples["itch-sms"] == [active_patient.pseudonym]
    assert (Decision.objects.count(), OutboxMessage.objects.count(), AgendaItem.objects.count()) == counts


def test_a_scheduled_rule_is_planned_once_a_day_in_the_patients_own_time(program_needs, active_patient):
    from sojourn.dialogue.services.agenda import plan_schedules

    live_rules(program_needs, [rule("morning", {"schedule": {"at": "09:00"}},
                                    [{"do": "send", "channel": "web", "content": "good-morning"}],
                                    condition="now.getHours(patient.time_zone) >= 9")])
    early = DAY.replace(hour=7, minute=30)  # 08:30 in Berlin: not yet
    assert plan_schedules(now=early) == 0 and not AgendaItem.objects.exists()
    assert plan_schedules(now=DAY) == 1  # 11:00 in Berlin
    assert plan_schedules(now=DAY + timedelta(hours=1)) == 0  # planned already today
    item = AgendaItem.objects.get()
    assert (item.kind, item.rule_key, item.patient_id) == ("schedule", "morning", active_patient.pk)
    assert run_due_agenda(owner="w", now=DAY + timedelta(minutes=1))["fired"] == 1
    assert OutboxMessage.objects.get().payload == {"content": "good-morning"}
    assert plan_schedules(now=DAY + timedelta(days=1)) == 1  # the next day, again


def test_a_scheduled_rule_sees_engagement_as_it_is_today_not_as_it_was_at_the_last_event(
        program_needs, active_patient):
    from sojourn.dialogue.services.agenda import plan_schedules

    live_rules(program_needs, [rule("come-back", {"schedule": {"at": "09:00"}},
                                    [{"do": "send", "channel": "web", "content": "come-back"}],
                                    condition="profile.engagement == 'lapsed'")])
    long_ago = DAY - timedelta(days=40)
    record_events(SYSTEM, [viewed(active_patient, f"v{n}", long_ago + timedelta(hours=n)) for n in range(3)],
                  source="test", now=long_ago + timedelta(hours=3))
    assert PatientProfile.objects.get(patient=active_patient).engagement == "high"  # as stored 40 days ago
    plan_schedules(now=DAY)
    run_due_agenda(owner="w", now=DAY + timedelta(minutes=1))
    decision = Decision.objects.get(rule_key="come-back")
    assert decision.why["profile.engagement"] == "lapsed"
    assert OutboxMessage.objects.get(patient=active_patient).payload == {"content": "come-back"}


def test_the_patients_data_export_holds_their_events_decisions_and_messages(program_needs, active_patient):
    from sojourn.consent.hooks import export_sections

    live_rules(program_needs, [rule("hello", {"events": ["content.viewed"]},
                                    [{"do": "send", "channel": "email", "content": "hello"}])])
    record_events(SYSTEM, [viewed(active_patient, "x1", DAY)], source="test", now=DAY)
    sections = export_sections(active_patient)
    assert sorted(e["type"] for e in sections["events"]) == ["content.viewed", "enrollment.completed"]
    assert sections["decisions"][0]["rule"] == "hello" and sections["decisions"][0]["outcomes"][0]["result"] == "queued"
    assert sections["messages"] == [{"channel": "email", "kind": "content", "about": "hello", "status": "pending",
                                     "due_at": DAY.isoformat(), "delivery": ""}]
    assert sections["needs"][0]["need"] == "itch"


def test_a_patients_decisions_are_found_on_their_events_their_delayed_steps_and_their_schedules(
        program_needs, active_patient, django_capture_on_commit_callbacks):
    """Decisions are found through the patient's events (the decision's own index by patient covers
    only those on no event): the timeline and the data export must still hold every one, and none of
    another patient's."""
    from sojourn.consent.hooks import export_sections
    from sojourn.dialogue.queries import decisions_of, timeline
    from sojourn.dialogue.services.agenda import plan_schedules
    with django_capture_on_commit_callbacks(execute=True):
        other, _record = enroll(program_needs, "DE", email="other@example.org")
    other = verify_patient(actor=SELF, patient=other,
                           code=re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1))
    live_rules(program_needs, [
        rule("hello", {"events": ["content.viewed"]}, [{"do": "send", "channel": "web", "content": "hello"}]),
        rule("check-in", {"after": "content.viewed", "delay": "24h"},
             [{"do": "send", "channel": "web", "content": "how-are-you"}]),
        rule("morning", {"schedule": {"at": "09:00"}}, [{"do": "send", "channel": "web", "content": "good-morning"}]),
    ])
    for patient in (active_patient, other):
        record_events(SYSTEM, [viewed(patient, f"v-{patient.pk}", DAY)], source="test", now=DAY)
    assert plan_schedules(now=DAY + timedelta(days=1)) == 2
    assert run_due_agenda(owner="w", now=DAY + timedelta(days=1, minutes=1))["fired"] == 4
    assert Decision.objects.count() == 6

    mine = decisions_of(active_patient)
    assert {d.patient_id for d in mine} == {active_patient.pk}
    assert mine[0].rule_key == "hello" and sorted(d.rule_key for d in mine[1:]) == ["check-in", "morning"]
    assert [d.event_id is None for d in mine if d.rule_key == "morning"] == [True]  # on no event
    newest = decisions_of(active_patient, newest=2)
    assert [d.pk for d in newest] == [d.pk for d in reversed(mine[1:])]
    moments = [m for m in timeline(active_patient) if m.kind == "decision"]
    assert sorted(m.title for m in moments) == ["check-in", "hello", "morning"]
    assert sorted(d["rule"] for d in export_sections(active_patient)["decisions"]) == ["check-in", "hello", "morning"]


def test_one_worker_plans_each_new_day_by_the_clock_it_plans_for(program_needs, active_patient):
    """A worker kept running (the simulation keeps one for the run) plans a scheduled rule again as
    soon as its clock reaches the next day, however few real seconds have passed."""
    import time_machine

    from sojourn.dialogue.worker import Worker

    live_rules(program_needs, [rule("morning", {"schedule": {"at": "09:00"}},
                                    [{"do": "send", "channel": "web", "content": "good-morning"}])])
    worker = Worker(batch=100)
    for day in range(3):
        with time_machine.travel(DAY + timedelta(days=day), tick=False):
            while worker.step():
                pass
            worker.step()  # the same minute again: planned already, nothing more
    assert worker.totals.planned == 3
    assert sorted(i.idempotency_key.rsplit(":", 1)[1] for i in AgendaItem.objects.filter(rule_key="morning")) == [
        (DAY + timedelta(days=d)).astimezone(zoneinfo.ZoneInfo(active_patient.time_zone)).date().isoformat()
        for d in range(3)]


def test_an_agenda_batch_the_database_was_too_busy_for_is_taken_again_without_spending_an_attempt(
        program_needs, active_patient, monkeypatch):
    from django.db import OperationalError

    from sojourn.dialogue.services import agenda

    live_rules(program_needs, [rule("ping", {"follow_up": True},
                                    [{"do": "send", "channel": "web", "content": "card"}])])
    AgendaItem.objects.create(program=program_needs, patient=active_patient,
                              rule_set=RuleSet.objects.get(program=program_needs), rule_key="ping", kind="follow_up",
                              due_at=DAY, idempotency_key="busy:1", created_at=DAY)
    execute = agenda._execute

    def busy(*args, **kwargs):
        execute(*args, **kwargs)  # the batch's effects are written, then the database gives up on it
        raise OperationalError("database is locked")

    monkeypatch.setattr(agenda, "_execute", busy)
    for _ in range(6):  # more times than a step may fail before it is dead
        report = run_due_agenda(owner="w", now=DAY + timedelta(minutes=1))
        assert (report["claimed"], report["contended"], report["done"]) == (1, 1, 0)
    item = AgendaItem.objects.get(idempotency_key="busy:1")
    assert (item.status, item.attempts, item.lease_owner) == ("pending", 0, "")
    assert item.last_error.startswith("busy: database is locked")
    assert not Decision.objects.filter(rule_key="ping").exists() and not OutboxMessage.objects.exists()

    def broken(*args, **kwargs):
        raise RuntimeError("the step itself fails")

    monkeypatch.setattr(agenda, "_execute", broken)
    with pytest.raises(RuntimeError):
        run_due_agenda(owner="w", now=DAY + timedelta(minutes=2))
    item.refresh_from_db()
    assert (item.status, item.attempts) == ("pending", 1)  # a real failure spends its attempt and backs off
    monkeypatch.setattr(agenda, "_execute", execute)
    assert run_due_agenda(owner="w", now=item.due_at + timedelta(seconds=1))["done"] == 1
    assert Decision.objects.filter(rule_key="ping").count() == 1 and OutboxMessage.objects.count() == 1


def test_an_outbox_batch_the_database_was_too_busy_to_check_is_taken_again_without_spending_an_attempt(
        program_needs, active_patient, monkeypatch):
    from django.db import OperationalError

    from sojourn.channels.services import delivery

    live_rules(program_needs, [rule("e", {"events": ["content.viewed"]},
                                    [{"do": "send", "channel": "email", "content": "a"}])])
    record_events(SYSTEM, [viewed(active_patient, "c1", DAY)], source="test", now=DAY)
    read = delivery._claimed_messages

    def busy(ids):
        raise OperationalError("database is locked")

    monkeypatch.setattr(delivery, "_claimed_messages", busy)
    for _ in range(6):  # more times than a message may fail before it is dead
        report = delivery.deliver_due(owner="w", now=DAY)
        assert (report.claimed, report.contended, report.sent, report.dead) == (1, 1, 0, 0)
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.due_at) == ("pending", 0, DAY)
    assert message.last_error.startswith("busy: database is locked")
    assert not RecordedDelivery.objects.exists()
    monkeypatch.setattr(delivery, "_claimed_messages", read)
    assert delivery.deliver_due(owner="w", now=DAY).sent == 1
    assert RecordedDelivery.objects.get().deliveries == 1
