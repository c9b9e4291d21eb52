from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sojourn.people.console import console_scope


def console(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated or not hasattr(request, "actor"):
        return {}
    return {"scope": console_scope(request)}
