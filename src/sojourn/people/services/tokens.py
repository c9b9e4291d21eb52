"""API tokens for integrators: shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, InvalidInput
from sojourn.core.services.audit import record_audit
from sojourn.people.models import ApiToken

TOKEN_PREFIX = "sjn_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(*, actor: Actor, user: AbstractUser, name: str) -> tuple[ApiToken, str]:
    """Return the token row and the token itself, which is never stored and never shown again."""
    if actor.user_id != user.pk and not actor.is_privileged:
        raise AccessDenied()
    if not name.strip():
        raise InvalidInput("Name the token after the system that will use it.", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        row = ApiToken.objects.create(user=user, name=name.strip()[:100], prefix=token[:12],
                                      token_hash=hash_token(token))
        record_audit(actor=actor, action="api_token.issued", subject_type="staff", subject_id=user.pk,
                     after={"token": row.prefix, "name": row.name})
    return row, token


def user_for_token(token: str) -> AbstractUser | None:
    row = (ApiToken.objects.select_related("user").filter(token_hash=hash_token(token), revoked_at__isnull=True)
           .first())
    if row is None or not row.user.is_active:
        return None
    # Record use at most once a minute so a busy integration does not write on every call.
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
