"""Staff accounts and their memberships (role × program × markets)."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission, Role
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Membership, StaffProfile

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def _check_profile(language: str, time_zone: str) -> None:
    if language and language not in LANGUAGE_CODES:
        raise InvalidInput(_("Choose one of the console languages."), field="language")
    if time_zone not in zoneinfo.available_timezones():
        raise InvalidInput(_("%(zone)s is not a time zone.") % {"zone": time_zone}, field="time_zone")


def create_staff(*, actor: Actor, email: str, display_name: str, password: str, language: str = "",
                 time_zone: str = "UTC", is_platform_admin: bool = False) -> AbstractUser:
    """Create a staff account; only the platform (CLI) or a platform admin may."""
    if not actor.is_privileged:
        raise AccessDenied()
    email = email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise InvalidInput(_("Enter a valid email address."), field="email") from exc
    if not display_name.strip():
        raise InvalidInput(_("Enter a display name."), field="display_name")
    _check_profile(language, time_zone)
    user_model = get_user_model()
    try:
        validate_password(password, user_model(username=email, email=email))
    except DjangoValidationError as exc:
        raise InvalidInput(
            " ".join(exc.messages), field="password",
            details=[ErrorDetail(m, field="password") for m in exc.messages],
        ) from exc
    with transaction.atomic(durable=True):
        if user_model.objects.filter(username=email).exists():
            raise Conflict(_("A staff member with this email exists."), field="email")
        user = user_model.objects.create_user(username=email, email=email, password=password,
                                              is_superuser=is_platform_admin)
        StaffProfile.objects.create(user=user, display_name=display_name.strip(), language=language,
                                    time_zone=time_zone)
        record_audit(actor=actor, action="staff.created", subject_type="staff", subject_id=user.pk,
                     after={"platform_admin": is_platform_admin})
        return user


def update_staff_preferences(*, actor: Actor, user: AbstractUser, language: str, time_zone: str) -> StaffProfile:
    if actor.user_id != user.pk and not actor.is_privileged:
        raise AccessDenied()
    _check_profile(language, time_zone)
    with transaction.atomic(durable=True):
        profile, _created = StaffProfile.objects.get_or_create(user=user, defaults={"display_name": user.username})
        before = {"language": profile.language, "time_zone": profile.time_zone}
        profile.language, profile.time_zone = language, time_zone
        profile.save(update_fields=["language", "time_zone"])
        record_audit(actor=actor, action="staff.preferences_changed", subject_type="staff", subject_id=user.pk,
                     before=before, after={"language": language, "time_zone": time_zone})
        return profile


def _checked_grant(actor: Actor, program: Program, role: Role,
                   markets: list[str] | None) -> tuple[list[str] | None, list[Market]]:
    """Return the grant's countries (None: every market) and their markets, once the actor may give it."""
    countries = None if markets is None else sorted(set(markets))
    if countries is None:
        actor.require(Permission.STAFF_MANAGE, program.pk)
    else:
        if not countries:
            raise InvalidInput(_("Choose at least one market."), field="markets")
        for country in countries:
            actor.require(Permission.STAFF_MANAGE, program.pk, country)
    # Only an administrator hands out administration (not a token narrowed below it).
    if role == Role.ADMIN and not (actor.is_privileged or any(
            g.program_id == program.pk and g.role == Role.ADMIN and g.markets is None and g.only is None
            for g in actor.grants)):
        raise AccessDenied()
    market_rows = []
    if countries is not None:
        market_rows = list(Market.objects.filter(program_markets__program=program, country__in=countries))
        unknown = sorted(set(countries) - {m.country for m in market_rows})
        if unknown:
            raise InvalidInput(_("The program does not run in %(markets)s.") % {"markets": ", ".join(unknown)},
                               field="markets")
    return countries, market_rows


def _write_grant(actor: Actor, user: AbstractUser, program: Program, role: Role, countries: list[str] | None,
                 market_rows: list[Market]) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, program=program, role=role, defaults={"all_markets": countries is None}
    )
    before = None if created else {
        "all_markets": membership.all_markets,
        "markets": sorted(membership.markets.values_list("country", flat=True)),
    }
    membership.all_markets = countries is None
    membership.save(update_fields=["all_markets"])
    membership.markets.set(market_rows)
    record_audit(actor=actor, action="role.granted", subject_type="staff", subject_id=user.pk,
                 program_id=program.pk, before=before,
                 after={"role": role.value, "all_markets": countries is None, "markets": countries or []})
    return membership


def grant_membership(*, actor: Actor, user: AbstractUser, program: Program, role: Role,
                     markets: list[str] | None) -> Membership:
    """Give a role in a program, in the listed markets (None: every market of the program)."""
    countries, market_rows = _checked_grant(actor, program, role, markets)
    with transaction.atomic(durable=True):
        return _write_grant(actor, user, program, role, countries, market_rows)


def create_service_account(*, actor: Actor, program: Program, name: str, role: Role,
                           markets: list[str] | None) -> AbstractUser:
    """Create an integration's own account in one program with one role: it has no password and acts
    only through API tokens, which its program's staff managers issue, rotate and revoke."""
    countries, market_rows = _checked_grant(actor, program, role, markets)
    label = " ".join(name.split())
    if not label or len(label) > 80:
        raise InvalidInput(_("Name the service account after the system that uses it (1 to 80 characters)."),
                           field="name")
    user_model = get_user_model()
    username = f"service:{program.slug}:{slugify(label)}"[:150]
    with transaction.atomic(durable=True):
        if user_model.objects.filter(username=username).exists():
            raise Conflict(_("This program has a service account of that name."), field="name")
        user = user_model(username=username, email="")
        user.set_unusable_password()
        user.save()
        StaffProfile.objects.create(user=user, display_name=label, service_program=program)
        record_audit(actor=actor, action="service_account.created", subject_type="staff", subject_id=user.pk,
                     program_id=program.pk, after={"name": label})
        _write_grant(actor, user, program, role, countries, market_rows)
    return user


def revoke_membership(*, actor: Actor, membership_id: int) -> None:
    membership = Membership.objects.select_related("program").filter(pk=membership_id).first()
    if membership is None or not actor.can(Permission.STAFF_MANAGE, membership.program_id):
        raise NotFound()
    with transaction.atomic(durable=True):
        record_audit(actor=actor, action="role.revoked", subject_type="staff", subject_id=membership.user_id,
                     program_id=membership.program_id,
                     before={"role": membership.role, "all_markets": membership.all_markets,
                             "markets": sorted(membership.markets.values_list("country", flat=True))})
        membership.delete()
