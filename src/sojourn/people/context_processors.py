from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sojourn.people.console import console_scope
from sojourn.people.console_pages import menu_for


def console(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated or not hasattr(request, "actor"):
        return {}
    scope = console_scope(request)
    # The menu holds only what the role may open (people.console_pages).
    return {"scope": scope, "menu": menu_for(request.actor, scope.program.pk if scope.program else None)}  # type: ignore[attr-defined]
