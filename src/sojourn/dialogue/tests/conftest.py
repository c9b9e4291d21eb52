"""Fixtures of the dialogue tests: a program with the needs and stages its rules speak of."""

from __future__ import annotations

import pytest

from sojourn.dialogue.tests.factories import SYSTEM
from sojourn.tracking.services.taxonomy import define_need, define_stage


@pytest.fixture
def program_needs(program):
    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"}, position=0)
    define_need(actor=SYSTEM, program=program, code="sleep", labels={"en": "Sleep"}, position=1)
    define_stage(actor=SYSTEM, program=program, code="diagnosis", labels={"en": "Diagnosis"}, position=0)
    define_stage(actor=SYSTEM, program=program, code="daily_management", labels={"en": "Daily"}, position=1)
    return program
