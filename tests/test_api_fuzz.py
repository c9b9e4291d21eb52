"""Fuzz every operation of the OpenAPI document: no request may produce a 500.

Schemathesis generates valid and invalid requests from the document itself and sends them through
the WSGI application, authenticated as an administrator of the program.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import GenerationConfig
from schemathesis.generation import GenerationMode

from sojourn.core.tests.factories import SYSTEM
from sojourn.people.services.tokens import issue_api_token
from sojourn.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture
def wsgi_inside_test_transaction():
    """Keep Django from closing the test's database connection after each request, as its test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(cast, wsgi_inside_test_transaction):
    _row, token = issue_api_token(actor=SYSTEM, user=cast.admin, name="fuzz")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_request_produces_a_server_error(case, admin_headers):
    response = case.call(headers=admin_headers)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])


_ = GenerationConfig  # imported to fail loudly if schemathesis' configuration API moves
