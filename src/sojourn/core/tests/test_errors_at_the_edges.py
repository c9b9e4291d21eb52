"""Where a domain error becomes output: a page, a form's field errors, a command's exit."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory

from sojourn.core.errors import AccessDenied, Conflict, ErrorDetail, InvalidInput, NotFound
from sojourn.core.management.base import SojournCommand
from sojourn.core.middleware import DomainErrorPageMiddleware
from sojourn.core.views import shown_on_page


class CardForm(forms.Form):
    batch = forms.CharField()
    count = forms.IntegerField()


def _request(path: str = "/console/somewhere/", method: str = "post"):
    request = getattr(RequestFactory(), method)(path)
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_refusal_goes_next_to_the_field_it_names_and_the_rest_to_the_top():
    form = CardForm({"batch": "B1", "count": "3"})
    assert form.is_valid()
    with shown_on_page(form=form) as refusal:
        raise InvalidInput("Two problems.", details=[ErrorDetail("Too many cards.", field="count"),
                                                     ErrorDetail("The run is closed.", field="run")])
    assert refusal and refusal.message == "Two problems."
    assert form.errors["count"] == ["Too many cards."]
    assert form.non_field_errors() == ["The run is closed."]


def test_a_refusal_without_details_is_one_problem_on_its_field():
    form = CardForm({"batch": "B1", "count": "3"})
    form.is_valid()
    with shown_on_page(form=form, rename=lambda field: field.removeprefix("run.")) as refusal:
        raise Conflict("This batch exists.", field="run.batch")
    assert form.errors["batch"] == ["This batch exists."]
    assert refusal.by_field() == {"run.batch": "This batch exists."}


def test_an_action_refused_becomes_a_message_and_the_page_goes_on():
    request = _request()
    with shown_on_page(request=request) as refusal:
        raise Conflict("Already approved.")
    assert [str(m) for m in get_messages(request)] == ["Already approved."]
    assert refusal.problems[0].message == "Already approved."


def test_nothing_refused_leaves_the_refusal_empty():
    with shown_on_page() as refusal:
        pass
    assert not refusal and refusal.problems == [] and refusal.by_field() == {}


def test_what_is_missing_goes_on_to_the_not_found_page():
    form = CardForm({"batch": "B1", "count": "3"})
    form.is_valid()
    with pytest.raises(NotFound), shown_on_page(form=form):
        raise NotFound()
    assert not form.errors


@pytest.mark.parametrize("error", [NotFound(), AccessDenied("Not in your market.")])
def test_missing_and_forbidden_answer_the_same_not_found_page(error, db):
    response = DomainErrorPageMiddleware(lambda r: None).process_exception(_request(method="get"), error)
    assert response.status_code == 404
    assert b"Not in your market" not in response.content  # the reason would tell that it exists


def test_any_other_refusal_leaving_a_page_shows_its_problems_with_its_status(db):
    error = InvalidInput("Not valid.", details=[ErrorDetail("Give a date.", field="due_on")])
    response = DomainErrorPageMiddleware(lambda r: None).process_exception(_request(), error)
    assert response.status_code == 422 and b"Give a date." in response.content


def test_the_api_and_other_errors_are_left_to_their_own_conversion():
    middleware = DomainErrorPageMiddleware(lambda r: None)
    assert middleware.process_exception(_request("/api/v1/programs"), NotFound()) is None
    assert middleware.process_exception(_request(), ValueError("a bug")) is None


class ImportCards(SojournCommand):
    source = "cards.csv"

    def handle(self, *args: object, **options: object) -> None:
        raise InvalidInput("The file has 2 problems.", details=[
            ErrorDetail("Not a date.", field="issued_on", line=3), ErrorDetail("The file is empty at the end.")])


def test_a_command_refused_exits_1_naming_file_line_and_field_without_a_traceback(capsys):
    with pytest.raises(SystemExit) as exit_:
        ImportCards().run_from_argv(["sojourn", "import_cards"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "The file has 2 problems." in err
    assert "cards.csv: line 3, issued_on: Not a date." in err
    assert "cards.csv: The file is empty at the end." in err
    assert "Traceback" not in err


def test_every_documented_error_status_of_the_api_has_the_one_error_body(client, db):
    document = client.get("/api/v1/openapi.json").json()
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = document["components"]["schemas"][error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(body["required"]) == {"code", "message", "details"}
    undeclared = [(path, method, status)
                  for path, operations in document["paths"].items() for method, operation in operations.items()
                  for status, answer in operation["responses"].items() if int(status) >= 400
                  and answer["content"]["application/json"]["schema"] != {"$ref": "#/components/schemas/Error"}]
    assert not undeclared
