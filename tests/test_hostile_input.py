"""What a hostile tester sent (issue 33), refused at the edge alike on SQLite and PostgreSQL.

Control characters (NUL above all, which PostgreSQL cannot store) answer 422 naming the field; a YAML
alias bomb is refused by the one YAML loader, through the CLI and the API; a body past the size bound
answers 413 with the JSON envelope; only roles that activate markets may have packs parsed; createstaff
without a terminal says what to do; CSV exports never hand a spreadsheet a formula.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sojourn.consent.tests.factories import enroll
from sojourn.core.permissions import Role
from sojourn.core.spreadsheets import csv_writer
from sojourn.core.tests.factories import SYSTEM
from sojourn.insights.tests.factories import MAPPING, csv_file
from sojourn.people.services.tokens import issue_api_token
from sojourn.people.tests.factories import make_patient, make_staff

SOJOURN = str(Path(sys.executable).with_name("sojourn"))

# The tester's 342 bytes: nine levels of nine aliases stand for 9**9 strings.
LEVELS = "abcdefghi"
ITEMS = ['"lol"', *(f"*{level}" for level in LEVELS)]
BOMB = "".join(f"{name}: &{name} [{','.join([ITEMS[i]] * 9)}]\n" for i, name in enumerate(LEVELS))


def auth(user) -> str:
    _row, token = issue_api_token(actor=SYSTEM, user=user, name="hostile")
    return f"Bearer {token}"


def post(client: Client, url: str, body: object | str, user) -> object:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json", HTTP_AUTHORIZATION=auth(user))


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def cli(*args: str, tmp_path: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run `sojourn` as an operator would, its standard input a pipe (no terminal)."""
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
           "DJANGO_SETTINGS_MODULE": "sojourn.settings"}
    # The timeout only keeps a regression from hanging the suite; the assertions are on the answer.
    return subprocess.run([SOJOURN, *args], env=env, input=stdin, capture_output=True, timeout=300, check=False)


# --- Finding 4: control characters ----------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("url", "body", "field"), [
    ("/api/v1/channels/email/bounces", {"provider_id": "<abc\u0000@mail>", "kind": "hard"}, "provider_id"),
    ("/api/v1/patients/{p}/withdrawals", {"purposes": ["contact\u0000"], "reason": "moved"}, "purposes.0"),
    ("/api/v1/patients/{p}/withdrawals", {"reason": "moved\u0000away"}, "reason"),
    ("/api/v1/patients/{p}/data-requests", {"kind": "access", "note\u0000": "x"}, "note?"),
    ("/api/v1/events", {"events": [{"client_id": "crm-1\u0000", "type": "web.page_viewed", "patient": "{p}",
                                    "occurred_at": "2026-01-01T10:00:00Z"}]}, "events.0.client_id"),
    # A lone surrogate is as unstorable in UTF-8 as NUL is in PostgreSQL.
    ("/api/v1/patients/{p}/withdrawals", '{"reason": "moved \\ud800"}', "reason"),
])
def test_control_characters_in_a_json_body_answer_422_naming_the_field(client, cast, url, body, field):
    patient = make_patient(cast.program, "DE")
    url = url.replace("{p}", patient.pseudonym)
    body = body if isinstance(body, str) else json.loads(json.dumps(body).replace("{p}", patient.pseudonym))
    error = error_of(post(client, url, body, cast.admin), 422)
    assert error["code"] == "invalid"
    assert [(d["field"], d["in"], d["code"]) for d in error["details"]] == [(field, "body", "control_character")]


@pytest.mark.django_db
def test_control_characters_in_the_path_and_the_query_answer_422(client, cast):
    token = auth(cast.admin)
    error = error_of(client.get("/api/v1/markets/D%00", HTTP_AUTHORIZATION=token), 422)
    assert error["details"][0]["in"] == "path"
    error = error_of(client.get("/api/v1/programs?x=%00", HTTP_AUTHORIZATION=token), 422)
    assert error["details"][0] == {"field": "x", "in": "query", "message": error["details"][0]["message"],
                                   "code": "control_character"}


@pytest.mark.django_db
def test_tab_and_newlines_are_ordinary_text(client, cast):
    patient = enroll(cast.program, "DE").subject
    response = post(client, f"/api/v1/patients/{patient.pseudonym}/withdrawals",
                    {"reason": "moved\tabroad\r\nfor good"}, cast.admin)
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_console_form_with_a_control_character_is_refused_before_any_view(client, cast):
    response = Client().post("/console/sign-in/", {"username": "admin@sponsor.example\x00", "password": "x"})
    assert response.status_code == 422
    assert b"Control characters" in response.content


@pytest.mark.django_db
def test_an_imported_survey_file_with_a_control_character_is_refused_with_its_line(client, cast, stages):
    content = csv_file(["r1,DE,Starting treatment,2026-01-15,4,3", "r2\x00,DE,Starting treatment,2026-01-15,4,3"])
    payload = {"source": "Panel", "filename": "panel.csv", "content": base64.b64encode(content).decode(),
               "mapping": MAPPING}
    error = error_of(post(client, "/api/v1/programs/psoriasis/surveys", payload, cast.analyst), 422)
    assert error["details"][0]["field"] == "file" and "Line 3" in error["message"]
    client.force_login(cast.analyst)
    page = client.post("/console/insights/surveys/", {
        "source": "Panel", "mapping": json.dumps(MAPPING), "file": SimpleUploadedFile("p.csv", content)})
    assert page.status_code == 400 and "Line 3" in page.content.decode()


# --- Finding 8: a YAML alias bomb, body size, who may validate packs ------------------------------

def test_the_bomb_is_the_testers_342_bytes():
    assert len(BOMB.encode()) == 342


def test_market_validate_refuses_an_alias_bomb_with_a_clear_error(tmp_path):
    pack = tmp_path / "bomb.yaml"
    pack.write_text(BOMB, encoding="utf-8")
    result = cli("market", "validate", str(pack), tmp_path=tmp_path)
    assert result.returncode == 1, result.stderr
    assert b"aliases are expanded" in result.stderr and b"Traceback" not in result.stderr


@pytest.mark.django_db
def test_the_api_refuses_an_alias_bomb_as_a_problem_of_the_pack(client, cast):
    response = post(client, "/api/v1/market-packs/validate", {"text": BOMB}, cast.admin)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and "aliases are expanded" in body["problems"][0]["message"]


@pytest.mark.django_db
def test_only_roles_that_activate_markets_may_validate_a_pack(client, cast):
    error = error_of(post(client, "/api/v1/market-packs/validate", {"text": "country: DE\n"}, cast.nurse_de), 403)
    assert error["code"] == "forbidden"
    manager = make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, cast.program)
    assert post(client, "/api/v1/market-packs/validate", {"text": "country: DE\n"}, manager).status_code == 200


@pytest.mark.django_db
def test_a_body_past_the_bound_answers_413_with_the_json_envelope(client, cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    error = error_of(post(client, "/api/v1/market-packs/validate", {"text": "x" * 20_000}, cast.admin), 413)
    assert error["code"] == "too_large"


@pytest.mark.django_db
def test_a_broken_multipart_body_is_a_json_400_not_a_server_error(client, cast):
    response = client.post("/api/v1/events", b"--x\r\nbroken", content_type="multipart/form-data; boundary=",
                           HTTP_AUTHORIZATION=auth(cast.admin))
    assert error_of(response, 400)["code"] == "bad_request"


# --- Lesser: createstaff without a terminal; formulas in CSV exports -------------------------------

def test_createstaff_without_a_terminal_says_how_to_give_the_password(tmp_path):
    result = cli("createstaff", "--email", "a@example.org", "--name", "A", tmp_path=tmp_path)
    assert result.returncode == 1
    assert b"--password-stdin" in result.stderr and b"Traceback" not in result.stderr


def test_exported_cells_that_a_spreadsheet_would_run_are_quoted():
    out = io.StringIO()
    csv_writer(out).writerow(['=HYPERLINK("https://evil.example","x")', "+1+1", "@SUM(A1)", "-2", "-0.5", "12%",
                              "plain", 3])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        "'=HYPERLINK(\"https://evil.example\",\"x\")", "'+1+1", "'@SUM(A1)", "-2", "-0.5", "12%", "plain", "3"]
