"""Role × action × market, through the services themselves: each role is allowed exactly what the
permission table gives it, in its own market, and refused in another market."""

from __future__ import annotations

import pytest

from sojourn.core.errors import AccessDenied, NotFound
from sojourn.core.packs import PACK_DIR, read_pack_file
from sojourn.core.permissions import ROLE_PERMISSIONS, Permission, Role
from sojourn.core.services.markets import activate_market
from sojourn.core.tests.factories import actor_with
from sojourn.people.identity import PatientIdentity
from sojourn.people.queries import access_patient
from sojourn.people.services.patients import erase_patient_identity, read_patient_identity, register_patient
from sojourn.people.services.staff import grant_membership
from sojourn.people.tests.factories import make_patient, make_staff


def register(actor, program, market):
    locale, zone = {"DE": ("de-DE", "Europe/Berlin"), "GB": ("en-GB", "Europe/London")}[market]
    return register_patient(actor=actor, program=program, market=market, locale=locale, time_zone=zone,
                            identity=PatientIdentity(given_name="Test", family_name="Person"))


ACTIONS = {
    "register a patient": (Permission.PATIENT_MANAGE, lambda a, p, m, ctx: register(a, p, m)),
    "view a patient record": (Permission.PATIENT_VIEW,
                              lambda a, p, m, ctx: access_patient(a, ctx["patients"][m].pseudonym)),
    "read an identity": (Permission.PATIENT_READ_PII,
                         lambda a, p, m, ctx: read_patient_identity(actor=a, patient=ctx["patients"][m], purpose="t")),
    "erase an identity": (Permission.PATIENT_MANAGE,
                          lambda a, p, m, ctx: erase_patient_identity(actor=a, patient=ctx["patients"][m],
                                                                      reason="request")),
    "grant a role": (Permission.STAFF_MANAGE,
                     lambda a, p, m, ctx: grant_membership(actor=a, user=ctx["user"], program=p, role=Role.NURSE,
                                                           markets=[m])),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action_market_matrix(program, role, action):
    permission, run = ACTIONS[action]
    ctx = {"patients": {m: make_patient(program, m) for m in ("DE", "GB")},
           "user": make_staff("someone@sponsor.example")}
    actor = actor_with(role, program, ("DE",))
    allowed = permission in ROLE_PERMISSIONS[role]
    if allowed:
        run(actor, program, "DE", ctx)
    else:
        with pytest.raises((AccessDenied, NotFound)):
            run(actor, program, "DE", ctx)
    with pytest.raises((AccessDenied, NotFound)):
        run(actor, program, "GB", ctx)


@pytest.mark.parametrize("role", list(Role))
def test_only_whole_program_grants_activate_markets(program, role):
    reading = read_pack_file(PACK_DIR / "de.yaml")
    limited = actor_with(role, program, ("DE",))
    with pytest.raises(AccessDenied):
        activate_market(actor=limited, reading=reading, program=program)
    whole = actor_with(role, program, None)
    if Permission.MARKET_ACTIVATE in ROLE_PERMISSIONS[role]:
        activate_market(actor=whole, reading=reading, program=program)
    else:
        with pytest.raises(AccessDenied):
            activate_market(actor=whole, reading=reading, program=program)
