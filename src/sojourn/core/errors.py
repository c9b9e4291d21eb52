"""Domain errors: a stable code, a translated message, and the field at fault.

Services raise these and nothing HTTP-shaped. Each edge converts them in one place: the API in
sojourn/api.py, the pages in core/middleware.py and core/views.py (shown_on_page for forms), the
`sojourn` commands in core/management/base.py. `http_status` is the one table of status per kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ErrorDetail:
    """One precise problem: where it is (field, file line) and why."""

    message: str
    field: str | None = None
    line: int | None = None
    column: int | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class SojournError(Exception):
    """Base of every business-rule refusal."""

    code = "error"
    default_message = _("The request could not be completed.")

    def __init__(self, message: str = "", *, field: str | None = None,
                 details: list[ErrorDetail] | None = None) -> None:
        self.message = message or str(self.default_message)
        self.field = field
        self.details = list(details or [])
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        details = [d.as_dict() for d in self.details]
        if self.field and not details:
            details = [{"field": self.field, "message": self.message}]
        return {"code": self.code, "message": self.message, "details": details}


class InvalidInput(SojournError):
    code = "invalid"
    default_message = _("The input is not valid.")


class NotFound(SojournError):
    """Also what a forbidden object answers, so that existence never leaks."""

    code = "not_found"
    default_message = _("Not found.")


class AccessDenied(SojournError):
    code = "forbidden"
    default_message = _("You do not have permission to do this.")


class Conflict(SojournError):
    code = "conflict"
    default_message = _("This conflicts with the current state.")


class DataErased(SojournError):
    code = "erased"
    default_message = _("This personal data has been erased.")


# The HTTP status each kind of refusal answers with, for the API and the pages alike.
STATUS_BY_CODE = {
    "invalid": 422,
    "invalid_market_pack": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "erased": 410,
}


def http_status(error: SojournError) -> int:
    """Return the status of the kind a refusal is; one with its own code (not_consented, …) refines a kind."""
    return next((STATUS_BY_CODE[kind.code] for kind in type(error).__mro__
                 if getattr(kind, "code", None) in STATUS_BY_CODE), 400)
