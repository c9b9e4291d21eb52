from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher

from sojourn.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM, actor_with
from sojourn.people.models import Membership
from sojourn.people.queries import actor_for_user
from sojourn.people.services.staff import create_staff, grant_membership, revoke_membership
from sojourn.people.tests.factories import PASSWORD, make_staff


def test_passwords_are_hashed_with_argon2(db):
    from sojourn import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    user = make_staff("someone@sponsor.example")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(PASSWORD)


def test_weak_passwords_and_bad_emails_are_refused(db):
    with pytest.raises(InvalidInput) as refused:
        create_staff(actor=SYSTEM, email="x@sponsor.example", display_name="X", password="password")
    assert refused.value.field == "password"
    with pytest.raises(InvalidInput) as refused:
        create_staff(actor=SYSTEM, email="nope", display_name="X", password=PASSWORD)
    assert refused.value.field == "email"
    make_staff("dup@sponsor.example")
    with pytest.raises(Conflict):
        create_staff(actor=SYSTEM, email="DUP@sponsor.example", display_name="X", password=PASSWORD)


def test_memberships_become_the_actors_grants(program):
    user = make_staff("nurse@sponsor.example", Role.NURSE, program, ("DE", "GB"))
    actor = actor_for_user(user)
    assert [(g.program_id, g.role, g.markets) for g in actor.grants] == [
        (program.pk, Role.NURSE, frozenset({"DE", "GB"}))]


def test_a_market_manager_grants_only_within_her_markets(program):
    manager_de = actor_with(Role.PROGRAM_MANAGER, program, ("DE",))
    user = make_staff("new@sponsor.example")
    grant_membership(actor=manager_de, user=user, program=program, role=Role.NURSE, markets=["DE"])
    with pytest.raises(AccessDenied):
        grant_membership(actor=manager_de, user=user, program=program, role=Role.NURSE, markets=["DE", "JP"])
    with pytest.raises(AccessDenied):
        grant_membership(actor=manager_de, user=user, program=program, role=Role.NURSE, markets=None)


def test_only_an_administrator_hands_out_administration(program):
    manager = actor_with(Role.PROGRAM_MANAGER, program)
    user = make_staff("new@sponsor.example")
    with pytest.raises(AccessDenied):
        grant_membership(actor=manager, user=user, program=program, role=Role.ADMIN, markets=None)
    grant_membership(actor=actor_with(Role.ADMIN, program), user=user, program=program, role=Role.ADMIN,
                     markets=None)


def test_granting_a_market_the_program_does_not_run_in_is_refused(cast):
    user = make_staff("new@sponsor.example")
    with pytest.raises(InvalidInput) as refused:
        grant_membership(actor=SYSTEM, user=user, program=cast.other_program, role=Role.NURSE, markets=["JP"])
    assert refused.value.field == "markets"
    assert not Membership.objects.filter(user=user).exists()


def test_role_changes_are_audited_with_before_and_after(cast):
    user = cast.nurse_de
    grant_membership(actor=SYSTEM, user=user, program=cast.program, role=Role.NURSE, markets=["DE", "GB"])
    entry = AuditEntry.objects.filter(action="role.granted", subject_id=str(user.pk)).latest("seq")
    assert entry.before == {"all_markets": False, "markets": ["DE"]}
    assert entry.after["markets"] == ["DE", "GB"]
    membership = Membership.objects.get(user=user, program=cast.program)
    with pytest.raises(NotFound):
        revoke_membership(actor=actor_for_user(cast.outsider), membership_id=membership.pk)
    revoke_membership(actor=actor_for_user(cast.admin), membership_id=membership.pk)
    assert AuditEntry.objects.filter(action="role.revoked", subject_id=str(user.pk)).exists()
    assert actor_for_user(user).grants == ()
