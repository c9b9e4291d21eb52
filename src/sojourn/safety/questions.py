"""The safety questions every reached call ends with. A nurse answers each one, yes or no: a call is
not recorded with one unanswered, and any yes goes to drug safety as an intake at once. Asking every
time, not only when the patient volunteers it, is what PV procedures for support programs require."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sojourn.core.errors import ErrorDetail, InvalidInput

QUESTIONS = {
    "side_effect": gettext_lazy("Has the patient had a side effect or felt unwell since the last contact?"),
    "pregnancy": gettext_lazy("Is the patient (or their partner) pregnant or breastfeeding?"),
    "overdose_misuse_error": gettext_lazy("An overdose, misuse, or a mistake in taking or using the medicine?"),
    "lack_of_effect": gettext_lazy("Does the patient say the medicine does not work?"),
    "product_complaint": gettext_lazy("A problem with the product or device itself (broken, leaking, looks wrong)?"),
}


def read_answers(answers: Mapping[str, object], *, reached: bool) -> dict[str, bool]:
    """The answers as yes/no; every question on a reached call, none on another. Every missing answer
    is named at once, so the nurse sees them all."""
    if not reached:
        if any(answers.get(q) in (True, "yes") for q in QUESTIONS):
            raise InvalidInput(_("Safety answers belong to a call in which the patient was reached."),
                               field="safety")
        return {}
    missing = [q for q in QUESTIONS if answers.get(q) not in (True, False, "yes", "no")]
    if missing:
        raise InvalidInput(_("Answer every safety question."), field=f"safety_{missing[0]}",
                           details=[ErrorDetail(_("Answer yes or no: %(question)s") % {"question": QUESTIONS[q]},
                                                field=f"safety_{q}") for q in missing])
    return {q: answers[q] in (True, "yes") for q in QUESTIONS}
