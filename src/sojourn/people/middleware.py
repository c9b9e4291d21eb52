"""Per request: who is acting, in which language and time zone, in which program and market."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from sojourn.core.i18n import choose_language
from sojourn.people.console import console_scope
from sojourn.people.console_pages import CONSOLE_NAMESPACES, may_open
from sojourn.people.queries import actor_for_user
from sojourn.people.views import forbidden


class StaffContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: actor_for_user(request.user))  # type: ignore[attr-defined]
        profile = getattr(request.user, "staff_profile", None) if request.user.is_authenticated else None
        language = choose_language(request, preference=profile.language if profile else "")
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        zone = None
        if profile is not None:
            try:
                zone = zoneinfo.ZoneInfo(profile.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        # Overrides, not activations: the thread serves the next request (or test) in its own language.
        with translation.override(language), timezone.override(zone):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary = response.headers.get("Vary", "")
        if "Accept-Language" not in patch_vary:
            response.headers["Vary"] = ", ".join(v for v in (patch_vary, "Accept-Language") if v)
        return response


class ConsolePageMiddleware:
    """Answer a console page the staff member's role may not open with 403 and the reason, before
    its view runs (the table is people.console_pages.PAGES). Signing in is left to the views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.namespace not in CONSOLE_NAMESPACES or not request.user.is_authenticated:
            return None
        scope = console_scope(request)
        if may_open(request.actor, scope.program.pk if scope.program else None,  # type: ignore[attr-defined]
                    match.view_name):
            return None
        return forbidden(request, match.view_name)
