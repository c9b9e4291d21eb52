"""Keep the API's promise that every error is JSON, even where Django or ninja answer first; answer a
database too busy to take a write with 503 and "send again", not a server error; turn a refusal that
leaves a page's view into the not-found page or the refusal's message."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _

from sojourn.core.control_characters import control_character_paths, has_control_character, refusal_message
from sojourn.core.db import is_contention
from sojourn.core.errors import SojournError, http_status
from sojourn.core.views import HIDDEN, not_found, problems_of

API_PREFIX = "/api/"


def _codes() -> dict[int, tuple[str, str]]:
    return {
        400: ("bad_request", _("The request could not be read.")),
        401: ("unauthenticated", _("Sign in or send a valid API token in the Authorization header.")),
        403: ("forbidden", _("You do not have permission to do this.")),
        404: ("not_found", _("Not found.")),
        405: ("method_not_allowed", _("This method is not allowed here.")),
        413: ("too_large", _("The request is too large.")),
        415: ("unsupported_media_type", _("Send the body as application/json.")),
        429: ("too_many_requests", _("Too many requests; slow down.")),
    }


class ApiErrorEnvelopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and 400 <= response.status_code < 500
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _codes().get(response.status_code, ("client_error", _("The request was refused.")))
            body = {"error": {"code": code, "message": message, "details": []}}
            replacement = HttpResponse(json.dumps(body), status=response.status_code, content_type="application/json")
            if "Allow" in response:
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


def _api_error(status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _page(status: int, message: str) -> HttpResponse:
    page = f'<!doctype html><meta charset="utf-8"><title>Sojourn</title><p>{escape(message)}</p>'
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


def _form_fields(request: HttpRequest) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.POST.lists() for value in [key, *values]]


def _refused_fields(request: HttpRequest, api: bool) -> list[tuple[str, str]]:
    """Return (where, field) for each part of the request holding a control character."""
    refused: list[tuple[str, str]] = []
    if has_control_character(request.path):
        refused.append(("path", "path"))
    for key, values in request.GET.lists():
        if any(has_control_character(text) for text in (key, *values)):
            refused.append(("query", key))
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return refused
    if request.content_type in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        refused += [("form", key) for key, text in _form_fields(request) if has_control_character(text)]
        for key, upload in request.FILES.items():
            if has_control_character(upload.name or ""):
                refused.append(("form", key))
    elif api and request.body:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):
            return refused  # not JSON, or nested past the parser's depth: the API answers that itself
        refused += [("body", ".".join(path)) for path in control_character_paths(data)]
    return refused


class RequestGuardMiddleware:
    """Refuse, before any view runs, what no view should have to think about: a body past the size
    bound (413) and control characters in the path, the query, a form or a JSON body (422 naming the
    field for the API; a plain page for forms). See docs/security.md."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith(API_PREFIX)
        try:
            refused = _refused_fields(request, api)
        except RequestDataTooBig:
            if api:
                return _api_error(413, "too_large", _("The request is too large."))
            return _page(413, _("The request is too large."))
        except MultiPartParserError:  # read here first, so answered here as the view would have
            if api:
                return _api_error(400, "bad_request", _("The request could not be read."))
            return _page(400, _("The request could not be read."))
        if not refused:
            return self.get_response(request)
        message = refusal_message()
        if api:
            details = [{"field": field, "in": where, "message": message, "code": "control_character"}
                       for where, field in refused]
            return _api_error(422, "invalid", _("The request is not valid."), details)
        return _page(422, message)


class DatabaseBusyMiddleware:
    """A write the database could not take now was rolled back whole (see core.db.is_contention): the
    client is told so, with a 503 and Retry-After, and sends again (events carry their own ids, so a
    batch sent twice is stored once)."""

    RETRY_AFTER_SECONDS = 2

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_contention(exception):
            return None
        message = _("The database is busy; nothing was written. Send the request again in a moment.")
        response = _api_error(503, "busy", message) if request.path.startswith(API_PREFIX) else _page(503, message)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response


class DomainErrorPageMiddleware:
    """The one place a page's refusal becomes HTML: what is missing or not the actor's to see answers the
    not-found page (the two alike), any other refusal a page with its problems and the kind's status,
    never a server error. Forms that show a refusal next to their fields use core.views.shown_on_page;
    the API converts its own (sojourn/api.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith(API_PREFIX) or not isinstance(exception, SojournError):
            return None
        if isinstance(exception, HIDDEN):
            return not_found(request)
        return render(request, "refused.html", {"problems": problems_of(exception)}, status=http_status(exception))
