"""What each thing the program does with a patient needs of their consent: one declared table for the
dialogue's actions and one for every export that leaves the program.

The engine asks `action_refusal` when it decides an action and the outbox asks it again when the
message leaves; exports name their entry in `EXPORT_PURPOSES` and read only patients who granted
it (`consent.queries.patients_granting`). consent/tests/test_purposes.py fails when an action kind or
an export exists without a line here. See docs/architecture.md ("What consent each action needs").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from sojourn.consent.errors import NotConsented
from sojourn.consent.queries import CHANNEL_PURPOSE, granted_purposes
from sojourn.people.models import Patient

PARTICIPATION = "program_participation"


@dataclass(frozen=True)
class Needs:
    """Purposes that must all be granted on the patient's active consent record."""

    purposes: tuple[str, ...]
    by_channel: bool = False  # and the purpose of the channel it goes by (consent.queries.CHANNEL_PURPOSE)
    # Why no purpose is needed, where none is: a legal duty, the person's own right, or no patient's data.
    without_consent: str = ""


# The dialogue's action kinds (dialogue.rules.ACTIONS), each with the purposes it needs.
ACTION_PURPOSES: dict[str, Needs] = {
    "send": Needs((PARTICIPATION,), by_channel=True),
    "ask_questionnaire": Needs((PARTICIPATION,), by_channel=True),
    "print": Needs((PARTICIPATION,), by_channel=True),  # by post: contact_post
    # A call from a nurse is a purpose of its own: a phone number given for reminders is not a yes to calls.
    "nurse_task": Needs((PARTICIPATION, "nurse_calls"), by_channel=True),
    "set_stage": Needs((PARTICIPATION,)),
    "unlock_level": Needs((PARTICIPATION,)),
    "set_flag": Needs((PARTICIPATION,)),
    "clear_flag": Needs((PARTICIPATION,)),
    "follow_up": Needs((PARTICIPATION,)),
    # Passing a suspected adverse reaction to drug safety is the sponsor's legal obligation
    # (pharmacovigilance: EU GVP module VI, 21 CFR 314.80, PMDA), not a purpose the patient may decline:
    # it needs no marketing or contact purpose, on purpose, and is never refused for want of one.
    "refer_safety": Needs((), without_consent="legal obligation: pharmacovigilance"),
}

RESEARCH = Needs(("research_use",))
NO_PATIENT_DATA = Needs((), without_consent="no patient's data")
OWN_RIGHT = Needs((), without_consent="the person's own right to their data and to proof of their consent")

# Every export that leaves the program, by URL name, with the purpose its patients must have granted.
# Aggregates (KPIs, the journey map's KPI tiles) count only patients who agreed to research use.
EXPORT_PURPOSES: dict[str, Needs] = {
    "insights-console:csv": RESEARCH,
    "insights-console:pdf": RESEARCH,
    "api-v1:export_kpis": RESEARCH,  # the same figures as the CSV, as JSON
    "journeys-console:pdf": RESEARCH,  # the map with the market's KPI tiles
    "journeys-console:png": RESEARCH,
    "journeys-console:json": NO_PATIENT_DATA,  # the map as the team wrote it, with hypotheses as evidence
    "api-v1:export_journey": NO_PATIENT_DATA,
    "api-v1:export_fhir": NO_PATIENT_DATA,  # a questionnaire's definition
    "console:invitation-codes": NO_PATIENT_DATA,  # codes for printed cards, before anyone enrolled
    # One response of a patient, pseudonymous, to the sponsor's systems: part of running the program.
    "api-v1:response_fhir": Needs((PARTICIPATION,)),
    # Access and portability (GDPR art. 15 and 20, and the like elsewhere) and consent receipts
    # (art. 7(1)): owed to the person whatever they agreed to, including after withdrawal.
    "api-v1:complete_access": OWN_RIGHT,
    "console-consent:complete-access": OWN_RIGHT,
    "api-v1:consent_receipt": OWN_RIGHT,
    "console-consent:receipt": OWN_RIGHT,
    "portal:receipt": OWN_RIGHT,
    "portal:hcp-receipt": OWN_RIGHT,
}


def needed_purposes(needs: Needs, channel: str | None = None) -> list[str]:
    """The purposes, in the order a refusal names them (the action's own before the channel's)."""
    wanted = list(needs.purposes)
    by_channel = CHANNEL_PURPOSE.get(channel or "") if needs.by_channel else None
    if by_channel and by_channel not in wanted:
        wanted.append(by_channel)
    return wanted


def action_refusal(kind: str, granted: Iterable[str], channel: str | None = None) -> str:
    """Why this action may not be taken for a patient who granted these purposes ('' if it may).

    An action kind missing from the table is a KeyError: nothing acts without a declared purpose."""
    have = set(granted)
    missing = [p for p in needed_purposes(ACTION_PURPOSES[kind], channel) if p not in have]
    return f"no consent for {', '.join(missing)}" if missing else ""


def export_purposes(name: str) -> tuple[str, ...]:
    """The purposes an export's patients must have granted (KeyError for an undeclared export)."""
    return EXPORT_PURPOSES[name].purposes


def require_export_purposes(name: str, patient: Patient) -> None:
    """Refuse to export this patient's data where their consent in force lacks the export's purposes."""
    missing = [p for p in export_purposes(name) if p not in granted_purposes(patient)]
    if missing:
        raise NotConsented(_("The patient's consent does not cover this export (%(purposes)s).")
                           % {"purposes": ", ".join(missing)})
