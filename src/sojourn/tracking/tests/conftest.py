"""Fixtures of the tracking tests: a program with the itch need."""

from __future__ import annotations

import pytest

from sojourn.tracking.services.taxonomy import define_need
from sojourn.tracking.tests.helpers import SYSTEM


@pytest.fixture
def itch(program):
    return define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"}, position=0)
