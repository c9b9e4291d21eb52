"""API authentication: bearer tokens for integrators, the console session (with CSRF) for pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from sojourn.core.actors import Actor
from sojourn.people.queries import actor_for_user
from sojourn.people.services.tokens import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        request.actor = actor_for_user(user)  # type: ignore[attr-defined]
        return user


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
