"""The role table as a matrix: every role, every permission, inside and outside its markets."""

from __future__ import annotations

import pytest

from sojourn.core.actors import Actor, Grant
from sojourn.core.permissions import ROLE_PERMISSIONS, Permission, Role

PROGRAM, OTHER_PROGRAM = 1, 2


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_permission_market_matrix(role: Role, permission: Permission):
    actor = Actor(kind="staff", label="t", user_id=1, grants=(Grant(PROGRAM, role, frozenset({"DE"})),))
    expected = permission in ROLE_PERMISSIONS[role]
    assert actor.can(permission, PROGRAM, "DE") is expected
    assert actor.can(permission, PROGRAM, "GB") is False
    assert actor.can(permission, OTHER_PROGRAM, "DE") is False


def test_role_table_says_who_sees_identities():
    readers = {role for role, perms in ROLE_PERMISSIONS.items() if Permission.PATIENT_READ_PII in perms}
    assert readers == {Role.ADMIN, Role.NURSE, Role.SAFETY_OFFICER}
    assert Permission.PATIENT_VIEW not in ROLE_PERMISSIONS[Role.INSIGHTS_ANALYST]


def test_a_market_limited_grant_does_not_cover_program_wide_permissions():
    manager_de = Actor(kind="staff", label="t", user_id=1,
                       grants=(Grant(PROGRAM, Role.PROGRAM_MANAGER, frozenset({"DE"})),))
    assert manager_de.can(Permission.STAFF_MANAGE, PROGRAM, "DE")
    assert not manager_de.can(Permission.STAFF_MANAGE, PROGRAM)
    assert not manager_de.can(Permission.MARKET_ACTIVATE, PROGRAM)
    manager_all = Actor(kind="staff", label="t", user_id=1, grants=(Grant(PROGRAM, Role.PROGRAM_MANAGER, None),))
    assert manager_all.can(Permission.MARKET_ACTIVATE, PROGRAM)


def test_the_system_actor_and_platform_admins_may_do_anything():
    assert Actor.system("job").can(Permission.PATIENT_READ_PII, OTHER_PROGRAM, "JP")
    assert not Actor.anonymous().can(Permission.PROGRAM_VIEW, PROGRAM)
