"""Keep the API's promise that every error is JSON, even where Django or ninja answer first; answer a
database too busy to take a write with 503 and "send again", not a server error."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

from sojourn.core.db import is_contention

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
        if request.path.startswith(API_PREFIX):
            body = {"error": {"code": "busy", "message": message, "details": []}}
            response = HttpResponse(json.dumps(body), status=503, content_type="application/json")
        else:
            page = f'<!doctype html><meta charset="utf-8"><title>Sojourn</title><p>{escape(message)}</p>'
            response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
