"""Shape constraints written with GLOB (core/constraints.py) refuse what their regular expressions did,
in the database itself, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from sojourn.core.constraints import glob_to_regex
from sojourn.tracking.models import EventType

DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")  # the expression the constraint replaced
CODES = ["web.page_viewed", "a.b.c", "sms.stop_2", "web", "Web.view", "web.", ".web", "web..view", "web.2nd",
         "web.view-x", "we b.view", "2web.view", "web.view\n", "web_.v_"]


@pytest.mark.django_db
@pytest.mark.parametrize("code", CODES)
def test_an_event_type_code_is_stored_exactly_when_the_old_expression_matched(program, code):
    row = EventType(program=program, code=code, created_at=timezone.now())
    if DOTTED.fullmatch(code):
        with transaction.atomic():
            row.save()
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save()


@pytest.mark.parametrize(("pattern", "regex"), [
    ("[A-Z][A-Z]", "^[A-Z][A-Z]$"),
    ("?*[^a-z0-9-]*", "^..*[^a-z0-9-].*$"),
    ("a.b*", "^a\\.b.*$"),
])
def test_glob_patterns_become_the_same_anchored_expressions(pattern, regex):
    assert glob_to_regex(pattern) == regex
