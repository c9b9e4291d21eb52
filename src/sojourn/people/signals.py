"""Every sign-in, sign-out and failed sign-in leaves an audit entry (never the password tried)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from sojourn.core.actors import Actor
from sojourn.core.services.audit import record_audit
from sojourn.people.queries import actor_for_user


@receiver(user_logged_in, dispatch_uid="sojourn-audit-sign-in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        record_audit(actor=actor_for_user(user), action="staff.signed_in", subject_type="staff",
                     subject_id=user.pk)


@receiver(user_logged_out, dispatch_uid="sojourn-audit-sign-out")
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        with transaction.atomic():
            record_audit(actor=actor_for_user(user), action="staff.signed_out", subject_type="staff",
                         subject_id=user.pk)


@receiver(user_login_failed, dispatch_uid="sojourn-audit-sign-in-failed")
def _sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150].lower()
    user = get_user_model().objects.filter(username=username).first()
    with transaction.atomic():
        record_audit(actor=Actor.anonymous(), action="staff.sign_in_failed", subject_type="staff",
                     subject_id=user.pk if user else "", after={"known_account": user is not None})
