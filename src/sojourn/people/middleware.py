"""Per request: who is acting, in which language and time zone, in which program and market."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from sojourn.core.i18n import choose_language
from sojourn.people.queries import actor_for_user


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
