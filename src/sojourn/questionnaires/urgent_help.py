"""What a patient is told at once when their answers raise an urgent flag (PHQ-9 item 9 above 0):
where to turn now, from their market pack's crisis help, and whether a nurse will call. Shown on the
page that thanks them and sent as the last text of an SMS questionnaire."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from sojourn.consent.queries import granted_purposes
from sojourn.people.models import Patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.scoring import flag_declarations

CALL_PURPOSES = {"nurse_calls", "contact_phone"}


def urgent_flags(response: QuestionnaireResponse) -> list[str]:
    declared = flag_declarations(response.questionnaire.scoring)
    return [code for code in response.flags if declared.get(code, {}).get("urgent")]


def urgent_help(patient: Patient) -> dict[str, Any]:
    """The market's numbers and whether the patient agreed to calls, for the page."""
    help_ = patient.market.pack.get("crisis_help") or {}
    return {"emergency": help_.get("emergency", ""), "line": help_.get("line"),
            "nurse_calls": granted_purposes(patient) >= CALL_PURPOSES}


def urgent_help_text(patient: Patient) -> str:
    """The same in one text message, in the active language."""
    found = urgent_help(patient)
    parts = [_("Thank you for telling us about thoughts of death or of hurting yourself.")]
    if found["emergency"]:
        parts.append(_("If you might act on them now, call %(number)s.") % {"number": found["emergency"]})
    else:
        parts.append(_("If you might act on them now, call your local emergency number."))
    if found["line"]:
        parts.append(_("To talk to someone: %(name)s, %(phone)s (%(hours)s).") % found["line"])
    parts.append(_("A nurse from the program will call you as soon as possible.") if found["nurse_calls"]
                 else _("Please tell your doctor about these thoughts soon."))
    return " ".join(parts)
