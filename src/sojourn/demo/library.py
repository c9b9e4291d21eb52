"""The demo's content library: every item written by the program manager and approved by the MLR
reviewer through the content services, in every locale of the five markets."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from sojourn.content.models import ContentItem
from sojourn.content.services.library import create_item, program_locales, save_draft
from sojourn.content.services.review import approve, submit_for_review
from sojourn.core.models import Program
from sojourn.demo.library_articles import ARTICLES, CHECKLISTS_AND_VIDEOS
from sojourn.demo.library_item import Item
from sojourn.demo.library_messages import CALL_SCRIPTS, EMAILS_AND_TEXTS, MAGAZINE, TIPS
from sojourn.people.queries import actor_for_user

LIBRARY: list[Item] = [*ARTICLES, *CHECKLISTS_AND_VIDEOS, *TIPS, *EMAILS_AND_TEXTS, *CALL_SCRIPTS, *MAGAZINE]


def stock_demo_library(program: Program, author_email: str, reviewer_email: str) -> int:
    """Write and approve the items the library lacks; returns how many were added."""
    users = get_user_model().objects
    author = actor_for_user(users.get(username=author_email))
    reviewer = actor_for_user(users.get(username=reviewer_email))
    locales = sorted(program_locales(program))
    have = set(ContentItem.objects.filter(program=program).values_list("code", flat=True))
    added = 0
    for number, entry in enumerate(LIBRARY, start=1):
        if entry.code in have:
            continue
        item = create_item(actor=author, program=program, code=entry.code, kind=entry.kind,
                           title=entry.title.get("en") or entry.subject.get("en") or entry.code, tags=entry.tags())
        version = save_draft(actor=author, item=item, variants={locale: entry.variant(locale) for locale in locales})
        approve(actor=reviewer, version=submit_for_review(actor=author, version=version),
                approval_code=f"PSO-DEMO-{number:03d}", expires_on=timezone.localdate() + timedelta(days=730))
        added += 1
    return added
