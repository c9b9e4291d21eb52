"""An administrator takes a departed staff member's role away from the command line: their token and
session no longer reach the program, and the audit trail says what they had."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sojourn.core.models import AuditEntry
from sojourn.core.tests.factories import SYSTEM
from sojourn.people.queries import actor_for_user
from sojourn.people.services.tokens import issue_api_token


def test_a_revoked_role_no_longer_reaches_the_program(client, cast):
    _row, token = issue_api_token(actor=SYSTEM, user=cast.nurse_de, name="tablet")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/v1/programs/psoriasis/patients", **auth).status_code == 200
    out = StringIO()
    call_command("revokestaff", email="Nurse.DE@sponsor.example", program="psoriasis", stdout=out)
    assert "revoked the nurse role of nurse.de@sponsor.example in psoriasis" in out.getvalue()
    assert actor_for_user(cast.nurse_de).grants == ()
    assert client.get("/api/v1/programs/psoriasis/patients", **auth).status_code == 404
    entry = AuditEntry.objects.get(action="role.revoked", subject_id=str(cast.nurse_de.pk))
    assert entry.before == {"role": "nurse", "all_markets": False, "markets": ["DE"]}
    with pytest.raises(CommandError, match="has no role in a program"):
        call_command("revokestaff", email="nurse.de@sponsor.example", program="psoriasis")
    with pytest.raises(CommandError, match="has no role in a program"):
        call_command("revokestaff", email="nobody@sponsor.example", program="psoriasis")
