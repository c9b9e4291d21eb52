"""Fixtures of the journeys tests: a program with the stages and needs its maps and personas use."""

from __future__ import annotations

import pytest

from sojourn.core.tests.factories import SYSTEM
from sojourn.tracking.services.taxonomy import define_need, define_stage


@pytest.fixture
def journey_world(program):
    for n, code in enumerate(("diagnosis", "treatment_initiation", "daily_management")):
        define_stage(actor=SYSTEM, program=program, code=code, labels={"en": code}, position=n)
    for n, code in enumerate(("itch", "psychosocial", "practical_access")):
        define_need(actor=SYSTEM, program=program, code=code, labels={"en": code}, position=n)
    return program
