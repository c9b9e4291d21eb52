from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sojourn.core.permissions import Permission
from sojourn.people.console import console_scope


def console(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated or not hasattr(request, "actor"):
        return {}
    scope = console_scope(request)
    manage = scope.program is not None and request.actor.markets_in(  # type: ignore[attr-defined]
        Permission.PATIENT_MANAGE, scope.program.pk) != frozenset()
    calls = scope.program is not None and request.actor.markets_in(  # type: ignore[attr-defined]
        Permission.NURSE_QUEUE, scope.program.pk) != frozenset()
    insights = scope.program is not None and request.actor.markets_in(  # type: ignore[attr-defined]
        Permission.INSIGHTS_VIEW, scope.program.pk) != frozenset()
    program = scope.program is not None and request.actor.markets_in(  # type: ignore[attr-defined]
        Permission.PROGRAM_MANAGE, scope.program.pk) != frozenset()
    return {"scope": scope, "may_manage_patients": manage, "may_work_nurse_queue": calls, "may_view_insights": insights,
            "may_manage_program": program}
