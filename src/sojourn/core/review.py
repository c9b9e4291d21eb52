"""One review workflow for what reaches patients: content, rule sets, consent documents, questionnaires.

A version is written as a draft, submitted for review, then approved by a reviewer who did not write
it, or returned to draft with a comment; an approved version is retired (by hand, or when the next
one is approved). Every noun keeps its own table and its own words for the states ("live" for a rule
set, "superseded" or "withdrawn" for content); its `Workflow` maps them onto the four states here.

What every noun gets from here, the same way: who may take each step (its edit permission to write
and submit, its review permission to return, approve and retire), the four-eyes rule, the comment a
return needs, the state check under a row lock, the audit entry, and the typed error of each refusal
(see the table in docs/api.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from django.db import models
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit

V = TypeVar("V", bound=models.Model)
COMMENT_LENGTH = 1000


class State(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    RETIRED = "retired"


class Step(StrEnum):
    SUBMIT = "submit"
    RETURN = "return"
    APPROVE = "approve"
    RETIRE = "retire"


# Each step: the states it may start from and the state it leads to.
TRANSITIONS: dict[Step, tuple[frozenset[State], State]] = {
    Step.SUBMIT: (frozenset({State.DRAFT}), State.IN_REVIEW),
    Step.RETURN: (frozenset({State.IN_REVIEW}), State.DRAFT),
    Step.APPROVE: (frozenset({State.IN_REVIEW}), State.APPROVED),
    Step.RETIRE: (frozenset({State.APPROVED}), State.RETIRED),
}
# The steps an author takes; a reviewer takes the others.
AUTHOR_STEPS = frozenset({Step.SUBMIT})
PAST = {Step.SUBMIT: "submitted", Step.RETURN: "returned", Step.APPROVE: "approved", Step.RETIRE: "retired"}


class AuthorMayNotApprove(AccessDenied):
    """Four eyes: whoever wrote (or submitted) a version is not the one who approves it."""

    def __init__(self) -> None:
        super().__init__(_("Whoever wrote or submitted a version cannot approve it."))


@dataclass(frozen=True)
class Workflow(Generic[V]):
    """How one noun's versions move through review; the noun's services hold what approving does."""

    model: type[V]
    subject_type: str  # of the audit entry
    edit: Permission
    review: Permission
    # The program (and market, for what is written per market) whose grants decide.
    scope: Callable[[V], tuple[int, str | None]]
    subject_id: Callable[[V], str | int]
    number: Callable[[V], int]
    # The people who may not approve the version: who wrote it, and who submitted it where that is kept.
    authors: Callable[[V], set[int | None]]
    # The noun's stored status → the workflow's state, where the words differ.
    states: Mapping[str, State] = field(default_factory=dict)
    # The status a step stores, where it is not the state's own name.
    stored: Mapping[Step, str] = field(default_factory=dict)
    # The audit action of a step, where it is not "<subject_type>.<past tense>".
    actions: Mapping[Step, str] = field(default_factory=dict)
    # What `scope` reads through, fetched with the version.
    related: tuple[str, ...] = ()
    # Content lets its editors abandon a draft or a version in review (a retirement before approval).
    editors_abandon: bool = False

    def access(self, actor: Actor, version_id: int) -> V:
        """The version, if the actor may see its program (and market); missing and hidden look alike."""
        version = self.model.objects.select_related(*self.related).filter(pk=version_id).first()  # type: ignore[attr-defined]
        if version is None or not actor.can(Permission.PROGRAM_VIEW, *self.scope(version)):
            raise NotFound()
        return version

    def state(self, version: V) -> State:
        status = version.status  # type: ignore[attr-defined]
        return self.states.get(status) or State(status)

    def sources(self, step: Step) -> frozenset[State]:
        if step is Step.RETIRE and self.editors_abandon:
            return frozenset({State.DRAFT, State.IN_REVIEW, State.APPROVED})
        return TRANSITIONS[step][0]

    def permission(self, version: V, step: Step) -> Permission:
        if step in AUTHOR_STEPS or (step is Step.RETIRE and self.editors_abandon
                                    and self.state(version) in {State.DRAFT, State.IN_REVIEW}):
            return self.edit
        return self.review

    def check(self, actor: Actor, version: V, step: Step, *, comment: str | None = None) -> None:
        """Refuse, before anything is written, whoever may not take the step (AccessDenied: their role,
        or four eyes) and a return without a comment (InvalidInput). The state is checked by `move`,
        under the row lock: the caller's copy of the version may be older than the row."""
        actor.require(self.permission(version, step), *self.scope(version))
        self._require_other_person(actor, version, step)
        if step is Step.RETURN and not (comment or "").strip():
            raise InvalidInput(_("Say what must change."), field="comment")

    def _require_other_person(self, actor: Actor, version: V, step: Step) -> None:
        if step is Step.APPROVE and actor.user_id is not None and actor.user_id in self.authors(version):
            raise AuthorMayNotApprove()

    def _require_state(self, version: V, step: Step, sources: frozenset[State], to: str | None = None) -> None:
        if self.state(version) in sources:
            return
        labels = dict(self.model.Status.choices)  # type: ignore[attr-defined]
        status = version.status  # type: ignore[attr-defined]
        target = to or self.stored.get(step) or TRANSITIONS[step][1].value
        raise Conflict(_("A version that is %(status)s cannot become %(to)s.")
                       % {"status": str(labels.get(status, status)).lower(),
                          "to": str(labels.get(target, target)).lower()}, field="status")

    def move(self, actor: Actor, version: V, step: Step, *, to: str | None = None, action: str | None = None,
             sources: frozenset[State] | None = None, after: dict[str, Any] | None = None,
             market: str = "", **changes: object) -> V:
        """Lock the row, check its state, store the step's status and `changes`, and audit the move.

        Call it inside the caller's transaction, after `check` (or for the platform's own moves: a
        version superseded by the next, or expired). `to` and `action` name a retirement the noun
        tells apart (content: superseded, expired, withdrawn)."""
        locked = type(version).objects.select_for_update().get(pk=version.pk)  # type: ignore[attr-defined]
        target = to or self.stored.get(step) or TRANSITIONS[step][1].value
        self._require_state(locked, step, sources or self.sources(step), target)
        self._require_other_person(actor, locked, step)
        before = locked.status
        locked.status = target
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        program_id, scope_market = self.scope(locked)
        number = self.number(locked)
        record_audit(actor=actor, action=action or self.actions.get(step) or f"{self.subject_type}.{PAST[step]}",
                     subject_type=self.subject_type, subject_id=self.subject_id(locked), program_id=program_id,
                     market=market or scope_market or "", before={"version": number, "status": before},
                     after={"version": number, "status": target, **(after or {})})
        return locked


def comment_text(comment: str) -> str:
    """The comment of a return as kept: trimmed and bounded."""
    return comment.strip()[:COMMENT_LENGTH]
