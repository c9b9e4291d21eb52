"""A program's rule set from its folder's rules.yaml, written by the program manager and approved
by the reviewer through the rule-set services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from sojourn.core.models import Program
from sojourn.dialogue.models import RuleSet, RuleSetVersion
from sojourn.dialogue.services.rulesets import approve, create_rule_set, save_draft, submit_for_review
from sojourn.people.queries import actor_for_user


def define_dialogue(program: Program, name: str, rules: list[dict[str, Any]], author_email: str,
                    reviewer_email: str) -> RuleSetVersion:
    """The program's live rule set (written once; a second run changes nothing)."""
    users = get_user_model().objects
    author = actor_for_user(users.get(username=author_email))
    reviewer = actor_for_user(users.get(username=reviewer_email))
    rule_set = RuleSet.objects.filter(program=program, name=name).first()
    if rule_set is None:
        rule_set = create_rule_set(actor=author, program=program, name=name)
    live = rule_set.versions.filter(status="live").first()
    if live is not None:
        return live
    draft = save_draft(actor=author, rule_set=rule_set, rules=rules)
    return approve(actor=reviewer, version=submit_for_review(actor=author, version=draft))
