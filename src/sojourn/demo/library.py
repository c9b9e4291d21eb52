"""A program's content library: every item of its folder's library.yaml written by the program
manager and approved by the MLR reviewer through the content services, in every locale of its markets."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from sojourn.content.models import ContentItem
from sojourn.content.services.library import create_item, program_locales, save_draft
from sojourn.content.services.review import approve, submit_for_review
from sojourn.core.models import Program
from sojourn.demo.library_item import Item
from sojourn.people.queries import actor_for_user


def stock_library(program: Program, items: list[Item], author_email: str, reviewer_email: str) -> int:
    """Write and approve the items the library lacks; returns how many were added."""
    users = get_user_model().objects
    author = actor_for_user(users.get(username=author_email))
    reviewer = actor_for_user(users.get(username=reviewer_email))
    locales = sorted(program_locales(program))
    have = set(ContentItem.objects.filter(program=program).values_list("code", flat=True))
    prefix = program.slug[:3].upper()  # approval codes as a sponsor's MLR system numbers them: PSO-DEMO-001
    added = 0
    for number, entry in enumerate(items, start=1):
        if entry.code in have:
            continue
        item = create_item(actor=author, program=program, code=entry.code, kind=entry.kind,
                           title=entry.title.get("en") or entry.subject.get("en") or entry.code, tags=entry.tags())
        version = save_draft(actor=author, item=item, variants={locale: entry.variant(locale) for locale in locales})
        approve(actor=reviewer, version=submit_for_review(actor=author, version=version),
                approval_code=f"{prefix}-DEMO-{number:03d}", expires_on=timezone.localdate() + timedelta(days=730))
        added += 1
    return added
