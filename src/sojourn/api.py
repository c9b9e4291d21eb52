"""The JSON API at /api/v1: one NinjaAPI, one place where domain errors become HTTP answers.

Every error answers ``{"error": {"code", "message", "details": [{"field", "message", …}]}}`` (ErrorOut,
declared for every operation's error statuses) with a 4xx or 503 status; core/middleware.py gives the
same body where Django or the request guard answer before ninja.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import Field

from sojourn.channels.api import router as channels_router
from sojourn.consent.api import router as consent_router
from sojourn.content.api import router as content_router
from sojourn.core.api import router as core_router
from sojourn.core.errors import SojournError, http_status
from sojourn.dialogue.api import router as dialogue_router
from sojourn.insights.api import router as insights_router
from sojourn.journeys.api import router as journeys_router
from sojourn.people.api import router as people_router
from sojourn.people.api_auth import BearerToken, SessionWithCsrf
from sojourn.programs.api import router as programs_router
from sojourn.questionnaires.api import router as questionnaires_router
from sojourn.safety.api import router as safety_router
from sojourn.tracking.api import router as tracking_router


class ErrorDetailOut(Schema):
    """One problem of a refused request: where it is and why."""

    field: str | None = Field(None, description="The field at fault, dotted (items.2.occurred_at), if any")
    in_: str | None = Field(None, alias="in", description="Where the parsing found it: body, query or path")
    message: str = Field(description="Translated into the caller's language")
    code: str | None = Field(None, description="A stable code for this problem")
    line: int | None = Field(None, description="The line of an uploaded file")
    column: int | None = Field(None, description="The column of an uploaded file")


class ErrorBodyOut(Schema):
    code: str = Field(description="Stable code: invalid, not_found, forbidden, conflict, erased, …")
    message: str = Field(description="Translated into the caller's language")
    details: list[ErrorDetailOut] = Field(description="Each problem, naming its field; empty when there is one")


class ErrorOut(Schema):
    """The one error body of the API, whatever refused the request (ninja, the guard or a service)."""

    error: ErrorBodyOut


def _error_components() -> dict[str, Any]:
    """Return the error body's schemas for the document's components, named as the other schemas are."""
    document = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    nested = document.pop("$defs", {})
    return {**nested, "Error": document}


ERROR_MEANINGS = {
    400: "The body is not JSON",
    401: "No valid token or session",
    403: "Your role may not do this",
    404: "Not found, or not yours to see (the two answer alike)",
    409: "Conflicts with the current state",
    410: "The personal data has been erased",
    413: "The body is larger than the server accepts",
    422: "Not valid: each problem names its field (control characters are refused everywhere)",
    503: "The database is busy; nothing was written, send again",
}
# Path parameters that name a person's records: their data may have been erased since.
PERSONAL_PARAMETERS = {"pseudonym", "request_id", "record_id", "response_id"}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """Return the error statuses an operation can answer, from what it takes and how it is called."""
    statuses = {404, 422}  # any path may be unknown, any input may hold a control character
    if operation.get("security"):
        statuses |= {401, 403}
    if "requestBody" in operation:
        statuses |= {400, 413}
    if method in {"post", "put", "patch", "delete"}:
        statuses |= {409, 503}
    if any(p.get("in") == "path" and p.get("name") in PERSONAL_PARAMETERS for p in operation.get("parameters", [])):
        statuses.add(410)
    return sorted(statuses)


# What the request guard (core/middleware.py) lets through: no control character but tab, CR and LF.
CLEAN_TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
# Any JSON value whose texts and keys are clean: what an untyped field (an event's data) may hold.
CLEAN_JSON = {
    "description": "Any JSON value without control characters in its texts or keys",
    "anyOf": [
        {"type": "string", "pattern": CLEAN_TEXT},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": {"$ref": "#/components/schemas/CleanJson"}},
        {"type": "object", "propertyNames": {"pattern": CLEAN_TEXT},
         "additionalProperties": {"$ref": "#/components/schemas/CleanJson"}},
    ],
}
_CLEAN_REF = {"$ref": "#/components/schemas/CleanJson"}


def _declare_clean(node: Any, components: dict[str, Any], seen: set[str]) -> Any:
    """Return the request schema `node` with the guard's refusal of control characters declared in it."""
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen and name in components:
            seen.add(name)
            components[name] = _declare_clean(components[name], components, seen)
        return node
    if not node or set(node) <= {"title", "description", "default"}:  # an untyped value: any JSON
        return {**node, **_CLEAN_REF}
    kind = node.get("type")
    if kind == "string" and "pattern" not in node and "format" not in node and "enum" not in node:
        node["pattern"] = CLEAN_TEXT
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node:
        node.setdefault("propertyNames", {})
        node["propertyNames"].setdefault("pattern", CLEAN_TEXT)
        extra = node.get("additionalProperties", True)
        node["additionalProperties"] = _CLEAN_REF if extra is True else _declare_clean(extra, components, seen)
    for key in ("items", "not"):
        if key in node:
            node[key] = _declare_clean(node[key], components, seen)
    for key in ("properties",):
        for name, child in node.get(key, {}).items():
            node[key][name] = _declare_clean(child, components, seen)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if key in node:
            node[key] = [_declare_clean(child, components, seen) for child in node[key]]
    return node


def document_edges(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare what the edge enforces for every operation, in one pass over the generated document: the
    error answers the one conversion below gives (with their envelope), and the refusal of control
    characters in every parameter and body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(_error_components())
    components["CleanJson"] = CLEAN_JSON
    seen: set[str] = set()
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _declare_clean(parameter["schema"], components, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    media["schema"] = _declare_clean(media["schema"], components, seen)
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                responses.setdefault(str(status), {
                    "description": ERROR_MEANINGS[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
    return schema


class SojournApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        return document_edges(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = SojournApi(
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
    return error_response(request, http_status(exc), body["code"], body["message"], body["details"])


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
api.add_router("/", content_router)
api.add_router("/", dialogue_router)
api.add_router("/", tracking_router)
api.add_router("/", channels_router)
api.add_router("/", insights_router)
api.add_router("/", journeys_router)
api.add_router("/", safety_router)
api.add_router("/", programs_router)
