"""The JSON API at /api/v1: one NinjaAPI, one place where domain errors become HTTP answers.

Every error answers ``{"error": {"code", "message", "details": [...]}}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from sojourn.channels.api import router as channels_router
from sojourn.consent.api import router as consent_router
from sojourn.core.api import router as core_router
from sojourn.core.errors import SojournError
from sojourn.insights.api import router as insights_router
from sojourn.journeys.api import router as journeys_router
from sojourn.people.api import router as people_router
from sojourn.people.api_auth import BearerToken, SessionWithCsrf
from sojourn.questionnaires.api import router as questionnaires_router
from sojourn.tracking.api import router as tracking_router

STATUS_BY_CODE = {
    "invalid": 422,
    "invalid_market_pack": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "erased": 410,
}

api = NinjaAPI(
    title="Sojourn API",
    version="1",
    description="Patient support programs: programs, markets, patients and more. "
    "Authenticate with `Authorization: Bearer <token>` or a console session.",
    urls_namespace="api-v1",
    auth=[BearerToken(), SessionWithCsrf()],
    docs_url="/docs",
)


def error_response(request: HttpRequest, status: int, code: str, message: str,
                   details: list[dict[str, Any]] | None = None) -> HttpResponse:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return api.create_response(request, body, status=status)


@api.exception_handler(SojournError)
def _domain_error(request: HttpRequest, exc: SojournError) -> HttpResponse:
    body = exc.as_dict()
    # A refusal with its own code (not_consented, …) answers with the status of the kind it refines.
    status = next((STATUS_BY_CODE[k.code] for k in type(exc).__mro__ if getattr(k, "code", None) in STATUS_BY_CODE),
                  400)
    return error_response(request, status, body["code"], body["message"], body["details"])


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # The first part says where (body, query, path); in the body the next is our parameter's name,
        # which the client never wrote; the rest names the field.
        if len(loc) > 2 and loc[0] == "body":
            loc = [loc[0], *loc[2:]]
        details.append({"field": ".".join(loc[1:]) or loc[0] if loc else None, "in": loc[0] if loc else None,
                        "message": str(error.get("msg", "invalid")), "code": str(error.get("type", "invalid"))})
    return error_response(request, 422, "invalid", _("The request is not valid."), details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthenticated",
                          _("Sign in or send a valid API token in the Authorization header."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


api.add_router("/", core_router)
api.add_router("/", people_router)
api.add_router("/", consent_router)
api.add_router("/", questionnaires_router)
api.add_router("/", tracking_router)
api.add_router("/", channels_router)
api.add_router("/", insights_router)
api.add_router("/", journeys_router)
