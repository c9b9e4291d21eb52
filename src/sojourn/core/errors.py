"""Domain errors: a stable code, a translated message, and the field at fault.

Services raise these and nothing HTTP-shaped; the API maps them to status codes in one place and
forms turn them into field errors.
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
