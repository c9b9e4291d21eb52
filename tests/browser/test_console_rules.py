"""A program manager writes a rule in the console: problems appear while typing, with line and column."""

from __future__ import annotations

import json

import pytest

from sojourn.content.tests.factories import stock_library
from sojourn.core.actors import Actor
from sojourn.dialogue.models import RuleSetVersion
from sojourn.dialogue.services.rulesets import create_rule_set
from sojourn.tracking.services.taxonomy import define_need
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rules_are_checked_while_typing_and_saved_when_they_compile(page, cast):
    system = Actor.system("test")
    define_need(actor=system, program=cast.program, code="itch", labels={"en": "Itch"}, position=0)
    create_rule_set(actor=system, program=cast.program, name="main")
    sign_in(page, "admin@sponsor.example")
    page.wait_for_url("**/console/")
    page.get_by_role("link", name="Rules").click()
    page.get_by_role("link", name="main").click()
    editor = page.get_by_label("Rules", exact=True)
    rule = {"key": "itch", "trigger": {"events": ["content.viewed"]}, "condition": "profile.needs.itchy > 0.5",
            "actions": [{"do": "send", "channel": "email", "content": "itch-1"}]}
    stock_library(cast.program, [rule])
    editor.fill(json.dumps([rule], indent=1))
    editor.press("End")  # a keystroke: htmx checks after a pause in typing
    problem = page.locator("#problems li[data-where='rules[0].condition']")
    problem.wait_for()
    assert "line 1, column 15" in problem.inner_text() and "unknown field 'itchy'" in problem.inner_text()
    editor.fill(json.dumps([dict(rule, condition="profile.needs.itch > 0.5")], indent=1))
    editor.press("End")
    page.get_by_text("No problems: these rules compile.").wait_for()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("The draft is saved.").wait_for()
    assert RuleSetVersion.objects.get().rules[0]["condition"] == "profile.needs.itch > 0.5"
    assert page.locator("tr[data-version='1'][data-status='draft']").is_visible()
