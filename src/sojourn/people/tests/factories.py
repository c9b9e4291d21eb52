"""People made through the product's own services."""

from __future__ import annotations

from datetime import date
from itertools import count

from django.contrib.auth.models import AbstractUser

from sojourn.core.models import Program
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM
from sojourn.people.identity import PatientIdentity, PostalAddress
from sojourn.people.models import Patient
from sojourn.people.services.patients import register_patient
from sojourn.people.services.staff import create_staff, grant_membership

PASSWORD = "correct-horse-battery-42"
_serial = count(1)

MARKET_DEFAULTS = {
    "DE": ("de-DE", "Europe/Berlin"),
    "GB": ("en-GB", "Europe/London"),
    "JP": ("ja-JP", "Asia/Tokyo"),
    "US": ("en-US", "America/New_York"),
    "CA": ("en-CA", "America/Toronto"),
}


def make_staff(email: str, role: Role | None = None, program: Program | None = None,
               markets: tuple[str, ...] | None = None, language: str = "", time_zone: str = "UTC",
               platform_admin: bool = False) -> AbstractUser:
    user = create_staff(actor=SYSTEM, email=email, display_name=email.split("@")[0], password=PASSWORD,
                        language=language, time_zone=time_zone, is_platform_admin=platform_admin)
    if role is not None and program is not None:
        grant_membership(actor=SYSTEM, user=user, program=program, role=role,
                         markets=list(markets) if markets is not None else None)
    return user


def make_patient(program: Program, market: str = "DE", *, given_name: str = "Lena", family_name: str = "Hoffmann",
                 email: str | None = None, phone: str | None = None, locale: str | None = None) -> Patient:
    n = next(_serial)
    default_locale, zone = MARKET_DEFAULTS[market]
    identity = PatientIdentity(
        given_name=given_name, family_name=family_name,
        email=email if email is not None else f"patient{n}@example.org",
        phone=phone if phone is not None else "",
        birth_date=date(1980, 5, 17),
        postal_address=PostalAddress(lines=("Torstraße 12",), postal_code="10119", city="Berlin", region="",
                                     country=market),
    )
    return register_patient(actor=SYSTEM, program=program, market=market, identity=identity,
                            locale=locale or default_locale, time_zone=zone)


__all__ = ["MARKET_DEFAULTS", "PASSWORD", "make_patient", "make_staff"]
