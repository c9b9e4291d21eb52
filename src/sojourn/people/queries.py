"""Reads about staff and patients, scoped to the actor."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from sojourn.core.actors import Actor, Grant
from sojourn.core.errors import NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import Permission, Role
from sojourn.people.models import Membership, Patient


def actor_for_user(user: AbstractBaseUser | AnonymousUser) -> Actor:
    """Build the actor for a signed-in user from their memberships (one query)."""
    if not user.is_authenticated or not user.is_active:
        return Actor.anonymous()
    grants = []
    for membership in Membership.objects.filter(user=user).prefetch_related("markets"):
        markets = None if membership.all_markets else frozenset(m.country for m in membership.markets.all())
        grants.append(Grant(program_id=membership.program_id, role=Role(membership.role), markets=markets))
    label = getattr(getattr(user, "staff_profile", None), "display_name", "") or user.get_username()
    return Actor(kind="staff", label=label, user_id=user.pk, grants=tuple(grants),
                 is_platform_admin=bool(user.is_superuser))


def patients_for(actor: Actor, program: Program, permission: Permission = Permission.PATIENT_VIEW,
                 market: str | None = None) -> QuerySet[Patient]:
    patients = Patient.objects.filter(program=program).select_related("market").order_by("pseudonym")
    allowed = actor.markets_in(permission, program.pk)
    if allowed is not None:
        patients = patients.filter(market__country__in=allowed)
    if market:
        patients = patients.filter(market__country=market)
    return patients


def access_patient(actor: Actor, pseudonym: str, permission: Permission = Permission.PATIENT_VIEW) -> Patient:
    """Return the patient if the actor holds the permission in their market; else NotFound."""
    patient = Patient.objects.select_related("program", "market", "data_key").filter(pseudonym=pseudonym).first()
    if patient is None or not actor.can(permission, patient.program_id, patient.market.country):
        raise NotFound()
    return patient
