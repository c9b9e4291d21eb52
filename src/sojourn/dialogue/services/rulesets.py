"""Writing rules: drafts checked as they are saved, review by a second person, one live version per
rule set. A version that left draft never changes; going live retires the previous one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.review import State, Step, Workflow, comment_text
from sojourn.core.services.audit import record_audit
from sojourn.dialogue.engine import program_shape
from sojourn.dialogue.models import RuleSet, RuleSetVersion
from sojourn.dialogue.rules import RuleProblem, RuleSetInvalid, compile_rules
from sojourn.dialogue.services.agenda import cancel_rule_set_steps

WORKFLOW: Workflow[RuleSetVersion] = Workflow(
    model=RuleSetVersion, subject_type="rule_set", edit=Permission.RULES_EDIT, review=Permission.RULES_REVIEW,
    scope=lambda v: (v.rule_set.program_id, None), subject_id=lambda v: v.rule_set.name, number=lambda v: v.number,
    authors=lambda v: {v.author_id}, states={"live": State.APPROVED}, stored={Step.APPROVE: "live"},
    actions={Step.APPROVE: "rule_set.live"}, related=("rule_set",))


def check_rules(program: Program, rules: Any) -> list[RuleProblem]:
    """Every problem of a rule set, for live validation while typing; [] when it would compile."""
    try:
        compile_rules(rules, program_shape(program.pk, with_content=True))
    except RuleSetInvalid as invalid:
        return invalid.problems
    return []


def _refuse(problems: list[RuleProblem]) -> InvalidInput:
    first = problems[0]
    return InvalidInput(str(first), field=first.where, details=[
        ErrorDetail(message=p.message, field=p.where, line=p.line, column=p.column) for p in problems])


def create_rule_set(*, actor: Actor, program: Program, name: str) -> RuleSet:
    actor.require(Permission.RULES_EDIT, program.pk)
    if RuleSet.objects.filter(program=program, name=name).exists():
        raise InvalidInput(_("There is already a rule set with this name."), field="name")
    with transaction.atomic():
        rule_set = RuleSet.objects.create(program=program, name=name, created_at=timezone.now())
        record_audit(actor=actor, action="rule_set.created", subject_type="rule_set", subject_id=name,
                     program_id=program.pk)
    return rule_set


def save_draft(*, actor: Actor, rule_set: RuleSet, rules: Any) -> RuleSetVersion:
    """Create or replace the draft; refused with every problem (where, line, column) if it would not compile."""
    actor.require(Permission.RULES_EDIT, rule_set.program_id)
    problems = check_rules(rule_set.program, rules)
    if problems:
        raise _refuse(problems)
    now = timezone.now()
    with transaction.atomic():
        RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        draft = RuleSetVersion.objects.filter(rule_set=rule_set, status="draft").first()
        if draft is None:
            last = RuleSetVersion.objects.filter(rule_set=rule_set).order_by("-number").first()
            draft = RuleSetVersion(rule_set=rule_set, number=(last.number + 1) if last else 1, created_at=now)
        draft.rules, draft.author_id = rules, actor.user_id
        draft.save()
        record_audit(actor=actor, action="rule_set.draft_saved", subject_type="rule_set", subject_id=rule_set.name,
                     program_id=rule_set.program_id, after={"version": draft.number, "rules": len(rules)})
    return draft


def _canonical(rules: Any) -> str:
    return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def submit_for_review(*, actor: Actor, version: RuleSetVersion) -> RuleSetVersion:
    WORKFLOW.check(actor, version, Step.SUBMIT)
    with transaction.atomic():
        locked = RuleSetVersion.objects.select_for_update().get(pk=version.pk)
        problems = check_rules(version.rule_set.program, locked.rules)  # the program may have changed since
        if problems:
            raise _refuse(problems)
        digest = _canonical(locked.rules)
        return WORKFLOW.move(actor, locked, Step.SUBMIT, after={"sha256": digest}, submitted_at=timezone.now(),
                             sha256=digest)


def return_to_draft(*, actor: Actor, version: RuleSetVersion, comment: str) -> RuleSetVersion:
    WORKFLOW.check(actor, version, Step.RETURN, comment=comment)
    with transaction.atomic():
        if RuleSetVersion.objects.filter(rule_set=version.rule_set, status="draft").exists():
            raise Conflict(_("There is already a draft of this rule set."), field="status")
        return WORKFLOW.move(actor, version, Step.RETURN, after={"comment": comment_text(comment)},
                             review_comment=comment_text(comment), sha256="")


def approve(*, actor: Actor, version: RuleSetVersion) -> RuleSetVersion:
    """Four eyes: the author cannot approve. The version goes live and the previous live one retires."""
    WORKFLOW.check(actor, version, Step.APPROVE)
    now = timezone.now()
    with transaction.atomic():
        locked = RuleSetVersion.objects.select_for_update().get(pk=version.pk)
        if locked.sha256 != _canonical(locked.rules):
            raise Conflict(_("The rules changed after submission."), field="rules")
        problems = check_rules(version.rule_set.program, locked.rules)  # content may have been withdrawn since
        if problems:
            raise _refuse(problems)
        previous = RuleSetVersion.objects.filter(rule_set=locked.rule_set, status="live").first()
        if previous is not None:  # first: one live version per rule set, enforced by the database
            WORKFLOW.move(actor, previous, Step.RETIRE, after={"replaced_by": locked.number}, retired_at=now)
        return WORKFLOW.move(actor, locked, Step.APPROVE,
                             after={"sha256": locked.sha256, "replaces": previous.number if previous else None},
                             live_at=now, reviewer_id=actor.user_id or 0)


def retire(*, actor: Actor, version: RuleSetVersion) -> RuleSetVersion:
    """Stop a live rule set: nothing fires any more and its planned steps are cancelled."""
    WORKFLOW.check(actor, version, Step.RETIRE)
    now = timezone.now()
    with transaction.atomic():  # a refused move rolls the cancellation back
        cancelled = cancel_rule_set_steps(rule_set_id=version.rule_set_id, now=now)
        return WORKFLOW.move(actor, version, Step.RETIRE, after={"cancelled_steps": cancelled}, retired_at=now)
