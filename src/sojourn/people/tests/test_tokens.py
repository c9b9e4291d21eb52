"""API tokens: scoped to a program, markets and permissions, expiring, rotated with an overlap, revoked;
service accounts that act only through them. Tried as an integration would, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM
from sojourn.people.models import ApiToken
from sojourn.people.queries import actor_for_user
from sojourn.people.services.staff import create_service_account
from sojourn.people.services.tokens import (
    authenticate_token,
    issue_api_token,
    revoke_api_token,
    rotate_api_token,
)
from sojourn.people.tests.api import assert_error


def _auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _operations(client) -> list[tuple[str, str]]:
    """Every operation of the API that needs credentials, each path parameter naming nothing (0: no
    call may act on a row, such as revoking the valid token)."""
    document = client.get("/api/v1/openapi.json").json()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if {"BearerToken": []} in operation.get("security", []):  # not the providers' signed callbacks
                found.append((method, "/api/v1" + re.sub(r"\{[^}]+\}", "0", path.removeprefix("/api/v1"))))
    return found


def _call(client, method: str, url: str, token: str):
    if method == "get":
        return client.get(url, **_auth(token))
    return getattr(client, method)(url, "{}", content_type="application/json", **_auth(token))


def test_a_revoked_an_expired_and_a_rotated_token_past_its_overlap_are_refused_on_every_route(client, cast):
    _row, good = issue_api_token(actor=SYSTEM, user=cast.admin, name="crm")
    revoked_row, revoked = issue_api_token(actor=SYSTEM, user=cast.admin, name="old crm")
    revoke_api_token(actor=SYSTEM, token_id=revoked_row.pk)
    expired_row, expired = issue_api_token(actor=SYSTEM, user=cast.admin, name="pilot", days=1)
    ApiToken.objects.filter(pk=expired_row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    rotated_row, rotated = issue_api_token(actor=SYSTEM, user=cast.admin, name="warehouse")
    rotate_api_token(actor=SYSTEM, token_id=rotated_row.pk, overlap_hours=0)
    operations = _operations(client)
    assert len(operations) > 50
    for method, url in operations:
        for token in (revoked, expired, rotated, "sjn_" + "x" * 43):
            assert_error(_call(client, method, url, token), 401, "unauthenticated")
        # The same call with a valid token gets past authentication: the refusals above are the token's.
        assert _call(client, method, url, good).status_code != 401, (method, url)


def test_a_tokens_scope_holds_it_to_its_program_markets_and_permissions(client, cast):
    _row, token = issue_api_token(actor=SYSTEM, user=cast.admin, name="de reports", program=cast.program,
                                  markets=["de"], permissions=["program.view", "patient.view"])
    me = client.get("/api/v1/me", **_auth(token)).json()
    assert me["platform_admin"] is False
    assert [(g["role"], g["markets"], g["permissions"]) for g in me["grants"]] == [
        ("admin", ["DE"], ["patient.view", "program.view"])]
    detail = client.get("/api/v1/programs/psoriasis", **_auth(token)).json()
    assert [m["country"] for m in detail["markets"]] == ["DE"]
    assert client.get("/api/v1/programs/psoriasis/patients", {"market": "DE"}, **_auth(token)).status_code == 200
    gb = client.get("/api/v1/programs/psoriasis/patients", {"market": "GB"}, **_auth(token))
    assert gb.status_code in (403, 404) or gb.json()["count"] == 0
    body = {"market": "DE", "given_name": "Lena", "family_name": "Berg", "email": "lena@example.org", "phone": "",
            "locale": "de-DE", "time_zone": "Europe/Berlin"}
    refused = client.post("/api/v1/programs/psoriasis/patients", body, content_type="application/json",
                          **_auth(token))
    assert refused.status_code == 403  # patient.manage is the admin's, not the token's
    # A program outside the scope is one that does not exist, even for a platform administrator's token.
    _row, admin_token = issue_api_token(actor=SYSTEM, user=cast.outsider, name="eczema only",
                                        program=cast.other_program)
    assert client.get("/api/v1/programs/psoriasis", **_auth(admin_token)).status_code == 404
    assert client.get("/api/v1/programs/eczema", **_auth(admin_token)).status_code == 200


def test_a_token_never_holds_more_than_its_owner(cast):
    with pytest.raises(InvalidInput) as exc:
        issue_api_token(actor=SYSTEM, user=cast.nurse_de, name="x", program=cast.program, markets=["GB"],
                        permissions=["rules.edit", "no.such"])
    assert {d.field for d in exc.value.details} == {"markets", "permissions"}
    messages = " ".join(d.message for d in exc.value.details)
    assert "GB" in messages and "rules.edit" in messages and "no.such" in messages
    with pytest.raises(InvalidInput) as exc:
        issue_api_token(actor=SYSTEM, user=cast.nurse_de, name="x", program=cast.other_program)
    assert exc.value.field == "program"
    with pytest.raises(InvalidInput) as exc:
        issue_api_token(actor=SYSTEM, user=cast.admin, name="x", program=cast.program, markets=["DE"],
                        permissions=["staff.manage"])
    assert exc.value.field == "permissions"  # a program-wide permission cannot be held in one market
    with pytest.raises(InvalidInput) as exc:
        issue_api_token(actor=SYSTEM, user=cast.nurse_de, name="x", days=400)
    assert exc.value.field == "days"
    # Someone else's token is not another staff member's to issue.
    with pytest.raises(AccessDenied):
        issue_api_token(actor=actor_for_user(cast.nurse_gb), user=cast.nurse_de, name="x")
    # Taking the owner's role away takes it from the token.
    _row, token = issue_api_token(actor=SYSTEM, user=cast.nurse_de, name="tablet")
    assert authenticate_token(token)[1].can("patient.view", cast.program.pk, "DE")
    cast.nurse_de.memberships.all().delete()
    assert not authenticate_token(token)[1].can("patient.view", cast.program.pk, "DE")


def test_tokens_are_issued_by_people_not_by_tokens(client, cast):
    _row, token = issue_api_token(actor=SYSTEM, user=cast.admin, name="crm")
    answer = client.post("/api/v1/tokens", {"name": "more"}, content_type="application/json", **_auth(token))
    assert_error(answer, 403, "forbidden")
    mine = client.get("/api/v1/tokens", **_auth(token)).json()
    assert_error(client.post(f"/api/v1/tokens/{mine[0]['id']}/rotate", {}, content_type="application/json",
                             **_auth(token)), 403, "forbidden")
    assert ApiToken.objects.filter(user=cast.admin).count() == 1


def test_rotation_leaves_both_valid_for_the_overlap_then_only_the_successor(cast):
    row, old = issue_api_token(actor=SYSTEM, user=cast.analyst, name="warehouse", program=cast.program, days=30)
    successor, new = rotate_api_token(actor=actor_for_user(cast.analyst), token_id=row.pk, overlap_hours=24)
    row.refresh_from_db()
    assert authenticate_token(old) and authenticate_token(new)
    assert row.replaced_by == successor and successor.program == cast.program
    assert timedelta(hours=23) < row.expires_at - timezone.now() <= timedelta(hours=24)
    assert timedelta(days=29) < successor.expires_at - timezone.now() <= timedelta(days=30)
    with pytest.raises(Conflict):
        rotate_api_token(actor=SYSTEM, token_id=row.pk)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now())
    assert authenticate_token(old) is None and authenticate_token(new)
    actions = list(AuditEntry.objects.filter(subject_id=str(cast.analyst.pk), action__startswith="api_token")
                   .values_list("action", flat=True))
    assert sorted(actions) == ["api_token.issued", "api_token.rotated"]
    assert not any(old in str(e.after) or new in str(e.after) for e in AuditEntry.objects.all())


def test_a_service_account_acts_only_through_tokens_its_managers_issue(client, cast):
    manager = actor_for_user(cast.admin)
    account = create_service_account(actor=manager, program=cast.program, name="Veeva CRM",
                                     role=Role.PROGRAM_MANAGER, markets=["DE"])
    assert not account.has_usable_password()
    with pytest.raises(Conflict):
        create_service_account(actor=manager, program=cast.program, name="veeva  crm", role=Role.NURSE,
                               markets=None)
    with pytest.raises(AccessDenied):  # a nurse does not manage staff
        create_service_account(actor=actor_for_user(cast.nurse_de), program=cast.program, name="Tablet",
                               role=Role.NURSE, markets=["DE"])
    row, token = issue_api_token(actor=manager, user=account, name="events", permissions=["events.write",
                                                                                          "program.view"])
    assert row.program == cast.program  # a service account's tokens are its program's
    with pytest.raises(NotFound):  # the nurse cannot see, let alone revoke, the account's token
        revoke_api_token(actor=actor_for_user(cast.nurse_de), token_id=row.pk)
    listed = client.get("/api/v1/programs/psoriasis", **_auth(token)).json()
    assert [m["country"] for m in listed["markets"]] == ["DE"]
    revoke_api_token(actor=manager, token_id=row.pk)
    assert authenticate_token(token) is None


def test_the_api_issues_lists_rotates_and_revokes_with_a_session(client, cast):
    client.force_login(cast.admin)
    client.cookies["csrftoken"] = "t" * 32
    csrf = {"HTTP_X_CSRFTOKEN": "t" * 32}
    made = client.post("/api/v1/programs/psoriasis/service-accounts",
                       {"name": "Print house", "role": "program_manager", "markets": ["GB"]},
                       content_type="application/json", **csrf)
    assert made.status_code == 201, made.content
    issued = client.post("/api/v1/tokens", {"name": "print", "service_account": made.json()["id"],
                                            "permissions": ["events.write"], "days": 7},
                         content_type="application/json", **csrf)
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert body["token"].startswith(body["prefix"]) and body["program"] == "psoriasis" and body["service_account"]
    bad = client.post("/api/v1/tokens", {"name": "x", "program": "psoriasis", "markets": ["FR"]},
                      content_type="application/json", **csrf)
    assert assert_error(bad, 422, "invalid")["details"][0]["field"] == "markets"
    rotated = client.post(f"/api/v1/tokens/{body['id']}/rotate", {"overlap_hours": 2},
                          content_type="application/json", **csrf)
    assert rotated.status_code == 201 and rotated.json()["token"] != body["token"]
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json()}
    assert listed[body["id"]]["state"] == "rotated" and listed[body["id"]]["replaced_by"] == rotated.json()["id"]
    assert "token" not in listed[body["id"]]
    revoked = client.post(f"/api/v1/tokens/{rotated.json()['id']}/revoke", {}, content_type="application/json",
                          **csrf)
    assert revoked.json()["state"] == "revoked"
    assert_error(client.post("/api/v1/tokens/999999/revoke", {}, content_type="application/json", **csrf),
                 404, "not_found")


def test_the_command_line_issues_lists_rotates_and_revokes(cast, capsys):
    call_command("token", "service-account", "Warehouse", "--program", "psoriasis", "--role", "insights_analyst")
    call_command("token", "issue", "--name", "nightly", "--service-account", "Warehouse", "--program", "psoriasis",
                 "--days", "30")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("sjn_") and authenticate_token(token)
    call_command("token", "list", "--program", "psoriasis")
    listing = capsys.readouterr().out
    assert token[:12] in listing and "active" in listing and token not in listing
    call_command("token", "rotate", token[:12], "--overlap-hours", "1")
    successor = capsys.readouterr().out.strip()
    assert authenticate_token(successor) and authenticate_token(token)
    call_command("token", "revoke", token[:12])
    assert authenticate_token(token) is None
    with pytest.raises(CommandError, match="may not"):
        call_command("token", "issue", "--name", "x", "--user", "nurse.de@sponsor.example", "--program",
                     "psoriasis", "--permissions", "rules.edit")
    with pytest.raises(CommandError, match="no staff member"):
        call_command("token", "issue", "--name", "x", "--user", "nobody@example.org")


def test_the_console_page_issues_a_token_once_and_revokes_it(client, cast):
    client.force_login(cast.nurse_de)
    page = client.get("/console/api-tokens/")
    assert page.status_code == 200 and b"Service accounts" not in page.content  # a nurse manages no staff
    answer = client.post("/console/api-tokens/", {"action": "issue", "token-name": "tablet", "token-owner": "self",
                                                  "token-markets": ["DE"], "token-permissions": ["patient.view"],
                                                  "token-days": "14"})
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    token = re.search(rb'value="(sjn_[^"]+)"', answer.content).group(1).decode()
    actor = authenticate_token(token)[1]
    assert actor.can("patient.view", cast.program.pk, "DE") and not actor.can("nurse.queue", cast.program.pk, "DE")
    assert token.encode() not in client.get("/console/api-tokens/").content
    refused = client.post("/console/api-tokens/", {"action": "issue", "token-name": "x", "token-owner": "self",
                                                   "token-permissions": ["patient.view"], "token-days": "999"})
    assert refused.status_code == 400
    row = ApiToken.objects.get(prefix=token[:12])
    client.post("/console/api-tokens/", {"action": "revoke", "token": str(row.pk)})
    assert authenticate_token(token) is None
    other, _secret = issue_api_token(actor=SYSTEM, user=cast.nurse_gb, name="theirs")
    assert client.post("/console/api-tokens/", {"action": "revoke", "token": str(other.pk)}).status_code == 404


def test_a_scoped_platform_administrator_is_no_longer_one(db):
    actor = Actor(kind="staff", label="root", user_id=1, is_platform_admin=True)
    narrowed = actor.narrowed(frozenset({7}), frozenset({"DE"}), None)
    assert not narrowed.is_privileged and narrowed.via_token
    assert narrowed.can("patient.view", 7, "DE") and not narrowed.can("patient.view", 7, "GB")
    assert not narrowed.can("patient.view", 8, "DE")
