"""Reads about staff and patients, scoped to the actor."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from sojourn.core.actors import Actor, Grant
from sojourn.core.errors import NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission, Role
from sojourn.people.models import ApiToken, Invitation, Membership, Patient, StaffProfile


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


def patient_counts(actor: Actor, program: Program) -> dict[str, int]:
    """Patients enrolled per market, for the markets where the actor sees patients or their aggregates
    (an analyst sees how many, never who); a market missing from the answer is not the actor's to count."""
    visible: set[str] | None = set()
    for permission in (Permission.PATIENT_VIEW, Permission.INSIGHTS_VIEW):
        markets = actor.markets_in(permission, program.pk)
        if markets is None:
            visible = None
            break
        visible |= markets
    patients = Patient.objects.filter(program=program)
    if visible is not None:
        patients = patients.filter(market__country__in=visible)
    counted = {row["market__country"]: row["n"]
               for row in patients.order_by().values("market__country").annotate(n=Count("pk"))}
    countries = Market.objects.filter(program_markets__program=program).values_list("country", flat=True)
    return {c: counted.get(c, 0) for c in countries if visible is None or c in visible}


def access_patient(actor: Actor, pseudonym: str, permission: Permission = Permission.PATIENT_VIEW) -> Patient:
    """Return the patient if the actor holds the permission in their market; else NotFound."""
    patient = Patient.objects.select_related("program", "market", "data_key").filter(pseudonym=pseudonym).first()
    if patient is None or not actor.can(permission, patient.program_id, patient.market.country):
        raise NotFound()
    return patient


def invitation_runs(actor: Actor, program: Program, market: str | None = None) -> QuerySet[Invitation]:
    """Print runs of invitation cards in the markets the actor manages, newest first: a row per run
    (market, name, dermatologist, when) with the cards printed and those used to enroll."""
    runs = Invitation.objects.filter(program=program)
    allowed = actor.markets_in(Permission.PROGRAM_MANAGE, program.pk)
    if allowed is not None:
        runs = runs.filter(market__country__in=allowed)
    if market:
        runs = runs.filter(market__country=market)
    return (runs.values("market__country", "batch", "hcp__pseudonym", "issued_at")
            .annotate(cards=Count("pk"), used=Count("accepted_at")).order_by("-issued_at", "market__country", "batch"))


def invitation_run_codes(actor: Actor, program: Program, market: str, batch: str) -> QuerySet[Invitation]:
    """The codes of a named print run, for the print house; NotFound outside the actor's markets."""
    if not batch or not actor.can(Permission.PROGRAM_MANAGE, program.pk, market):
        raise NotFound()
    codes = (Invitation.objects.filter(program=program, market__country=market, batch=batch)
             .select_related("hcp").order_by("code"))
    if not codes.exists():
        raise NotFound()
    return codes


def patients_with_index(program: Program, field: str, value: str) -> QuerySet[Patient]:
    """The program's patient with this blind index of their email or phone. The condition on an empty
    index is the unique index's own: without it SQLite walks every patient of the program instead
    (a scan per enrollment, quadratic over a cohort)."""
    column = f"{field}_index"
    return Patient.objects.filter(program=program, **{column: value}).exclude(**{column: ""})


def tokens_for(actor: Actor, program: Program | None = None) -> QuerySet[ApiToken]:
    """The API tokens the actor manages: their own, and those of the service accounts of programs where
    they manage staff (of `program` only, when given), newest first."""
    mine = Q(user_id=actor.user_id) if actor.user_id is not None else Q(pk__in=[])
    if actor.is_privileged:
        managed = Q(user__staff_profile__service_program__isnull=False)
    else:
        managed = Q(user__staff_profile__service_program_id__in=[
            pid for pid in actor.program_ids(Permission.STAFF_MANAGE) or () if actor.can(Permission.STAFF_MANAGE, pid)])
    if program is not None:
        managed &= Q(user__staff_profile__service_program=program)
    return (ApiToken.objects.filter(mine | managed).select_related("user__staff_profile", "program")
            .order_by("-created_at", "-pk"))


def service_accounts(actor: Actor, program: Program) -> QuerySet[StaffProfile]:
    """The program's service accounts, for those who manage its staff."""
    if not actor.can(Permission.STAFF_MANAGE, program.pk):
        return StaffProfile.objects.none()
    return (StaffProfile.objects.filter(service_program=program).select_related("user")
            .prefetch_related("user__memberships").order_by("display_name"))
