"""Keep the API's promise that every error is JSON, even where Django or ninja answer first."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

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
