"""Each reviewed noun's API answers the same status and code for the same situation: the table in
docs/api.md, read from the document itself and checked for content, rule sets, consent versions and
questionnaires alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from sojourn.consent.services.documents import draft_consent_version
from sojourn.consent.tests.factories import purposes_of, texts_for
from sojourn.content.services.library import create_item
from sojourn.content.services.library import save_draft as save_content_draft
from sojourn.core.actors import Actor
from sojourn.core.models import AuditEntry, Market, Program
from sojourn.core.permissions import Role
from sojourn.dialogue.services.rulesets import create_rule_set
from sojourn.dialogue.services.rulesets import save_draft as save_rules_draft
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.api import Api
from sojourn.people.tests.factories import make_staff
from sojourn.questionnaires.instruments import shipped
from sojourn.questionnaires.services.definitions import import_questionnaire

MOVES = r"\.(submitted|returned|approved|live|retired|withdrawn)$"
TABLE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def documented() -> dict[str, tuple[int, str]]:
    """Situation → (status, code), from the rows of the review table in docs/api.md."""
    rows = re.findall(r"^\| `(\w+)` \|[^|]*\| (\d{3}) \| ?`?(\w*)`? ?\|$", TABLE.read_text(), re.MULTILINE)
    return {situation: (int(status), code) for situation, status, code in rows}


def content_draft(program: Program, author: Actor) -> int:
    item = create_item(actor=author, program=program, code="itch-tips", kind="tip", title="Itch tips")
    return save_content_draft(actor=author, item=item, variants={
        "de-DE": {"title": "Juckreiz", "body": "Kühlen hilft."},
        "en-GB": {"title": "Itch", "body": "Cooling helps."}}).pk


def rules_draft(program: Program, author: Actor) -> int:
    rule_set = create_rule_set(actor=author, program=program, name="main")
    return save_rules_draft(actor=author, rule_set=rule_set, rules=[]).pk


def consent_draft(program: Program, author: Actor) -> int:
    market = Market.objects.get(country="DE")
    purposes = purposes_of(market)
    return draft_consent_version(actor=author, program=program, market=market, audience="patient",
                                 title="Einwilligung", purposes=purposes, texts=texts_for(market, purposes)).pk


def questionnaire_draft(program: Program, author: Actor) -> int:
    return import_questionnaire(actor=author, program=program, resource=shipped()["who-5"]).pk


@dataclass(frozen=True)
class Noun:
    path: str
    draft: Callable[[Program, Actor], int]
    subject_type: str
    approval: dict[str, Any] = field(default_factory=dict)
    retirement: dict[str, Any] = field(default_factory=dict)


NOUNS = {
    "content": Noun("/content-versions", content_draft, "content_item",
                    approval={"approval_code": "DE-PSO-0001"}, retirement={"reason": "Out of date."}),
    "rule set": Noun("/rule-set-versions", rules_draft, "rule_set"),
    "consent version": Noun("/consent-versions", consent_draft, "consent_version"),
    "questionnaire": Noun("/questionnaires", questionnaire_draft, "questionnaire"),
}


class Situations:
    """Sends each step as a given person and checks the answer against the documented row."""

    def __init__(self, noun: Noun, version_id: int) -> None:
        self.noun, self.version_id, self.table = noun, version_id, documented()

    def body(self, step: str) -> dict[str, Any]:
        if step == "approval" and self.noun.approval:
            return {**self.noun.approval, "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat()}
        return {"return": {"comment": "Say who the data controller is."},
                "retirement": self.noun.retirement}.get(step, {})

    def expect(self, situation: str, api: Api, step: str, body: dict[str, Any] | None = None,
               version_id: int | None = None) -> dict[str, Any]:
        status, code = self.table[situation]
        answer = api.post(f"{self.noun.path}/{version_id or self.version_id}/{step}",
                          self.body(step) if body is None else body)
        assert answer.status_code == status, (situation, step, answer.content)
        if code:
            assert answer.json()["error"]["code"] == code, (situation, step, answer.content)
        return answer.json()


def test_the_table_names_every_situation_once():
    assert set(documented()) == {"moved", "unknown", "role", "own_version", "wrong_state", "no_comment", "bad_body"}
    assert documented()["moved"] == (200, "")


@pytest.mark.parametrize("noun", sorted(NOUNS))
def test_the_same_situation_answers_the_same_for_every_noun(noun, client, cast):
    program = cast.program
    author = cast.admin  # may write and review: only the four-eyes rule keeps them from approving
    editor = Api(client, make_staff("editor@sponsor.example", Role.PROGRAM_MANAGER, program))
    reviewer = Api(client, make_staff("mlr@sponsor.example", Role.CONTENT_REVIEWER, program))
    situations = Situations(NOUNS[noun], NOUNS[noun].draft(program, actor_for_user(author)))
    by_author, outsider = Api(client, author), Api(client, cast.outsider)

    situations.expect("unknown", outsider, "submission")
    situations.expect("unknown", by_author, "submission", version_id=987654)
    situations.expect("role", reviewer, "submission")
    situations.expect("wrong_state", reviewer, "approval")
    situations.expect("wrong_state", reviewer, "return")
    assert situations.expect("moved", by_author, "submission")["state"] == "in_review"
    situations.expect("wrong_state", by_author, "submission")
    situations.expect("role", editor, "approval")
    situations.expect("own_version", by_author, "approval")
    situations.expect("bad_body", reviewer, "return", {})
    situations.expect("bad_body", reviewer, "return", {"comment": "x" * 2001})
    error = situations.expect("no_comment", reviewer, "return", {"comment": "  "})
    assert [d["field"] for d in error["error"]["details"]] == ["comment"]
    assert situations.expect("moved", reviewer, "return")["state"] == "draft"
    situations.expect("moved", by_author, "submission")
    assert situations.expect("moved", reviewer, "approval")["state"] == "approved"
    situations.expect("role", editor, "retirement")
    assert situations.expect("moved", reviewer, "retirement")["state"] == "retired"
    situations.expect("wrong_state", reviewer, "retirement")

    moves = AuditEntry.objects.filter(subject_type=NOUNS[noun].subject_type, action__regex=MOVES).order_by("seq")
    assert [a.rsplit(".", 1)[1] for a in moves.values_list("action", flat=True)] == [
        "submitted", "returned", "submitted", "live" if noun == "rule set" else "approved",
        "withdrawn" if noun == "content" else "retired"]
    returned = moves.get(action__endswith=".returned")
    assert returned.after["comment"] == "Say who the data controller is." and returned.before["status"] == "in_review"
