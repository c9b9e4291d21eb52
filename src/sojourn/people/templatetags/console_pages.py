"""`{% may_open "insights-console:hypotheses" as shown %}`: whether to show a link, asked of the same
table that decides whether the page opens (people.console_pages)."""

from __future__ import annotations

from typing import Any

from django import template

from sojourn.people import console_pages

register = template.Library()


@register.simple_tag(takes_context=True)
def may_open(context: dict[str, Any], url_name: str) -> bool:
    request = context.get("request")
    scope = context.get("scope")
    actor = getattr(request, "actor", None)
    if actor is None:
        return False
    return console_pages.may_open(actor, scope.program.pk if scope and scope.program else None, url_name)
