"""Fixtures shared by every test: the fixed cast of a program, its markets and its people."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Cast:
    program: object
    other_program: object
    admin: object
    nurse_de: object
    nurse_gb: object
    analyst: object
    outsider: object


@pytest.fixture
def program(db):
    from sojourn.core.tests.factories import make_program

    return make_program()


@pytest.fixture
def cast(db, program):
    from sojourn.core.permissions import Role
    from sojourn.core.tests.factories import make_program
    from sojourn.people.tests.factories import make_staff

    other = make_program("eczema", markets=("DE",))
    return Cast(
        program=program,
        other_program=other,
        admin=make_staff("admin@sponsor.example", Role.ADMIN, program),
        nurse_de=make_staff("nurse.de@sponsor.example", Role.NURSE, program, ("DE",), language="de",
                            time_zone="Europe/Berlin"),
        nurse_gb=make_staff("nurse.gb@sponsor.example", Role.NURSE, program, ("GB",)),
        analyst=make_staff("analyst@sponsor.example", Role.INSIGHTS_ANALYST, program),
        outsider=make_staff("outsider@elsewhere.example", Role.ADMIN, other),
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 as in production, with a small memory cost so that a cast of six signs up in moments."""
    settings.PASSWORD_HASHERS = ["sojourn.people.tests.hashers.TestArgon2PasswordHasher"]
