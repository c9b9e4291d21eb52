"""Staff roles and what each may do: the one table every service consults.

A membership gives a role in one program, limited to some of its markets or to all of them.
Services ask the actor (see actors.py), never a view, so the API, CLI and workers are held to the
same rules as the console.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Permission(StrEnum):
    PROGRAM_VIEW = "program.view"
    PROGRAM_MANAGE = "program.manage"
    MARKET_ACTIVATE = "market.activate"
    STAFF_MANAGE = "staff.manage"
    PATIENT_VIEW = "patient.view"  # the pseudonymous record only
    PATIENT_READ_PII = "patient.read_pii"  # names, contact details, birth date, address
    PATIENT_MANAGE = "patient.manage"  # enroll, change, erase
    CONTENT_EDIT = "content.edit"
    CONTENT_REVIEW = "content.review"  # MLR approval of content and consent texts
    RULES_EDIT = "rules.edit"
    RULES_REVIEW = "rules.review"
    NURSE_QUEUE = "nurse.queue"
    INSIGHTS_VIEW = "insights.view"  # aggregates, small cells suppressed
    INSIGHTS_IMPORT = "insights.import"
    JOURNEYS_EDIT = "journeys.edit"  # journey maps, personas and the hypotheses tested against the data
    SAFETY_REPORT = "safety.report"
    SAFETY_MANAGE = "safety.manage"
    AUDIT_VIEW = "audit.view"
    EVENTS_WRITE = "events.write"  # send touchpoint events (integrations: CRM, apps, print house)


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    PROGRAM_MANAGER = "program_manager", _("Program manager")
    CONTENT_REVIEWER = "content_reviewer", _("Content reviewer")
    NURSE = "nurse", _("Nurse")
    INSIGHTS_ANALYST = "insights_analyst", _("Insights analyst")
    SAFETY_OFFICER = "safety_officer", _("Safety officer")
    AGENCY_USER = "agency_user", _("Agency user")


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PROGRAM_MANAGER: frozenset(
        {P.PROGRAM_VIEW, P.PROGRAM_MANAGE, P.MARKET_ACTIVATE, P.STAFF_MANAGE, P.PATIENT_VIEW,
         P.CONTENT_EDIT, P.RULES_EDIT, P.INSIGHTS_VIEW, P.JOURNEYS_EDIT, P.AUDIT_VIEW, P.EVENTS_WRITE}
    ),
    Role.CONTENT_REVIEWER: frozenset({P.PROGRAM_VIEW, P.CONTENT_REVIEW, P.RULES_REVIEW}),
    Role.NURSE: frozenset(
        {P.PROGRAM_VIEW, P.PATIENT_VIEW, P.PATIENT_READ_PII, P.PATIENT_MANAGE, P.NURSE_QUEUE, P.SAFETY_REPORT}
    ),
    Role.INSIGHTS_ANALYST: frozenset({P.PROGRAM_VIEW, P.INSIGHTS_VIEW, P.INSIGHTS_IMPORT, P.JOURNEYS_EDIT}),
    # Pharmacovigilance must be able to follow up with the reporter, hence the identity.
    Role.SAFETY_OFFICER: frozenset(
        {P.PROGRAM_VIEW, P.PATIENT_VIEW, P.PATIENT_READ_PII, P.SAFETY_REPORT, P.SAFETY_MANAGE}
    ),
    Role.AGENCY_USER: frozenset({P.PROGRAM_VIEW, P.CONTENT_EDIT, P.RULES_EDIT, P.INSIGHTS_VIEW, P.JOURNEYS_EDIT}),
}

# Permissions whose scope is the whole program, not a market within it.
PROGRAM_WIDE = frozenset({P.PROGRAM_MANAGE, P.STAFF_MANAGE, P.MARKET_ACTIVATE})

# What each permission lets a person do, in words a staff member reads on a refusal.
PERMISSION_LABELS: dict[Permission, str] = {
    P.PROGRAM_VIEW: _("see the program"),
    P.PROGRAM_MANAGE: _("manage the program"),
    P.MARKET_ACTIVATE: _("activate markets"),
    P.STAFF_MANAGE: _("manage staff"),
    P.PATIENT_VIEW: _("see patients' pseudonymous records"),
    P.PATIENT_READ_PII: _("read patients' identities"),
    P.PATIENT_MANAGE: _("enroll and change patients"),
    P.CONTENT_EDIT: _("write content and consent texts"),
    P.CONTENT_REVIEW: _("review content and consent texts"),
    P.RULES_EDIT: _("write dialogue rules"),
    P.RULES_REVIEW: _("review dialogue rules"),
    P.NURSE_QUEUE: _("work the nurse call queue"),
    P.INSIGHTS_VIEW: _("see KPIs and hypotheses"),
    P.INSIGHTS_IMPORT: _("import outside survey data"),
    P.JOURNEYS_EDIT: _("edit journeys, personas and hypotheses"),
    P.SAFETY_REPORT: _("report adverse events"),
    P.SAFETY_MANAGE: _("manage safety cases"),
    P.AUDIT_VIEW: _("read the audit trail"),
    P.EVENTS_WRITE: _("send touchpoint events"),
}
