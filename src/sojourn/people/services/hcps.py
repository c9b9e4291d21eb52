"""Register healthcare professionals with a sealed identity, a checked professional identifier and a
referral code that links the patients they refer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sojourn.core import crypto
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.professional_ids import check_professional_id, normalize_professional_id
from sojourn.core.queries import markets_for
from sojourn.core.services.keys import create_data_key, open_data_key
from sojourn.core.services.system_keys import system_key
from sojourn.people.identity import normalize_email, normalize_phone
from sojourn.people.models import Hcp
from sojourn.people.services.patients import email_index, new_pseudonym

_REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
SPECIALTIES = ("dermatology", "rheumatology", "general_practice", "pharmacy", "nursing", "other")


@dataclass(frozen=True)
class HcpIdentity:
    given_name: str
    family_name: str
    email: str
    professional_id: str
    phone: str = ""
    practice_address: str = ""


def hcp_context(pseudonym: str, field: str) -> str:
    return f"people.hcp:{pseudonym}:{field}"


def new_referral_code() -> str:
    return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))


def register_hcp(*, actor: Actor, program: Program, market: str, identity: HcpIdentity, specialty: str,
                 locale: str, time_zone: str, self_enrollment: bool = False) -> Hcp:
    if not self_enrollment:
        actor.require(Permission.PROGRAM_MANAGE, program.pk, market)
    market_row = markets_for(Actor.system("lookup"), program).filter(country=market).first()
    if market_row is None:
        raise InvalidInput(_("The program does not run in market %(market)s.") % {"market": market}, field="market")
    problems: list[ErrorDetail] = []
    if not identity.given_name.strip() or not identity.family_name.strip():
        problems.append(ErrorDetail(_("Enter your given and family names."), field="family_name"))
    try:
        validate_email(identity.email.strip())
    except DjangoValidationError:
        problems.append(ErrorDetail(_("Enter a valid email address."), field="email"))
    phone = identity.phone.strip()
    if phone:
        try:
            phone = normalize_phone(phone, market)
        except InvalidInput as exc:
            problems.append(ErrorDetail(exc.message, field="phone"))
    scheme = market_row.pack["professional_id"]  # a built-in scheme, or the pack's own pattern
    professional_id = normalize_professional_id(identity.professional_id)
    why = check_professional_id(scheme, professional_id)
    if why:
        problems.append(ErrorDetail(_("%(label)s: %(why)s") % {"label": scheme["label"], "why": why},
                                    field="professional_id"))
    if specialty not in SPECIALTIES:
        problems.append(ErrorDetail(_("Choose a specialty."), field="specialty"))
    if locale not in market_row.locales:
        problems.append(ErrorDetail(_("%(locale)s is not a language of this market.") % {"locale": locale},
                                    field="locale"))
    if time_zone not in market_row.time_zones:
        problems.append(ErrorDetail(_("%(zone)s is not a time zone of this market.") % {"zone": time_zone},
                                    field="time_zone"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    e_index = email_index(identity.email)
    id_index = crypto.keyed_hash(system_key("blind-index"), f"professional-id:{market}", professional_id)
    with transaction.atomic():
        if Hcp.objects.filter(program=program, professional_id_index=id_index).exists():
            raise Conflict(_("A professional with this identifier is already enrolled."), field="professional_id")
        if Hcp.objects.filter(program=program, email_index=e_index).exists():
            raise Conflict(_("A professional with this email address is already enrolled."), field="email")
        data_key = create_data_key()
        key = open_data_key(data_key)
        pseudonym = new_pseudonym().replace("P-", "H-", 1)
        values = {"given_name": identity.given_name.strip(), "family_name": identity.family_name.strip(),
                  "email": normalize_email(identity.email), "phone": phone or None,
                  "professional_id": professional_id, "practice_address": identity.practice_address.strip() or None}
        sealed = {f"{k}_sealed": crypto.seal(key, v, hcp_context(pseudonym, k)) if v else None
                  for k, v in values.items()}
        try:
            with transaction.atomic():
                return Hcp.objects.create(
                    pseudonym=pseudonym, program=program, market=market_row, locale=locale, time_zone=time_zone,
                    specialty=specialty, referral_code=new_referral_code(), data_key=data_key, email_index=e_index,
                    professional_id_index=id_index, **sealed)
        except IntegrityError as exc:
            raise Conflict(_("This professional is already enrolled.")) from exc


def read_hcp_field(hcp: Hcp, field: str) -> str:
    """Open one sealed field of an HCP (for mail to them); callers audit reads made by staff."""
    sealed = getattr(hcp, f"{field}_sealed")
    if not sealed:
        return ""
    return crypto.unseal(open_data_key(hcp.data_key), bytes(sealed), hcp_context(hcp.pseudonym, field))


def seal_for_hcp(hcp: Hcp, field: str, value: str) -> bytes:
    """Seal another piece of personal data this professional gave (a side-effect report) with their key."""
    return crypto.seal(open_data_key(hcp.data_key), value, hcp_context(hcp.pseudonym, field))


def unseal_for_hcp(hcp: Hcp, field: str, sealed: bytes) -> str:
    return crypto.unseal(open_data_key(hcp.data_key), bytes(sealed), hcp_context(hcp.pseudonym, field))
