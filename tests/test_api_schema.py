"""The API keeps the promises of its OpenAPI document, for a program manager and for a nurse.

Schemathesis generates valid and invalid requests for every operation from the document itself and
sends them through the WSGI application, on the demo program (built once for the module by the same
command as `make demo`, with a small cohort), with every built-in check: no server error, every status
and body as documented (the error envelope included), valid data accepted, invalid data refused, no
answer without credentials (POST /events answers a batch holding bad events with 200, each of them
rejected: a_bad_event_is_refused_on_its_own checks that instead). Path parameters of valid requests
name the demo's own program, market and patients, so that requests reach the services and not only the
404 of an unknown id.
"""

from __future__ import annotations

from io import StringIO

import jsonschema_rs
import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode

from sojourn.core.models import Program
from sojourn.core.tests.factories import SYSTEM
from sojourn.demo.builder import PROGRAM_SLUG
from sojourn.people.models import Patient
from sojourn.people.services.tokens import issue_api_token
from sojourn.wsgi import application

pytestmark = [pytest.mark.xdist_group("demo-api")]

PATIENTS, DAYS = 30, 10
EXAMPLES = 12  # per operation and token: about a minute per token on each database
TOKENS = {"manager": "manager@demo.sojourn.example", "nurse": "nurse.de@demo.sojourn.example"}

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# A well-formed request may still break a business rule (a market the program does not run in, a
# consent version no longer in use): 422 naming the field, or 410 for erased data. That the request
# parsing and the guard accept every request the document calls valid is checked below instead.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"]


@schemathesis.check
def valid_requests_pass_the_edge(ctx, response, case):
    """A request the document calls valid is never refused by the parsing or the guard (their details say
    where the problem is: body, query or path); only services refuse it, for a rule of the domain."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return None
    details = response.json()["error"]["details"]
    edge = [d for d in details if "in" in d]
    if response.status_code == 400 or edge:
        raise AssertionError(f"a valid request was refused by the edge: {edge or response.json()}")
    return None


EVENTS = "POST /api/v1/events"
# One event as the document declares it (the items of POST /events), resolved within the document.
EVENT = jsonschema_rs.validator_for(
    {"$ref": "#/components/schemas/EventsIn/properties/events/items", "components": schema.raw_schema["components"]},
    validate_formats=True)


def bad_events(case) -> list[int]:
    """The indexes of the events of a POST /events request that the document calls invalid."""
    events = case.body.get("events") if case.operation.label == EVENTS and isinstance(case.body, dict) else None
    return [i for i, event in enumerate(events) if not EVENT.is_valid(event)] if isinstance(events, list) else []


@schemathesis.check
def a_bad_event_is_refused_on_its_own(ctx, response, case):
    """POST /events answers 200 to a batch holding events the document refuses, and reports each of them
    rejected (by index, field and reason) instead of refusing the others with them: it stands in for
    negative_data_rejection for such requests. Any other invalid request is still refused."""
    refused = bad_events(case)
    if not refused or response.status_code != 200:
        return None
    results = {r["index"]: r for r in response.json()["results"]}
    kept = [index for index in refused if results[index]["status"] != "rejected"]
    if kept:
        raise AssertionError(f"events the document calls invalid were not rejected: {kept}")
    return None


@pytest.fixture(scope="module")
def demo_program(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("demo", no_serve=True, patients=PATIENTS, days=DAYS, seed=1, stdout=StringIO())
        program = Program.objects.get(slug=PROGRAM_SLUG)
        patient = Patient.objects.filter(program=program, market__country="DE").order_by("pk").first()
        yield {"slug": program.slug, "country": "DE", "pseudonym": patient.pseudonym}
        # The rest of the suite expects an empty database, as after any transactional test.
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def wsgi_inside_test_transaction():
    """Keep Django from closing the test's database connection after each request, as its test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=sorted(TOKENS))
def token(request, demo_program, wsgi_inside_test_transaction):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=TOKENS[request.param])
    _row, secret = issue_api_token(actor=SYSTEM, user=user, name=f"schema {request.param}")
    return secret


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_operation_keeps_its_documented_promises(case, token, demo_program):
    if case.meta is not None and case.meta.generation.mode.is_positive and case.path_parameters:
        for name, value in demo_program.items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    excluded = [schemathesis.checks.negative_data_rejection] if bad_events(case) else []
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)
