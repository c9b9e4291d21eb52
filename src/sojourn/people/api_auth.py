"""API authentication: bearer tokens for integrators, the console session (with CSRF) for pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from sojourn.core.actors import Actor
from sojourn.people.queries import actor_for_user
from sojourn.people.services.tokens import authenticate_token


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = authenticate_token(token)
        if found is None:
            return None
        request.user, request.actor = found  # type: ignore[attr-defined]
        return request.user


class SessionWithCsrf(SessionAuth):
    """Django's session, with CSRF enforced on unsafe methods as for any form post."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            request.actor = actor_for_user(user)  # type: ignore[attr-defined]
        return user


def api_actor(request: HttpRequest) -> Actor:
    return getattr(request, "actor", None) or actor_for_user(request.user)


__all__ = ["BearerToken", "SessionWithCsrf", "api_actor"]
