"""Which console page each role may open, in one table: the menu is drawn from it and the console
answers a page a role may not open with 403 and why (people.middleware.ConsolePageMiddleware).

A page is named by its URL name; it needs any one of its permissions in some market of the program
the staff member is working in. Views still fetch what they show through access_<noun>, which
answers the same for missing and forbidden (404): this table decides whether a *kind* of page is
the role's business at all, so that a nurse who follows an old link to the KPIs is told why she
cannot see them instead of being told they do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sojourn.core.actors import Actor
from sojourn.core.permissions import Permission

P = Permission

SIGNED_IN: frozenset[Permission] = frozenset()  # any staff member, whatever their role

# URL name -> any one of these permissions. tests/test_console_pages.py fails for a console URL
# missing here, so a new page cannot slip in without saying who may open it.
PAGES: dict[str, frozenset[Permission]] = {
    "console:home": SIGNED_IN,
    "console:sign-in": SIGNED_IN,
    "console:sign-out": SIGNED_IN,
    "console:switch": SIGNED_IN,
    "console:preferences": SIGNED_IN,
    "console:api-tokens": SIGNED_IN,
    "console:patients": frozenset({P.PATIENT_VIEW}),
    "console:patient": frozenset({P.PATIENT_VIEW}),
    "console:reveal-identity": frozenset({P.PATIENT_READ_PII}),
    "console:invitations": frozenset({P.PROGRAM_MANAGE}),
    "console:invitation-codes": frozenset({P.PROGRAM_MANAGE}),
    "console:audit": frozenset({P.AUDIT_VIEW}),
    "programs-console:definition": frozenset({P.PROGRAM_MANAGE}),
    "programs-console:check": frozenset({P.PROGRAM_MANAGE}),
    "programs-console:review": frozenset({P.PROGRAM_MANAGE}),
    "programs-console:market-live": frozenset({P.PROGRAM_MANAGE}),
    "console-consent:enroll": frozenset({P.PATIENT_MANAGE}),
    "console-consent:patient": frozenset({P.PATIENT_VIEW}),
    "console-consent:withdraw": frozenset({P.PATIENT_MANAGE}),
    "console-consent:read-back": frozenset({P.PATIENT_MANAGE}),
    "console-consent:open-request": frozenset({P.PATIENT_MANAGE}),
    "console-consent:receipt": frozenset({P.PATIENT_READ_PII}),
    "console-consent:requests": frozenset({P.PATIENT_MANAGE}),
    "console-consent:complete-access": frozenset({P.PATIENT_MANAGE}),
    "console-consent:complete-erasure": frozenset({P.PATIENT_MANAGE}),
    # Approved consent texts are what every role explains to patients and doctors.
    "console-consent:documents": frozenset({P.PROGRAM_VIEW}),
    "console-consent:version": frozenset({P.PROGRAM_VIEW}),
    "console-consent:new-version": frozenset({P.CONTENT_EDIT}),
    "console-consent:revise-version": frozenset({P.CONTENT_EDIT}),
    "console-consent:review": frozenset({P.CONTENT_EDIT, P.CONTENT_REVIEW}),
    "tracking:profile": frozenset({P.PATIENT_VIEW}),
    "tracking:stage": frozenset({P.PATIENT_MANAGE}),
    "dialogue-console:rule-sets": frozenset({P.RULES_EDIT, P.RULES_REVIEW}),
    "dialogue-console:rule-set": frozenset({P.RULES_EDIT, P.RULES_REVIEW}),
    "dialogue-console:check": frozenset({P.RULES_EDIT, P.RULES_REVIEW}),
    "dialogue-console:review": frozenset({P.RULES_EDIT, P.RULES_REVIEW}),
    "dialogue-console:dry-run": frozenset({P.RULES_EDIT, P.RULES_REVIEW}),
    "dialogue-console:agenda": frozenset({P.RULES_EDIT, P.RULES_REVIEW, P.PROGRAM_MANAGE}),
    "dialogue-console:outbox": frozenset({P.RULES_EDIT, P.RULES_REVIEW, P.PROGRAM_MANAGE}),
    "dialogue-console:timeline": frozenset({P.PATIENT_VIEW}),
    # Approved instruments are read by everyone who talks with patients or about them.
    "questionnaires-console:list": frozenset({P.PROGRAM_VIEW}),
    "questionnaires-console:detail": frozenset({P.PROGRAM_VIEW}),
    "questionnaires-console:import": frozenset({P.CONTENT_EDIT}),
    "questionnaires-console:review": frozenset({P.CONTENT_EDIT, P.CONTENT_REVIEW}),
    "questionnaires-console:enter": frozenset({P.PATIENT_MANAGE}),
    "content-console:library": frozenset({P.CONTENT_EDIT, P.CONTENT_REVIEW}),
    "content-console:item": frozenset({P.CONTENT_EDIT, P.CONTENT_REVIEW}),
    "content-console:step": frozenset({P.CONTENT_EDIT, P.CONTENT_REVIEW}),
    "insights-console:dashboard": frozenset({P.INSIGHTS_VIEW}),
    "insights-console:compare": frozenset({P.INSIGHTS_VIEW}),
    "insights-console:csv": frozenset({P.INSIGHTS_VIEW}),
    "insights-console:pdf": frozenset({P.INSIGHTS_VIEW}),
    "insights-console:hypotheses": frozenset({P.INSIGHTS_VIEW}),
    "insights-console:hypothesis": frozenset({P.INSIGHTS_VIEW}),
    "insights-console:propose": frozenset({P.JOURNEYS_EDIT}),
    "insights-console:surveys": frozenset({P.INSIGHTS_IMPORT}),
    # The journey map is the program's shared picture; editing it is the journey team's.
    "journeys-console:atlas": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:personas": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:persona": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:persona-new": frozenset({P.JOURNEYS_EDIT}),
    "journeys-console:journey": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:compare": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:revise": frozenset({P.JOURNEYS_EDIT}),
    "journeys-console:pdf": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:png": frozenset({P.PROGRAM_VIEW}),
    "journeys-console:json": frozenset({P.PROGRAM_VIEW}),
    "nurse-console:queue": frozenset({P.NURSE_QUEUE}),
    "nurse-console:task": frozenset({P.NURSE_QUEUE}),
    "nurse-console:take": frozenset({P.NURSE_QUEUE}),
    "safety-console:queue": frozenset({P.SAFETY_MANAGE}),
    "safety-console:intake": frozenset({P.SAFETY_MANAGE}),
    "safety-console:case": frozenset({P.SAFETY_MANAGE}),
    "safety-console:e2b": frozenset({P.SAFETY_MANAGE}),
    "safety-console:line-list": frozenset({P.SAFETY_MANAGE}),
    "safety-console:screening": frozenset({P.SAFETY_MANAGE}),
    "safety-console:reconciliation": frozenset({P.SAFETY_MANAGE}),
}

# The namespaces whose pages are the staff console's (the portals and the API answer on their own).
CONSOLE_NAMESPACES = frozenset(name.split(":")[0] for name in PAGES)


@dataclass(frozen=True)
class MenuEntry:
    url_name: str
    label: Promise


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("console:home", _("Overview")),
    MenuEntry("console:patients", _("Patients")),
    MenuEntry("console-consent:enroll", _("Enroll")),
    MenuEntry("console-consent:requests", _("Data requests")),
    MenuEntry("console:invitations", _("Invitations")),
    MenuEntry("console-consent:documents", _("Consent documents")),
    MenuEntry("questionnaires-console:list", _("Questionnaires")),
    MenuEntry("content-console:library", _("Content")),
    MenuEntry("nurse-console:queue", _("Calls")),
    MenuEntry("safety-console:queue", _("Drug safety")),
    MenuEntry("dialogue-console:rule-sets", _("Rules")),
    MenuEntry("journeys-console:atlas", _("Journeys")),
    MenuEntry("programs-console:definition", _("Program definition")),
    MenuEntry("insights-console:dashboard", _("KPIs")),
    MenuEntry("insights-console:hypotheses", _("Hypotheses")),
    MenuEntry("console:audit", _("Audit trail")),
    MenuEntry("console:api-tokens", _("API tokens")),
    MenuEntry("console:preferences", _("Preferences")),
)


def may_open(actor: Actor, program_id: int | None, url_name: str) -> bool:
    """Whether the page is the actor's business in this program; a page not in PAGES is not."""
    needed = PAGES.get(url_name)
    if needed is None:
        return False
    if not needed:
        return True
    if program_id is None:
        return False
    return any(actor.markets_in(permission, program_id) != frozenset() for permission in needed)


def menu_for(actor: Actor, program_id: int | None) -> list[MenuEntry]:
    return [entry for entry in MENU if may_open(actor, program_id, entry.url_name)]
