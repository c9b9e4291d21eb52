"""Register patients, read their identity (audited), erase it (crypto-shredding).

Enrollment with consent builds on register_patient; a patient registered here is pending and
reachable on no channel until a consent says so.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core import crypto
from sojourn.core.actors import Actor
from sojourn.core.db import rows_for_ids
from sojourn.core.errors import AccessDenied, Conflict, DataErased, InvalidInput, NotFound
from sojourn.core.models import DataKey, Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.core.services.audit import record_audit
from sojourn.core.services.keys import create_data_key, destroy_data_key, open_data_key
from sojourn.core.services.system_keys import system_key
from sojourn.people.identity import SEALED_FIELDS, PatientIdentity, clean_identity, normalize_email
from sojourn.people.models import Patient, RetainedIdentity
from sojourn.people.queries import patients_with_index

log = logging.getLogger(__name__)
_PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


def new_pseudonym() -> str:
    return "P-" + "".join(secrets.choice(_PSEUDONYM_ALPHABET) for _ in range(10))


def email_index(email: str) -> str:
    return crypto.keyed_hash(system_key("blind-index"), "email", normalize_email(email)) if email else ""


def phone_index(e164: str) -> str:
    return crypto.keyed_hash(system_key("blind-index"), "phone", e164) if e164 else ""


def _context(pseudonym: str, field: str) -> str:
    return f"people.patient:{pseudonym}:{field}"


def seal_for_patient(patient: Patient, field: str, value: str) -> bytes:
    """Seal another piece of this patient's personal data (a signature, a receipt) with their key."""
    return crypto.seal(open_data_key(patient.data_key), value, _context(patient.pseudonym, field))


def unseal_for_patient(patient: Patient, field: str, sealed: bytes) -> str:
    return crypto.unseal(open_data_key(patient.data_key), bytes(sealed), _context(patient.pseudonym, field))


def register_patient(*, actor: Actor, program: Program, market: str, identity: PatientIdentity,
                     locale: str, time_zone: str, self_enrollment: bool = False) -> Patient:
    """Create a pending patient with a sealed identity; refuse the same person twice in a program.

    Staff need the right to manage patients in the market; a person enrolling themselves through
    the portal (self_enrollment) needs no account.
    """
    if not self_enrollment:
        actor.require(Permission.PATIENT_MANAGE, program.pk, market)
    market_row = markets_for(Actor.system("lookup"), program).filter(country=market).first()
    if market_row is None:
        raise InvalidInput(_("The program does not run in market %(market)s.") % {"market": market}, field="market")
    if locale not in market_row.locales:
        raise InvalidInput(_("%(locale)s is not a language of this market.") % {"locale": locale}, field="locale")
    if time_zone not in market_row.time_zones:
        raise InvalidInput(_("%(zone)s is not a time zone of this market.") % {"zone": time_zone}, field="time_zone")
    identity = clean_identity(identity, country=market)
    e_index, p_index = email_index(identity.email), phone_index(identity.phone)
    # Not durable: enrollment registers the patient and records the consent in one transaction.
    with transaction.atomic():
        duplicate_messages = {
            "email": _("Someone with this email address is already enrolled in this program."),
            "phone": _("Someone with this phone number is already enrolled in this program."),
        }
        for field, value in (("email", e_index), ("phone", p_index)):
            if value and patients_with_index(program, field, value).exists():
                raise Conflict(duplicate_messages[field], field=field)
        data_key = create_data_key()
        key = open_data_key(data_key)
        pseudonym = new_pseudonym()
        sealed = {
            f"{name}_sealed": crypto.seal(key, value, _context(pseudonym, name)) if value is not None else None
            for name, value in identity.sealed_values().items()
        }
        try:
            with transaction.atomic():
                patient = Patient.objects.create(
                    pseudonym=pseudonym, program=program, market=market_row, locale=locale, time_zone=time_zone,
                    data_key=data_key, email_index=e_index, phone_index=p_index, **sealed,
                )
        except IntegrityError as exc:  # a concurrent registration of the same person won the race
            raise Conflict(_("This person is already enrolled in this program.")) from exc
        record_audit(
            actor=actor, action="patient.registered", subject_type="patient", subject_id=pseudonym,
            program_id=program.pk, market=market,
            after={"fields": sorted(k for k, v in identity.sealed_values().items() if v is not None),
                   "locale": locale, "time_zone": time_zone},
        )
        return patient


def read_patient_identity(*, actor: Actor, patient: Patient, purpose: str) -> PatientIdentity:
    """Open a patient's identity for someone whose role needs it, and leave a trace of the read. Once
    the patient is erased, only what a legal duty kept (`RetainedIdentity`) opens, and only for the
    role that duty names; anyone else is told the data is erased."""
    actor.require(Permission.PATIENT_READ_PII, patient.program_id, patient.market.country)
    try:
        key = open_data_key(patient.data_key)
    except DataErased:
        return _read_retained(actor, patient, purpose)
    with transaction.atomic():
        record_audit(
            actor=actor, action="pii.read", subject_type="patient", subject_id=patient.pseudonym,
            program_id=patient.program_id, market=patient.market.country,
            after={"purpose": purpose[:200], "fields": list(SEALED_FIELDS)},
        )
    values = {}
    for name in SEALED_FIELDS:
        sealed = getattr(patient, f"{name}_sealed")
        values[name] = crypto.unseal(key, sealed, _context(patient.pseudonym, name)) if sealed is not None else None
    return PatientIdentity.from_sealed_values(values)


@dataclass(frozen=True)
class Retention:
    """What an erasure must keep of the identity, for which duty, under which law, readable by whom."""

    reference: str  # such as safety-referral:12
    fields: tuple[str, ...]
    permission: Permission
    legal_basis: str


def _retained_context(pseudonym: str, reference: str) -> str:
    return f"people.retained:{pseudonym}:{reference}"


def _retain(actor: Actor, patient: Patient, keep: Sequence[Retention]) -> None:
    """Seal each kept part under a key of its own, before the patient's key is destroyed."""
    key = open_data_key(patient.data_key)
    now = timezone.now()
    for retention in keep:
        unknown = set(retention.fields) - set(SEALED_FIELDS)
        if unknown:
            raise ValueError(f"not a sealed field: {sorted(unknown)}")
        values = {name: crypto.unseal(key, bytes(sealed), _context(patient.pseudonym, name))
                  for name in retention.fields if (sealed := getattr(patient, f"{name}_sealed")) is not None}
        data_key = create_data_key()
        RetainedIdentity.objects.create(
            patient=patient, data_key=data_key, reference=retention.reference[:60],
            legal_basis=retention.legal_basis[:200], permission=str(retention.permission), fields=sorted(values),
            sealed=crypto.seal(open_data_key(data_key), json.dumps(values, ensure_ascii=False),
                               _retained_context(patient.pseudonym, retention.reference[:60])),
            kept_at=now)
        record_audit(actor=actor, action="pii.retained", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country,
                     after={"reference": retention.reference[:60], "fields": sorted(values),
                            "legal_basis": retention.legal_basis[:200], "readable_with": str(retention.permission)})


def _read_retained(actor: Actor, patient: Patient, purpose: str) -> PatientIdentity:
    kept = [r for r in RetainedIdentity.objects.filter(patient=patient, released_at__isnull=True)
            .select_related("data_key").order_by("pk")
            if actor.can(Permission(r.permission), patient.program_id, patient.market.country)]
    if not kept:
        raise DataErased()
    values: dict[str, str | None] = {}
    for retained in kept:
        values.update(json.loads(crypto.unseal(open_data_key(retained.data_key), bytes(retained.sealed),
                                               _retained_context(patient.pseudonym, retained.reference))))
    with transaction.atomic():
        record_audit(actor=actor, action="pii.read", subject_type="patient", subject_id=patient.pseudonym,
                     program_id=patient.program_id, market=patient.market.country,
                     after={"purpose": purpose[:200], "fields": sorted(values),
                            "retained": [r.reference for r in kept]})
    return PatientIdentity.from_sealed_values(values)


def release_retained_identity(*, actor: Actor, patient: Patient, reference: str, reason: str) -> RetainedIdentity:
    """End a retention when its duty ends (the safety case is closed in the safety database): its key is
    destroyed, so the last copy of the identity goes the way the rest went at the erasure."""
    with transaction.atomic(durable=True):
        kept = (RetainedIdentity.objects.select_for_update().select_related("data_key")
                .filter(patient=patient, reference=reference, released_at__isnull=True).first())
        if kept is None or not actor.can(Permission(kept.permission), patient.program_id, patient.market.country):
            raise NotFound()
        destroy_data_key(actor=actor, data_key=kept.data_key, subject_type="patient", subject_id=patient.pseudonym,
                         program_id=patient.program_id, market=patient.market.country,
                         reason=f"{reference}: {reason.strip()}"[:300])
        kept.released_at = timezone.now()
        kept.save(update_fields=["released_at"])
        return kept


def open_for_delivery(*, actor: Actor, patient_ids: list[int], fields: tuple[str, ...], purpose: str
                      ) -> dict[int, dict[str, str | None]]:
    """The fields a channel needs to reach these patients (an address, a name for the greeting), for
    the system's channels only. One audit entry names every patient read and why; the values never
    leave the delivery that asked for them. A patient whose sealed values do not open is left out
    (and logged by pseudonym)."""
    if actor.kind != "system":
        raise AccessDenied()
    unknown = set(fields) - set(SEALED_FIELDS)
    if unknown:
        raise ValueError(f"not a sealed field: {sorted(unknown)}")
    # Plain SQL, only the sealed fields asked for: every delivery batch reads this, and building Patient
    # objects with every sealed field cost more than opening the few that are needed.
    sealed_columns = "".join(f", p.{name}_sealed" for name in fields)
    rows = rows_for_ids(
        f"SELECT p.id, p.pseudonym, p.program_id, k.id, k.wrapped, k.master_key_id, k.destroyed_at{sealed_columns} "
        f"FROM {Patient._meta.db_table} p JOIN {DataKey._meta.db_table} k ON k.id = p.data_key_id "
        "WHERE p.id {ids} ORDER BY p.id", patient_ids)
    if not rows:
        return {}
    with transaction.atomic():
        for program_id in sorted({row[2] for row in rows}):
            read = sorted(row[1] for row in rows if row[2] == program_id)
            record_audit(actor=actor, action="pii.read", subject_type="patients", subject_id=f"{len(read)} patients",
                         program_id=program_id, after={"purpose": purpose[:200], "fields": list(fields),
                                                       "patients": read})
    out: dict[int, dict[str, str | None]] = {}
    for pk, pseudonym, _program_id, key_id, wrapped, master_key_id, destroyed_at, *sealed_values in rows:
        try:
            key = open_data_key(DataKey(id=key_id, wrapped=wrapped, master_key_id=master_key_id,
                                        destroyed_at=destroyed_at))
            out[pk] = {name: crypto.unseal(key, bytes(sealed), _context(pseudonym, name)) if sealed is not None
                       else None for name, sealed in zip(fields, sealed_values, strict=True)}
        except (crypto.KeyMaterialError, DataErased) as error:
            # Left out, so that one damaged record never holds back the rest of a delivery batch.
            log.error("the contact details of %s do not open: %s", pseudonym, type(error).__name__)
    return out


def erase_patient_identity(*, actor: Actor, patient: Patient, reason: str, keep: Sequence[Retention] = ()
                           ) -> Patient:
    """Crypto-shred the identity: the record stays for analytics, the person is gone from it, but for
    what a legal duty keeps (each part sealed under a key of its own, see Retention)."""
    actor.require(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country)
    if not reason.strip():
        raise InvalidInput(_("Give the reason for the erasure."), field="reason")
    with transaction.atomic():
        locked = Patient.objects.select_for_update().select_related("market", "data_key").get(pk=patient.pk)
        if keep and locked.data_key.destroyed_at is None:
            _retain(actor, locked, keep)
        destroy_data_key(actor=actor, data_key=locked.data_key, subject_type="patient", subject_id=locked.pseudonym,
                         program_id=locked.program_id, market=locked.market.country, reason=reason.strip())
        locked.email_index = ""
        locked.phone_index = ""
        locked.status = Patient.Status.ERASED
        locked.save(update_fields=["email_index", "phone_index", "status"])
        return locked
