"""Content in the states tests need, made through the services a team would use."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from sojourn.content.models import ContentItem, ContentVersion
from sojourn.content.services.library import create_item, save_draft
from sojourn.content.services.review import approve, submit_for_review
from sojourn.core.actors import Actor, Grant
from sojourn.core.models import Program
from sojourn.core.permissions import Role


def author(program: Program) -> Actor:
    return Actor(kind="staff", label="author@sponsor.example", user_id=9001,
                 grants=(Grant(program_id=program.pk, role=Role.PROGRAM_MANAGER, markets=None),))


def reviewer(program: Program) -> Actor:
    return Actor(kind="staff", label="mlr@sponsor.example", user_id=9002,
                 grants=(Grant(program_id=program.pk, role=Role.CONTENT_REVIEWER, markets=None),))


def approved_item(program: Program, code: str, kind: str, variants: dict[str, dict[str, Any]], *,
                  expires_on: date | None = None, approval_code: str = "", **tags: Any) -> ContentItem:
    """An item whose first version is approved (by a reviewer who is not the author)."""
    item = create_item(actor=author(program), program=program, code=code, kind=kind, title=code, tags=tags)
    version = save_draft(actor=author(program), item=item, variants=variants)
    version = submit_for_review(actor=author(program), version=version)
    approve(actor=reviewer(program), version=version, approval_code=approval_code or f"MLR-{code.upper()}-1",
            expires_on=expires_on or timezone.localdate() + timedelta(days=365))
    return item


def draft_version(item: ContentItem) -> ContentVersion:
    return item.versions.get(status="draft")


def stock_library(program: Program, rules: list[dict[str, Any]]) -> list[str]:
    """Approved content for every item the rules name and the library lacks: a tip (web, email, text
    message, print) or a call script, with a short text in every language of the program."""
    from sojourn.content.services.library import program_locales

    wanted: dict[str, str] = {}
    for rule in rules if isinstance(rules, list) else []:
        for action in rule.get("actions", []) if isinstance(rule, dict) else []:
            if not isinstance(action, dict):
                continue
            if isinstance(action.get("content"), str):
                wanted.setdefault(action["content"], "tip")
            if isinstance(action.get("script"), str):
                wanted.setdefault(action["script"], "call_script")
    have = set(ContentItem.objects.filter(program=program, code__in=wanted).values_list("code", flat=True))
    locales = sorted(program_locales(program))
    made = []
    for code, kind in sorted(wanted.items()):
        if code in have:
            continue
        approved_item(program, code, kind, {locale: {"title": code, "body": f"{code} ({locale})"}
                                            for locale in locales})
        made.append(code)
    return made
