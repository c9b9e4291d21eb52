"""A patient's identity: the personal data that is sealed, and how it is checked and normalized."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.errors import ErrorDetail, InvalidInput

SEALED_FIELDS = ("given_name", "family_name", "email", "phone", "birth_date", "postal_address")


@dataclass(frozen=True)
class PostalAddress:
    lines: tuple[str, ...]
    postal_code: str
    city: str
    region: str
    country: str


@dataclass(frozen=True)
class PatientIdentity:
    given_name: str
    family_name: str
    email: str = ""
    phone: str = ""  # E.164 once normalized
    birth_date: date | None = None
    postal_address: PostalAddress | None = None

    def sealed_values(self) -> dict[str, str | None]:
        """The text to seal for each field; None where the patient gave nothing."""
        return {
            "given_name": self.given_name or None,
            "family_name": self.family_name or None,
            "email": self.email or None,
            "phone": self.phone or None,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "postal_address": json.dumps(asdict(self.postal_address), ensure_ascii=False)
            if self.postal_address else None,
        }

    @classmethod
    def from_sealed_values(cls, values: dict[str, str | None]) -> PatientIdentity:
        address = values.get("postal_address")
        parsed = json.loads(address) if address else None
        return cls(
            given_name=values.get("given_name") or "",
            family_name=values.get("family_name") or "",
            email=values.get("email") or "",
            phone=values.get("phone") or "",
            birth_date=date.fromisoformat(values["birth_date"]) if values.get("birth_date") else None,
            postal_address=PostalAddress(**{**parsed, "lines": tuple(parsed["lines"])}) if parsed else None,
        )


def normalize_email(value: str) -> str:
    return value.strip().casefold()


def normalize_phone(value: str, country: str) -> str:
    """Return the number in E.164, read as a number of the given country unless it says otherwise."""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(_("This is not a phone number."), field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(_("This is not a valid phone number for %(country)s.") % {"country": country},
                           field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_identity(identity: PatientIdentity, *, country: str) -> PatientIdentity:
    """Check every field and return the identity normalized; report all problems at once."""
    problems: list[ErrorDetail] = []
    email = identity.email.strip()
    phone = identity.phone.strip()
    if not identity.given_name.strip():
        problems.append(ErrorDetail(_("Enter a given name."), field="given_name"))
    if len(identity.given_name) > 200 or len(identity.family_name) > 200:
        problems.append(ErrorDetail(_("A name may have at most 200 characters."), field="given_name"))
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            problems.append(ErrorDetail(_("Enter a valid email address."), field="email"))
    if phone:
        try:
            phone = normalize_phone(phone, country)
        except InvalidInput as exc:
            problems.append(ErrorDetail(exc.message, field="phone"))
    if identity.birth_date and identity.birth_date > timezone.localdate():
        problems.append(ErrorDetail(_("A birth date cannot be in the future."), field="birth_date"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return PatientIdentity(
        given_name=identity.given_name.strip(),
        family_name=identity.family_name.strip(),
        email=email,
        phone=phone,
        birth_date=identity.birth_date,
        postal_address=identity.postal_address,
    )
