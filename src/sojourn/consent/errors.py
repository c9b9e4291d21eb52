"""Refusals specific to consent, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sojourn.core.errors import AccessDenied, Conflict, InvalidInput


class ConsentVersionNotUsable(InvalidInput):
    code = "consent_version_not_usable"
    default_message = _("This consent version cannot be signed: it is not the approved version in use.")


class RequiredPurposeMissing(InvalidInput):
    code = "required_purpose_missing"
    default_message = _("Every required purpose must be agreed to.")


class ConsentImmutable(Conflict):
    code = "consent_immutable"
    default_message = _("An approved consent version never changes; write a new version.")


class VerificationFailed(InvalidInput):
    code = "verification_failed"
    default_message = _("This code is not valid.")


class NotConsented(InvalidInput):
    code = "not_consented"
    default_message = _("The consent on record does not cover this.")


class SecondPersonRequired(AccessDenied):
    """Erasure cannot be undone: the person who recorded the request does not also carry it out."""

    code = "second_person_required"
    default_message = _("A second person must complete this erasure: not the one who recorded the request.")
