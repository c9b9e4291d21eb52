"""Calling the API in tests as a partner system does: a bearer token for a user, a small client that
sends it, and the check of the JSON error body."""

from __future__ import annotations

from sojourn.core.tests.factories import SYSTEM
from sojourn.people.services.tokens import issue_api_token


def bearer(user) -> dict[str, str]:
    _row, token = issue_api_token(actor=SYSTEM, user=user, name="crm")
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    return body["error"]


class Api:
    def __init__(self, client, user):
        self.client, self.auth = client, bearer(user)["Authorization"]

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, HTTP_AUTHORIZATION=self.auth)

    def post(self, path, body=None):
        return self.client.post(f"/api/v1{path}", body or {}, content_type="application/json",
                                HTTP_AUTHORIZATION=self.auth)

    def put(self, path, body):
        return self.client.put(f"/api/v1{path}", body, content_type="application/json",
                               HTTP_AUTHORIZATION=self.auth)
