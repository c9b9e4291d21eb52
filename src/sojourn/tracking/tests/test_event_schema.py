"""The API says what it takes: the OpenAPI document declares every event type's fields, and an event is
valid by the document exactly when the server accepts it (a bad one is still reported by index, field
and reason, without refusing the others). The same holds for a program's own types, whose schemas
GET /programs/{slug}/event-types gives."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import jsonschema_rs
import pytest
from django.utils import timezone

from sojourn.consent.tests.factories import enroll
from sojourn.core.permissions import Role
from sojourn.core.tests.factories import SYSTEM
from sojourn.people.models import Patient
from sojourn.people.services.tokens import issue_api_token
from sojourn.people.tests.factories import make_staff
from sojourn.tracking.event_types import BUILTIN, FieldSpec
from sojourn.tracking.models import Event
from sojourn.tracking.services.events import define_event_type

_ids = count()


def good_value(spec: FieldSpec) -> Any:
    return {"string": spec.choices[0] if spec.choices else "x", "int": 3, "double": 1.5, "bool": True,
            "timestamp": "2026-01-31T09:00:00+01:00", "strings": [spec.choices[0] if spec.choices else "x"],
            "scores": {"total": 12}}[spec.type]


def bad_values(spec: FieldSpec) -> list[Any]:
    """Values of the wrong kind, too long, or not among the choices."""
    wrong = {"string": [5, "x" * (spec.max_length + 1)], "int": ["3", 2.5, True, 2**60], "double": ["1.5", False],
             "bool": ["yes", 1], "timestamp": ["yesterday", "2026-01-31T09:00:00"],
             "strings": ["x", [1], ["x" * (spec.max_length + 1)], ["x"] * 51],
             "scores": [[1], {"total": "high"}, {"total": True}]}[spec.type]
    if spec.choices:
        wrong.append("not a choice" if spec.type == "string" else ["not a choice"])
    return wrong


class Sender:
    """Events about one active patient, each with its own client id, sent as one batch."""

    def __init__(self, patient: Patient) -> None:
        self.patient = patient
        self.cases: list[tuple[str, dict[str, Any]]] = []  # (what it tries, the event)

    def event(self, type_: str, data: Any = None, **envelope: Any) -> dict[str, Any]:
        out = {"client_id": f"c-{next(_ids)}", "type": type_, "patient": self.patient.pseudonym,
               "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(), **envelope}
        if data is not None:
            out["data"] = data
        return out

    def add(self, what: str, event: dict[str, Any]) -> None:
        self.cases.append((what, event))


@pytest.fixture
def sender(program):
    patient = enroll(program, "DE", email="anna@example.org").subject
    Patient.objects.filter(pk=patient.pk).update(status=Patient.Status.ACTIVE, verified_at=timezone.now())
    patient.refresh_from_db()
    return Sender(patient)


@pytest.fixture
def manager(client, program):
    user = make_staff("manager@sponsor.example", Role.PROGRAM_MANAGER, program)
    _row, token = issue_api_token(actor=SYSTEM, user=user, name="crm")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def sent(client, manager, sender: Sender) -> list[dict[str, Any]]:
    response = client.post("/api/v1/events", {"events": [e for _what, e in sender.cases]},
                           content_type="application/json", **manager)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def event_schema(client, manager) -> dict[str, Any]:
    document = client.get("/api/v1/openapi.json").json()
    body = document["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    events_in = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return events_in["properties"]["events"]["items"]


@pytest.mark.django_db
def test_an_event_is_valid_by_the_document_exactly_when_the_server_accepts_it(client, manager, sender):
    items = event_schema(client, manager)
    titles = {branch["title"] for branch in items["oneOf"]}
    assert titles == {code for code, spec in BUILTIN.items() if not spec.internal} | {"ProgramEvent"}
    for code, spec in BUILTIN.items():
        if spec.internal:
            continue
        required = {name: good_value(f) for name, f in spec.fields.items() if f.required}
        sender.add(f"{code} with its required fields", sender.event(code, required))
        sender.add(f"{code} with every field", sender.event(code, {n: good_value(f) for n, f in spec.fields.items()}))
        sender.add(f"{code} with a field it does not have", sender.event(code, {**required, "colour": "red"}))
        for name, field_spec in spec.fields.items():
            if field_spec.required:
                sender.add(f"{code} without {name}", sender.event(code, {k: v for k, v in required.items()
                                                                          if k != name}))
            else:
                sender.add(f"{code} with {name} null", sender.event(code, {**required, name: None}))
            for value in bad_values(field_spec):
                sender.add(f"{code} with {name}={value!r:.30}", sender.event(code, {**required, name: value}))
    view = {"content": "itch-tips"}
    sender.add("a level of 3.0", sender.event("content.viewed", {**view, "level": 3.0}))
    sender.add("an internal type", sender.event("stage.changed", {"stage": "diagnosis"}))
    sender.add("a key that is not part of an event", sender.event("content.viewed", view, colour="red"))
    sender.add("an empty client id", sender.event("content.viewed", view, client_id=""))
    sender.add("a blank client id", sender.event("content.viewed", view, client_id="   "))
    sender.add("a client id of 81 characters", sender.event("content.viewed", view, client_id="c" * 81))
    sender.add("a time without its zone", sender.event("content.viewed", view, occurred_at="2026-01-31T09:00:00"))
    sender.add("a time that is no time", sender.event("content.viewed", view, occurred_at="soon"))
    sender.add("data that is a list", sender.event("content.viewed", ["itch-tips"]))
    sender.add("not an event at all", "content.viewed")  # type: ignore[arg-type]

    document = jsonschema_rs.validator_for(items, validate_formats=True)
    results = sent(client, manager, sender)
    disagree = [(what, document.is_valid(event), result["status"], result["message"])
                for (what, event), result in zip(sender.cases, results, strict=True)
                if document.is_valid(event) != (result["status"] == "accepted")]
    assert disagree == []
    # Each refusal still names the field at fault and why.
    by_case = {what: result for (what, _e), result in zip(sender.cases, results, strict=True)}
    assert by_case["email.bounced with bounce='not a choice'"]["field"] == "data.bounce"
    assert "hard, soft" in by_case["email.bounced with bounce='not a choice'"]["message"]
    assert by_case["content.rated without helpful"]["field"] == "data.helpful"
    assert by_case["a time without its zone"]["field"] == "occurred_at"
    assert Event.objects.filter(data__level=3).exists()  # kept as the whole number it is
    assert len(results) > 150 and sum(r["status"] == "accepted" for r in results) > 30


@pytest.mark.django_db
def test_a_programs_own_event_type_comes_with_the_schema_its_events_are_checked_against(
        client, manager, sender, program):
    define_event_type(actor=SYSTEM, program=program, code="diary.entry", meaningful=True,
                      fields={"mood": {"type": "int", "required": True},
                              "note": {"type": "string", "max_length": 20, "choices": ["calm", "itchy"]}})
    listed = client.get(f"/api/v1/programs/{program.slug}/event-types", **manager)
    assert listed.status_code == 200
    types = {t["code"]: t for t in listed.json()}
    assert set(types) == {*BUILTIN, "diary.entry"}
    assert (types["diary.entry"]["built_in"], types["stage.changed"]["sendable"]) == (False, False)
    own = jsonschema_rs.validator_for(types["diary.entry"]["event_schema"], validate_formats=True)
    anything = jsonschema_rs.validator_for(event_schema(client, manager), validate_formats=True)
    for what, data in [("a mood", {"mood": 2}), ("a mood and a note", {"mood": 2, "note": "calm"}),
                       ("no mood", {"note": "calm"}), ("a note not among the choices", {"mood": 2, "note": "sad"}),
                       ("a mood in words", {"mood": "low"}), ("a field it does not have", {"mood": 2, "sleep": 1})]:
        sender.add(what, sender.event("diary.entry", data))
    results = sent(client, manager, sender)
    assert [(what, own.is_valid(event)) for what, event in sender.cases] == \
        [(what, result["status"] == "accepted") for (what, _e), result in zip(sender.cases, results, strict=True)]
    # The document's envelope for a program's types takes each of them; the program's own schema decides.
    assert all(anything.is_valid(event) for _what, event in sender.cases)
    assert client.get("/api/v1/programs/elsewhere/event-types", **manager).status_code == 404
