"""The review workflow itself (core/review.py): which step moves a version from which state, who may
take it, the four-eyes rule, the comment a return needs, the audit entry, and the error of each refusal.

The mechanism is exercised on a plain workflow over questionnaire rows (any table with a status
would do); the last tests check that each noun's workflow maps every status it stores."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sojourn.consent.services.documents import WORKFLOW as CONSENT
from sojourn.content.services.review import WORKFLOW as CONTENT
from sojourn.core.actors import Actor, Grant
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sojourn.core.models import AuditEntry, Program
from sojourn.core.permissions import Permission, Role
from sojourn.core.review import TRANSITIONS, AuthorMayNotApprove, State, Step, Workflow
from sojourn.core.tests.factories import SYSTEM, make_program
from sojourn.dialogue.services.rulesets import WORKFLOW as RULES
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.services.definitions import WORKFLOW as QUESTIONNAIRES

pytestmark = pytest.mark.django_db
AUTHOR_ID = 41

PLAIN: Workflow[Questionnaire] = Workflow(
    model=Questionnaire, subject_type="thing", edit=Permission.CONTENT_EDIT, review=Permission.CONTENT_REVIEW,
    scope=lambda q: (q.program_id, None), subject_id=lambda q: q.pk, number=lambda q: q.version,
    authors=lambda q: {q.created_by_id})
ABANDONING = Workflow(**{**PLAIN.__dict__, "editors_abandon": True})


def person(program: Program, role: Role, user_id: int) -> Actor:
    return Actor(kind="staff", label=f"{role.value}-{user_id}", user_id=user_id,
                 grants=(Grant(program_id=program.pk, role=role),))


def version(program: Program, status: str = "draft") -> Questionnaire:
    number = Questionnaire.objects.filter(program=program).count() + 1
    # Each its own instrument (one approved version each), stamped as approved whatever it will become.
    return Questionnaire.objects.create(program=program, url=f"urn:test:{number}", version=number, name="thing",
                                        title="Thing", status=status, resource={}, sha256="0" * 64,
                                        created_by_id=AUTHOR_ID, approved_at=timezone.now())


def test_the_transitions_lead_from_draft_to_retired_and_no_step_leaves_retired():
    assert {step: (set(sources), to) for step, (sources, to) in TRANSITIONS.items()} == {
        Step.SUBMIT: ({State.DRAFT}, State.IN_REVIEW),
        Step.RETURN: ({State.IN_REVIEW}, State.DRAFT),
        Step.APPROVE: ({State.IN_REVIEW}, State.APPROVED),
        Step.RETIRE: ({State.APPROVED}, State.RETIRED),
    }
    assert not any(State.RETIRED in sources for sources, _to in TRANSITIONS.values())


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("state", list(State))
def test_a_step_moves_a_version_only_from_its_states_and_a_refusal_writes_nothing(program, state, step):
    row = version(program, state)
    sources, to = TRANSITIONS[step]
    if state in sources:
        moved = PLAIN.move(SYSTEM, row, step)
        assert Questionnaire.objects.get(pk=row.pk).status == moved.status == to
        entry = AuditEntry.objects.get(subject_type="thing")
        assert entry.before == {"version": row.version, "status": state.value}
        assert entry.after == {"version": row.version, "status": to.value}
    else:
        with pytest.raises(Conflict) as refused:
            PLAIN.move(SYSTEM, row, step)
        assert refused.value.field == "status" and "cannot become" in refused.value.message
        assert Questionnaire.objects.get(pk=row.pk).status == state
        assert not AuditEntry.objects.filter(subject_type="thing").exists()


def test_the_state_is_read_from_the_row_not_from_the_callers_copy(program):
    row = version(program, "in_review")
    stale = Questionnaire.objects.get(pk=row.pk)
    PLAIN.move(SYSTEM, row, Step.APPROVE)
    PLAIN.check(person(program, Role.CONTENT_REVIEWER, 2), stale, Step.APPROVE)  # the copy still says in review
    with pytest.raises(Conflict):
        PLAIN.move(SYSTEM, stale, Step.APPROVE)


@pytest.mark.parametrize(("step", "allowed", "refused"), [
    (Step.SUBMIT, Role.PROGRAM_MANAGER, Role.CONTENT_REVIEWER),
    (Step.RETURN, Role.CONTENT_REVIEWER, Role.PROGRAM_MANAGER),
    (Step.APPROVE, Role.CONTENT_REVIEWER, Role.PROGRAM_MANAGER),
    (Step.RETIRE, Role.CONTENT_REVIEWER, Role.PROGRAM_MANAGER),
])
def test_authors_submit_and_reviewers_return_approve_and_retire(program, step, allowed, refused):
    row = version(program)
    PLAIN.check(person(program, allowed, 2), row, step, comment="Shorter, please.")
    with pytest.raises(AccessDenied):
        PLAIN.check(person(program, refused, 2), row, step, comment="Shorter, please.")
    with pytest.raises(AccessDenied):  # the same role in another program
        PLAIN.check(person(make_program("eczema", markets=("DE",)), allowed, 2), row, step, comment="Shorter.")


def test_whoever_wrote_a_version_may_not_approve_it_even_with_every_permission(program):
    row = version(program, "in_review")
    with pytest.raises(AuthorMayNotApprove) as refused:
        PLAIN.check(person(program, Role.ADMIN, AUTHOR_ID), row, Step.APPROVE)
    assert isinstance(refused.value, AccessDenied) and refused.value.code == "forbidden"
    with pytest.raises(AuthorMayNotApprove):  # nor by calling move directly
        PLAIN.move(person(program, Role.ADMIN, AUTHOR_ID), row, Step.APPROVE)
    assert PLAIN.move(person(program, Role.ADMIN, AUTHOR_ID + 1), row, Step.APPROVE).status == "approved"
    PLAIN.check(person(program, Role.ADMIN, AUTHOR_ID), row, Step.RETIRE)  # four eyes guard the approval only


def test_a_return_says_what_must_change(program):
    row = version(program, "in_review")
    reviewer = person(program, Role.CONTENT_REVIEWER, 2)
    for comment in (None, "", "   "):
        with pytest.raises(InvalidInput) as refused:
            PLAIN.check(reviewer, row, Step.RETURN, comment=comment)
        assert refused.value.field == "comment"
    PLAIN.check(reviewer, row, Step.RETURN, comment="Cite the label.")


def test_the_audit_entry_names_the_noun_its_version_and_what_the_noun_adds(program):
    row = version(program, "in_review")
    named = Workflow(**{**PLAIN.__dict__, "actions": {Step.RETURN: "thing.sent_back"}})
    named.move(person(program, Role.CONTENT_REVIEWER, 2), row, Step.RETURN, after={"comment": "Cite."})
    PLAIN.move(SYSTEM, row, Step.SUBMIT)
    entries = list(AuditEntry.objects.filter(subject_type="thing").order_by("seq"))
    assert [e.action for e in entries] == ["thing.sent_back", "thing.submitted"]
    assert entries[0].after == {"version": 1, "status": "draft", "comment": "Cite."}
    assert entries[0].subject_id == str(row.pk) and entries[0].program_id == program.pk
    assert entries[0].actor_id == "2"


def test_a_retirement_may_store_the_nouns_own_word_for_it(program):
    row = version(program, "approved")
    retired = PLAIN.move(SYSTEM, row, Step.RETIRE, to="draft", action="thing.superseded")  # any stored word
    assert retired.status == "draft"
    assert AuditEntry.objects.get(subject_type="thing").action == "thing.superseded"


def test_where_editors_abandon_they_retire_what_is_not_yet_approved_and_only_reviewers_what_is(program):
    editor, reviewer = person(program, Role.PROGRAM_MANAGER, 2), person(program, Role.CONTENT_REVIEWER, 3)
    for state in ("draft", "in_review"):
        ABANDONING.check(editor, version(program, state), Step.RETIRE)
        with pytest.raises(AccessDenied):
            PLAIN.check(editor, version(program, state), Step.RETIRE)
        assert ABANDONING.move(editor, version(program, state), Step.RETIRE).status == "retired"
    with pytest.raises(AccessDenied):
        ABANDONING.check(editor, version(program, "approved"), Step.RETIRE)
    ABANDONING.check(reviewer, version(program, "approved"), Step.RETIRE)
    with pytest.raises(Conflict):
        ABANDONING.move(reviewer, version(program, "retired"), Step.RETIRE)


def test_a_version_is_found_only_by_who_may_see_its_program(program):
    row = version(program)
    assert PLAIN.access(person(program, Role.NURSE, 2), row.pk) == row
    with pytest.raises(NotFound):
        PLAIN.access(person(make_program("eczema", markets=("DE",)), Role.ADMIN, 2), row.pk)
    with pytest.raises(NotFound):
        PLAIN.access(SYSTEM, row.pk + 1000)


@pytest.mark.parametrize("workflow", [CONTENT, RULES, CONSENT, QUESTIONNAIRES],
                         ids=["content", "rule set", "consent version", "questionnaire"])
def test_each_noun_maps_every_status_it_stores_onto_a_state(workflow):
    stored = {value for value, _label in workflow.model.Status.choices}
    states = {value: workflow.states.get(value) or State(value) for value in stored}  # a ValueError if unmapped
    assert set(states.values()) == set(State)
    assert set(workflow.stored.values()) <= stored
    assert workflow.edit != workflow.review
