"""Rule sets for tests: written, reviewed and live in one call, with approved content for what they send."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sojourn.content.tests.factories import stock_library
from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.dialogue.models import RuleSetVersion
from sojourn.dialogue.services.rulesets import approve, create_rule_set, save_draft, submit_for_review

SYSTEM = Actor.system("test")


def live_rules(program: Program, rules: list[dict[str, Any]], name: str = "main") -> RuleSetVersion:
    from sojourn.dialogue.models import RuleSet

    stock_library(program, rules)
    rule_set = RuleSet.objects.filter(program=program, name=name).first() or \
        create_rule_set(actor=SYSTEM, program=program, name=name)
    draft = save_draft(actor=SYSTEM, rule_set=rule_set, rules=rules)
    return approve(actor=SYSTEM, version=submit_for_review(actor=SYSTEM, version=draft))


def rule(key: str, trigger: dict[str, Any], actions: list[dict[str, Any]], condition: str = "true",
         **more: Any) -> dict[str, Any]:
    return {"key": key, "name": key.replace("-", " "), "trigger": trigger, "condition": condition,
            "actions": actions, **more}


# 10:00 UTC is 11:00 in Berlin: inside the German market's contact hours.
DAY = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)


def viewed(patient, client_id, at, needs=("itch",), content="itch-tips"):
    return {"client_id": client_id, "type": "content.viewed", "patient": patient.pseudonym,
            "occurred_at": at.isoformat(), "data": {"content": content, "needs": list(needs)}}
