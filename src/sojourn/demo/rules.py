"""The demo's dialogue: the program's own event types (refills, treatment switches) and its rule set,
written by the program manager and approved by the reviewer. Onboarding, tailoring by need, a nurse
call for high psychosocial need, the printed magazine per stage, stage moves, refill and missed-dose
reminders, and a weekly look for patients who are drifting away."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from sojourn.core.models import Program
from sojourn.dialogue.models import RuleSet, RuleSetVersion
from sojourn.dialogue.services.rulesets import approve, create_rule_set, save_draft, submit_for_review
from sojourn.people.queries import actor_for_user

RULE_SET = "companion"
# The article that answers each need of the needs analysis, and the short tip that follows it.
NEED_ARTICLES = {
    "itch": ("itch-relief", "itch-tip"), "sleep": ("sleep-and-skin", "sleep-tip"),
    "flare_management": ("flare-plan", "flare-tip"),
    "treatment_knowledge": ("how-treatment-works", "treatment-tip"),
    "side_effects": ("side-effects-what-to-watch", "side-effects-tip"),
    "injection_confidence": ("injection-step-by-step", "injection-tip"),
    "adherence": ("staying-on-track", "adherence-tip"), "psychosocial": ("living-with-psoriasis", "psychosocial-tip"),
    "doctor_dialogue": ("talking-to-your-doctor", "doctor-tip"), "lifestyle": ("everyday-skin-care", "lifestyle-tip"),
    "practical_access": ("costs-and-support", "access-tip"),
}
STAGE_FEATURES = {"diagnosis": "magazine-diagnosis", "treatment_initiation": "magazine-starting",
                  "daily_management": "magazine-everyday", "switching": "magazine-switching"}
HIGH_NEED = 0.6


def _rule(key: str, name: str, trigger: dict[str, Any], condition: str, actions: list[dict[str, Any]],
          **more: Any) -> dict[str, Any]:
    return {"key": key, "name": name, "trigger": trigger, "condition": condition, "actions": actions, **more}


def companion_rules() -> list[dict[str, Any]]:
    needs_done = "event.data.questionnaire == 'psoriasis-needs'"
    rules = [
        # Onboarding: welcome, the needs analysis and WHO-5 on the page, a text the next day, a nudge
        # after a week for those who have not looked, WHO-5 again at week 12.
        _rule("welcome", "Welcome and the needs analysis", {"events": ["enrollment.completed"]}, "true",
              [{"do": "send", "channel": "email", "content": "welcome-email"},
               {"do": "ask_questionnaire", "questionnaire": "psoriasis-needs", "channel": "web"},
               {"do": "ask_questionnaire", "questionnaire": "who-5", "channel": "web"},
               {"do": "send", "channel": "web", "content": "first-weeks-checklist"}], priority=100),
        _rule("getting-started-text", "A text the day after enrolling",
              {"after": "enrollment.completed", "delay": "24h"}, "'contact_sms' in consents.purposes",
              [{"do": "send", "channel": "sms", "content": "getting-started-sms"}]),
        _rule("week-one-nudge", "A nudge after a quiet first week", {"after": "enrollment.completed", "delay": "168h"},
              "profile.interactions_30d < 2", [{"do": "send", "channel": "email", "content": "week-one-email"}]),
        _rule("week-12-wellbeing", "WHO-5 again at week 12", {"after": "enrollment.completed", "delay": "2016h"},
              "true", [{"do": "ask_questionnaire", "questionnaire": "who-5", "channel": "web"}]),
        # Psychosocial need: a nurse calls within two days.
        _rule("psychosocial-call", "A nurse call for high psychosocial need", {"events": ["questionnaire.completed"]},
              f"({needs_done} && profile.needs.psychosocial >= 0.75) || (event.data.questionnaire == 'who-5' && "
              "'wellbeing' in event.data.scores && event.data.scores.wellbeing <= 28.0)",
              [{"do": "nurse_task", "reason": "high psychosocial need", "due_in": "48h", "script": "psychosocial-call"},
               {"do": "send", "channel": "web", "content": "living-with-psoriasis"}], priority=90),
        # The WHO-5 manual: a raw score below 13 is a reason to screen for depression. The PHQ-9 that
        # follows raises its own flags (item 9: an urgent task for a nurse whatever the rules say).
        _rule("depression-screen", "PHQ-9 after a WHO-5 below 13", {"events": ["questionnaire.completed"]},
              "event.data.questionnaire == 'who-5' && 'who5_poor_wellbeing' in event.data.flags",
              [{"do": "ask_questionnaire", "questionnaire": "phq-9", "channel": "web"}]),
        # Stages: the first refill starts treatment; twelve weeks on it is daily management; a switch.
        _rule("stage-initiation", "First refill: treatment initiation", {"events": ["medication.refilled"]},
              "profile.stage == 'diagnosis'", [{"do": "set_stage", "stage": "treatment_initiation"}]),
        _rule("stage-daily", "Twelve weeks on treatment: daily management", {"events": ["medication.refilled"]},
              "profile.stage in ['treatment_initiation', 'switching'] && profile.days_in_stage >= 84",
              [{"do": "set_stage", "stage": "daily_management"}]),
        _rule("stage-switching", "Treatment switched", {"events": ["treatment.switched"]}, "true",
              [{"do": "set_stage", "stage": "switching"},
               {"do": "send", "channel": "web", "content": "switching-checklist"}]),
        # Medication: refill reminders a week before the pack runs out; missed doses.
        _rule("refill-reminder", "Refill reminder three weeks after a refill",
              {"after": "medication.refilled", "delay": "504h"}, "true",
              [{"do": "send", "channel": "sms", "content": "refill-sms"}], caps={"sms": {"day": 1, "week": 3}}),
        _rule("refill-reminder-email", "Refill reminder by email when there is no text consent",
              {"after": "medication.refilled", "delay": "504h"}, "!('contact_sms' in consents.purposes)",
              [{"do": "send", "channel": "email", "content": "refill-email"}], caps={"email": {"day": 1, "week": 3}}),
        _rule("missed-dose", "Missed dose", {"events": ["medication.missed"]}, "true",
              [{"do": "send", "channel": "sms", "content": "missed-dose-sms"}], caps={"sms": {"day": 1, "week": 3}}),
        _rule("adherence-call", "A nurse call after repeated missed doses", {"events": ["medication.missed"]},
              "profile.needs.adherence >= 0.7 && profile.engagement in ['low', 'lapsed']",
              [{"do": "nurse_task", "reason": "adherence support", "due_in": "72h", "script": "adherence-call"}],
              caps={"phone": {"day": 1, "week": 1}}),
        # Drifting away: once a week, patients who have gone quiet hear from us.
        _rule("come-back", "Patients drifting away", {"schedule": {"at": "10:00", "days": [2]}},
              "patient.days_enrolled > 14 && profile.engagement in ['low', 'lapsed', 'new']",
              [{"do": "send", "channel": "email", "content": "we-miss-you-email"},
               {"do": "send", "channel": "sms", "content": "come-back-sms"}],
              caps={"email": {"day": 1, "week": 2}, "sms": {"day": 1, "week": 2}}),
    ]
    for stage, feature in STAGE_FEATURES.items():
        rules.append(_rule(f"magazine-{stage.replace('_', '-')}", f"Magazine feature for {stage.replace('_', ' ')}",
                           {"events": ["stage.changed"]}, f"event.data.stage == '{stage}'",
                           [{"do": "print", "content": feature}]))
    for need, (article, tip) in NEED_ARTICLES.items():
        key = need.replace("_", "-")
        rules.append(_rule(f"tailor-{key}", f"Article for a high {need.replace('_', ' ')} need",
                           {"events": ["questionnaire.completed"]},
                           f"{needs_done} && profile.needs.{need} >= {HIGH_NEED}",
                           [{"do": "send", "channel": "web", "content": article}], priority=50))
        rules.append(_rule(f"tip-{key}", f"A tip after reading about {need.replace('_', ' ')}",
                           {"events": ["content.completed", "content.rated"]},
                           f"'{need}' in event.data.needs && profile.needs.{need} >= {HIGH_NEED}",
                           [{"do": "send", "channel": "email", "content": tip}], caps={"email": {"day": 1, "week": 2}}))
    return rules


def define_demo_dialogue(program: Program, author_email: str, reviewer_email: str) -> RuleSetVersion:
    """The program's event types and its live rule set (written once; a second run changes nothing)."""
    users = get_user_model().objects
    author = actor_for_user(users.get(username=author_email))
    reviewer = actor_for_user(users.get(username=reviewer_email))
    rule_set = RuleSet.objects.filter(program=program, name=RULE_SET).first()
    if rule_set is None:
        rule_set = create_rule_set(actor=author, program=program, name=RULE_SET)
    live = rule_set.versions.filter(status="live").first()
    if live is not None:
        return live
    draft = save_draft(actor=author, rule_set=rule_set, rules=companion_rules())
    return approve(actor=reviewer, version=submit_for_review(actor=author, version=draft))
