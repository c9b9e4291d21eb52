"""Where a domain error becomes a page, and the probes for load balancers and orchestrators.

A page never catches a refusal by hand: `NotFound` and `AccessDenied` that leave a view become the
not-found page in `DomainErrorPageMiddleware` (core/middleware.py), and a write a form asked for shows
its refusal through `shown_on_page`, next to the form's fields or as a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django import forms
from django.contrib import messages
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from sojourn.core.errors import AccessDenied, ErrorDetail, NotFound, SojournError

# A missing object and one the actor may not see answer alike, so that existence never leaks across
# markets and roles.
HIDDEN = (NotFound, AccessDenied)


def not_found(request: HttpRequest) -> HttpResponse:
    """Answer the page everyone gets for what is missing or not theirs to see."""
    return render(request, "not_found.html", status=404)


def problems_of(error: SojournError) -> list[ErrorDetail]:
    """Return each problem of a refusal, the field it names if any; a refusal without details is one."""
    return list(error.details) or [ErrorDetail(error.message, field=error.field)]


class Refusal:
    """What a refused write said, for the page that shows its form again; false while nothing was refused."""

    def __init__(self) -> None:
        self.error: SojournError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return self.error.message if self.error else ""

    @property
    def problems(self) -> list[ErrorDetail]:
        return problems_of(self.error) if self.error else []

    def by_field(self, default: str = "", rename: Callable[[str], str] = str) -> dict[str, str]:
        """Return one message per field (renamed to the page's names); problems without one go to `default`."""
        found: dict[str, str] = {}
        for problem in self.problems:
            found.setdefault(rename(problem.field or "") or default, problem.message)
        return found


@contextmanager
def shown_on_page(*, form: forms.Form | None = None, request: HttpRequest | None = None,
                  rename: Callable[[str], str] = str, hide: tuple[type[SojournError], ...] = (NotFound,)
                  ) -> Iterator[Refusal]:
    """Run a write and show its refusal on the page: next to `form`'s fields (the field renamed to the form's
    name; the rest at the top), as one message each in `request`, and in the yielded `Refusal` for the
    page to render. Refusals of the `hide` kinds go on to the not-found page."""
    refusal = Refusal()
    try:
        yield refusal
    except hide:
        raise
    except SojournError as error:
        refusal.error = error
        for problem in refusal.problems:
            if form is not None:
                name = rename(problem.field or "")
                form.add_error(name if name in form.fields else None, problem.message)
            if request is not None:
                messages.error(request, problem.message)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers and every migration is applied; else 503 with the reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return JsonResponse({"status": "unavailable", "reason": f"database: {exc.__class__.__name__}"}, status=503)
    if pending:
        return JsonResponse({"status": "unavailable", "reason": "migrations pending",
                             "pending": [f"{m.app_label}.{m.name}" for m, _ in pending]}, status=503)
    return JsonResponse({"status": "ready"})
