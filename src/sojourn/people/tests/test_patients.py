from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from sojourn.core.errors import AccessDenied, Conflict, DataErased, InvalidInput, NotFound
from sojourn.core.models import AuditEntry, DataKey
from sojourn.core.permissions import Permission, Role
from sojourn.core.tests.factories import SYSTEM, actor_with
from sojourn.people.identity import PatientIdentity
from sojourn.people.models import Patient
from sojourn.people.queries import access_patient, patients_for, patients_with_index
from sojourn.people.services.patients import erase_patient_identity, read_patient_identity, register_patient
from sojourn.people.tests.factories import make_patient


def raw_row(patient: Patient) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_patient WHERE id = %s", [patient.pk])
        return repr(cursor.fetchone()).encode()


def test_identity_is_sealed_at_rest_and_opens_for_a_nurse_of_the_market(program):
    patient = make_patient(program, "DE", given_name="Gisela", family_name="Brandtstätter",
                           email="gisela@example.org", phone="+49 30 901820")
    row = raw_row(patient)
    for secret in (b"Gisela", "Brandtstätter".encode(), b"gisela@example.org", b"4930901820", b"1980-05-17"):
        assert secret not in row
    nurse = actor_with(Role.NURSE, program, ("DE",))
    identity = read_patient_identity(actor=nurse, patient=patient, purpose="call back about refill")
    assert (identity.given_name, identity.email, identity.phone) == ("Gisela", "gisela@example.org", "+4930901820")
    assert identity.birth_date == date(1980, 5, 17) and identity.postal_address.city == "Berlin"


def test_every_identity_read_is_audited_with_its_purpose(program):
    patient = make_patient(program, "DE")
    nurse = actor_with(Role.NURSE, program, ("DE",), label="Nora")
    read_patient_identity(actor=nurse, patient=patient, purpose="adverse event follow-up")
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.subject_id, entry.actor_label, entry.market) == (
        "pii.read", patient.pseudonym, "Nora", "DE")
    assert entry.after["purpose"] == "adverse event follow-up"
    assert "Lena" not in repr(entry.after) and "Lena" not in repr(entry.before)


def test_a_german_nurse_cannot_read_a_uk_patient(program):
    uk_patient = make_patient(program, "GB", email="oliver@example.org")
    nurse_de = actor_with(Role.NURSE, program, ("DE",))
    with pytest.raises(NotFound):
        access_patient(nurse_de, uk_patient.pseudonym)
    with pytest.raises(AccessDenied):
        read_patient_identity(actor=nurse_de, patient=uk_patient, purpose="curious")
    assert not patients_for(nurse_de, program).filter(pk=uk_patient.pk).exists()
    assert not AuditEntry.objects.filter(action="pii.read").exists()


@pytest.mark.parametrize("role", [Role.PROGRAM_MANAGER, Role.INSIGHTS_ANALYST, Role.CONTENT_REVIEWER,
                                  Role.AGENCY_USER])
def test_roles_without_need_never_see_identities(program, role):
    patient = make_patient(program, "DE")
    with pytest.raises(AccessDenied):
        read_patient_identity(actor=actor_with(role, program), patient=patient, purpose="look")


def test_the_same_person_cannot_enroll_twice_in_a_program(program):
    make_patient(program, "DE", email="Lena.H@Example.org")
    before = (Patient.objects.count(), DataKey.objects.count(), AuditEntry.objects.count())
    with pytest.raises(Conflict) as refused:
        make_patient(program, "DE", email="  lena.h@example.ORG ")
    assert refused.value.field == "email" and "already enrolled" in refused.value.message
    assert (Patient.objects.count(), DataKey.objects.count(), AuditEntry.objects.count()) == before


def test_the_same_phone_is_found_through_the_blind_index_whatever_its_spelling(program):
    make_patient(program, "DE", phone="030 901820")
    with pytest.raises(Conflict) as refused:
        make_patient(program, "DE", phone="+49 (30) 90-18-20")
    assert refused.value.field == "phone"


def test_the_duplicate_check_reads_one_row_through_the_unique_index_not_every_patient(program):
    patient = make_patient(program, "DE", email="lena@example.org", phone="030 901820")
    for field in ("email", "phone"):
        found = patients_with_index(program, field, getattr(patient, f"{field}_index"))
        assert list(found) == [patient]
        if connection.vendor == "sqlite":  # without statistics SQLite would take the program's index: a scan
            sql, params = found.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert f"patient_{field}_once_per_program ({'program_id=? AND ' + field + '_index=?'})" in plan
    assert not patients_with_index(program, "email", "").exists()  # an empty index is nobody's


def test_the_same_person_may_join_another_program(cast):
    make_patient(cast.program, "DE", email="same@example.org")
    make_patient(cast.other_program, "DE", email="same@example.org")
    assert Patient.objects.filter(program=cast.other_program).count() == 1


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"phone": "+1 212 555 0100"}, None),  # a US number is valid, just not a German one
    ({"phone": "12"}, "phone"),
    ({"birth_date": date.today() + timedelta(days=2)}, "birth_date"),
    ({"given_name": "  "}, "given_name"),
])
def test_bad_identity_is_refused_with_the_field_and_nothing_is_written(program, changes, field):
    identity = PatientIdentity(given_name="Lena", family_name="H", email="lena@example.org", phone="",
                               birth_date=date(1990, 1, 1))
    identity = PatientIdentity(**{**identity.__dict__, **changes})
    count = Patient.objects.count()
    if field is None:
        register_patient(actor=SYSTEM, program=program, market="DE", identity=identity, locale="de-DE",
                         time_zone="Europe/Berlin")
        return
    with pytest.raises(InvalidInput) as refused:
        register_patient(actor=SYSTEM, program=program, market="DE", identity=identity, locale="de-DE",
                         time_zone="Europe/Berlin")
    assert field in {d.field for d in refused.value.details}
    assert Patient.objects.count() == count


def test_locale_and_time_zone_must_belong_to_the_market(program):
    identity = PatientIdentity(given_name="Lena", family_name="H")
    with pytest.raises(InvalidInput) as refused:
        register_patient(actor=SYSTEM, program=program, market="DE", identity=identity, locale="ja-JP",
                         time_zone="Europe/Berlin")
    assert refused.value.field == "locale"
    with pytest.raises(InvalidInput) as refused:
        register_patient(actor=SYSTEM, program=program, market="DE", identity=identity, locale="de-DE",
                         time_zone="Asia/Tokyo")
    assert refused.value.field == "time_zone"


def test_erasure_shreds_the_identity_but_keeps_the_pseudonymous_record(program):
    patient = make_patient(program, "DE", email="erase.me@example.org")
    nurse = actor_with(Role.NURSE, program, ("DE",))
    erased = erase_patient_identity(actor=nurse, patient=patient, reason="GDPR Art. 17 request")
    assert erased.status == Patient.Status.ERASED and erased.email_index == ""
    fresh = Patient.objects.select_related("market", "data_key").get(pk=patient.pk)
    with pytest.raises(DataErased):
        read_patient_identity(actor=nurse, patient=fresh, purpose="check")
    assert fresh.given_name_sealed is not None  # the ciphertext stays, unreadable forever
    assert AuditEntry.objects.filter(action="pii.shredded", subject_id=patient.pseudonym).count() == 1
    # Once erased, the same email may enroll again as a new person.
    make_patient(program, "DE", email="erase.me@example.org")


def test_a_nurse_cannot_register_patients_outside_her_markets(program):
    nurse = actor_with(Role.NURSE, program, ("DE",))
    with pytest.raises(AccessDenied):
        register_patient(actor=nurse, program=program, market="JP", identity=PatientIdentity("Hina", "Sato"),
                         locale="ja-JP", time_zone="Asia/Tokyo")
    assert nurse.can(Permission.PATIENT_MANAGE, program.pk, "DE")
