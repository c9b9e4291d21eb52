"""A market goes live in a program only when its checklist is complete; until then going live is
refused naming what is missing, and the program does not launch."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sojourn.consent.tests.factories import approved_version
from sojourn.content.tests.factories import approved_item
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.models import AuditEntry, Market, ProgramMarket
from sojourn.core.permissions import Role
from sojourn.core.services.programs import launch_program
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_staff
from sojourn.programs.activation import go_live, readiness
from sojourn.tracking.services.taxonomy import define_need

SYSTEM = Actor.system("test")


def open_checks(program, country: str) -> dict[str, list[str]]:
    return {c.code: c.missing for c in readiness(program, Market.objects.get(country=country)) if not c.ok}


@pytest.mark.django_db
def test_going_live_is_refused_naming_what_is_missing_until_the_market_is_ready(program):
    ProgramMarket.objects.update(live_at=None)  # opened by the factory, not yet live
    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"})
    missing = open_checks(program, "DE")
    assert set(missing) == {"patient_consent", "hcp_consent", "content", "nurses", "safety"}
    assert missing["content"] == ["itch in de-DE"]
    with pytest.raises(InvalidInput) as exc:
        go_live(actor=SYSTEM, program=program, country="DE")
    assert {d.field for d in exc.value.details} == set(missing)
    with pytest.raises(InvalidInput, match="Take at least one market live"):
        launch_program(actor=SYSTEM, program=program)

    approved_version(program, "DE")
    approved_version(program, "DE", audience="hcp")
    words = {"title": "Juckreiz", "summary": "Was hilft.", "body": "Kühlen hilft."}
    approved_item(program, "itch-relief", "article", {"de-DE": words}, needs=["itch"])
    make_staff("nurse.de@sponsor.example", Role.NURSE, program, ("DE",))
    assert set(open_checks(program, "DE")) == {"safety"}
    make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)
    assert open_checks(program, "DE") == {}
    # A nurse may not take a market live; a program manager may.
    nurse = make_staff("nurse2.de@sponsor.example", Role.NURSE, program, ("DE",))
    with pytest.raises(AccessDenied):
        go_live(actor=actor_for_user(nurse), program=program, country="DE")
    manager = make_staff("pm@sponsor.example", Role.PROGRAM_MANAGER, program)
    link = go_live(actor=actor_for_user(manager), program=program, country="DE")
    assert link.live_at is not None
    go_live(actor=actor_for_user(manager), program=program, country="DE")  # twice is once
    assert AuditEntry.objects.filter(action="market.went_live").count() == 1
    assert launch_program(actor=SYSTEM, program=program).status == "live"
    # Japan has neither consents nor content in Japanese: still in set-up.
    assert "patient_consent" in open_checks(program, "JP")


@pytest.mark.django_db
def test_the_command_line_shows_each_markets_checklist_and_takes_one_live(program):
    ProgramMarket.objects.update(live_at=None)
    out = StringIO()
    call_command("program", "check", "--program", program.slug, "--market", "gb", stdout=out)
    text = out.getvalue()
    assert text.startswith("GB (in set-up)") and "[missing] Patient consent approved in each language" in text
    assert "[ok] Quiet hours: 20:00–08:00" in text
    with pytest.raises(CommandError, match="not ready to go live"):
        call_command("program", "go-live", "--program", program.slug, "--market", "GB", stdout=StringIO())
    approved_version(program, "GB")
    approved_version(program, "GB", audience="hcp")
    make_staff("nurse.gb@sponsor.example", Role.NURSE, program, ("GB",))
    make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)
    call_command("program", "go-live", "--program", program.slug, "--market", "GB", stdout=out)
    assert "GB is live in psoriasis" in out.getvalue()
    call_command("program", "launch", "--program", program.slug, stdout=out)
    assert "is live" in out.getvalue()


@pytest.mark.django_db
def test_the_console_lists_each_markets_checklist_and_takes_a_ready_one_live(client, program):
    manager = make_staff("pm@sponsor.example", Role.PROGRAM_MANAGER, program)
    client.force_login(manager)
    page = client.get("/console/program/definition/").content.decode()
    assert "DE · Germany · in set-up" in page
    assert "Patient consent approved in each language: no approved version" in page
    client.post("/console/program/markets/DE/live/")
    assert not ProgramMarket.objects.filter(live_at__isnull=False).exists()
    approved_version(program, "DE")
    approved_version(program, "DE", audience="hcp")
    make_staff("nurse.de@sponsor.example", Role.NURSE, program, ("DE",))
    make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)
    client.post("/console/program/markets/DE/live/")
    assert list(ProgramMarket.objects.filter(live_at__isnull=False).values_list("market__country", flat=True)) == [
        "DE"]
    assert "DE · Germany · live" in client.get("/console/program/definition/").content.decode()


@pytest.mark.django_db
def test_the_api_reads_each_markets_checklist_and_takes_a_ready_one_live(client, program):
    from sojourn.people.tests.api import Api, assert_error

    manager = Api(client, make_staff("pm@sponsor.example", Role.PROGRAM_MANAGER, program))
    markets = {m["country"]: m for m in manager.get("/programs/psoriasis/markets/readiness").json()}
    assert set(markets) == {"CA", "DE", "GB", "JP", "US"} and markets["DE"]["live_at"] is None
    de = {c["code"]: c for c in markets["DE"]["checks"]}
    assert de["patient_consent"] == {"code": "patient_consent", "label": "Patient consent approved in each language",
                                     "ok": False, "missing": ["no approved version"], "note": ""}
    refused = assert_error(manager.post("/programs/psoriasis/markets/DE/go-live"), 422, "invalid")
    assert {d["field"] for d in refused["details"]} == {"patient_consent", "hcp_consent", "nurses", "safety"}
    approved_version(program, "DE")
    approved_version(program, "DE", audience="hcp")
    make_staff("nurse.de@sponsor.example", Role.NURSE, program, ("DE",))
    make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program)
    live = manager.post("/programs/psoriasis/markets/de/go-live").json()
    assert live["country"] == "DE" and live["live_at"] and all(c["ok"] for c in live["checks"])
    assert_error(manager.post("/programs/psoriasis/markets/FR/go-live"), 404, "not_found")
    nurse = Api(client, make_staff("nurse2@sponsor.example", Role.NURSE, program, ("GB",)))
    assert_error(nurse.get("/programs/psoriasis/markets/readiness"), 403, "forbidden")
