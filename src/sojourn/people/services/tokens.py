"""API tokens of staff members and service accounts: scoped, expiring, rotated and revoked.

A token is shown once and stored as a SHA-256 hash: it is 32 random bytes, so a fast hash is as safe
as a slow one and lets every request find it by an index. Its scope narrows what its owner may do
(see Actor.narrowed); the owner's roles are read on every request, so taking a role away takes it
from the owner's tokens too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Program
from sojourn.core.permissions import PROGRAM_WIDE, Permission
from sojourn.core.services.audit import record_audit
from sojourn.people.models import ApiToken, StaffProfile
from sojourn.people.queries import actor_for_user

TOKEN_PREFIX = "sjn_"
DEFAULT_DAYS = 90
MAX_DAYS = 365
# How long a rotated token keeps working beside its successor, unless the rotation says otherwise.
DEFAULT_OVERLAP_HOURS = 24
MAX_OVERLAP_HOURS = 7 * 24


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _service_program_id(user: AbstractUser) -> int | None:
    return StaffProfile.objects.filter(user=user).values_list("service_program_id", flat=True).first()


def _may_manage(actor: Actor, owner: AbstractUser) -> bool:
    """The owner manages their own tokens; a service account's are managed by its program's staff managers."""
    if actor.is_privileged or actor.user_id == owner.pk:
        return True
    program_id = _service_program_id(owner)
    return program_id is not None and actor.can(Permission.STAFF_MANAGE, program_id)


def _checked_scope(owner: Actor, program: Program | None, markets: Iterable[str] | None,
                   permissions: Iterable[str] | None) -> tuple[list[str] | None, list[str] | None]:
    """Return the scope's markets and permissions, sorted, once each lies within what the owner holds;
    otherwise refuse, naming the field: a token never holds more than its owner."""
    problems: list[ErrorDetail] = []
    kept_markets = None if markets is None else sorted({m.strip().upper() for m in markets if m.strip()})
    kept_permissions = None if permissions is None else sorted({p.strip() for p in permissions if p.strip()})
    if kept_markets == []:
        problems.append(ErrorDetail(_("Choose at least one market, or leave the markets out for all of them."),
                                    field="markets"))
    if kept_permissions == []:
        problems.append(ErrorDetail(_("Choose at least one permission, or leave them out for all of yours."),
                                    field="permissions"))
    if program is None and (kept_markets or (kept_permissions and owner.is_platform_admin)):
        problems.append(ErrorDetail(_("Name the program this scope belongs to."), field="program"))
    if program is not None and not owner.is_privileged and program.pk not in (owner.program_ids() or set()):
        problems.append(ErrorDetail(_("The token's owner has no role in %(program)s.") % {"program": program.slug},
                                    field="program"))
    if kept_markets and program is not None:
        runs_in = set(program.program_markets.values_list("market__country", flat=True))
        held = owner.markets_in(Permission.PROGRAM_VIEW, program.pk)
        outside = [m for m in kept_markets if m not in runs_in or (held is not None and m not in held)]
        if outside:
            problems.append(ErrorDetail(_("The token's owner has no role in %(markets)s in this program.")
                                        % {"markets": ", ".join(outside)}, field="markets"))
    if kept_permissions:
        known = {p.value for p in Permission}
        unknown = [p for p in kept_permissions if p not in known]
        if unknown:
            problems.append(ErrorDetail(_("No such permission: %(names)s.") % {"names": ", ".join(unknown)},
                                        field="permissions"))
        programs = [program.pk] if program is not None else sorted(owner.program_ids() or ())
        missing = [p for p in kept_permissions if p in known and not owner.is_privileged
                   and not any(owner.markets_in(Permission(p), pid) != frozenset() for pid in programs)]
        if missing:
            problems.append(ErrorDetail(_("The token's owner may not %(what)s.")
                                        % {"what": ", ".join(missing)}, field="permissions"))
        if kept_markets and any(Permission(p) in PROGRAM_WIDE for p in kept_permissions if p in known):
            problems.append(ErrorDetail(_("A token limited to some markets cannot hold a permission over the "
                                          "whole program (%(names)s).") % {"names": ", ".join(
                                              p for p in kept_permissions if p in known
                                              and Permission(p) in PROGRAM_WIDE)}, field="permissions"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return kept_markets, kept_permissions


def issue_api_token(*, actor: Actor, user: AbstractUser, name: str, program: Program | None = None,
                    markets: Iterable[str] | None = None, permissions: Iterable[str] | None = None,
                    days: int = DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """Return the token row and the token itself, which is never stored and never shown again."""
    # People issue tokens (console, CLI, the API with a session): a token minting tokens would let a
    # leaked one outlive its revocation.
    if actor.via_token or not _may_manage(actor, user):
        raise AccessDenied()
    if not name.strip():
        raise InvalidInput(_("Name the token after the system that will use it."), field="name")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_("A token runs for 1 to %(n)d days.") % {"n": MAX_DAYS}, field="days")
    service_program_id = _service_program_id(user)
    if service_program_id is not None:
        if program is not None and program.pk != service_program_id:
            raise InvalidInput(_("A service account works in its own program only."), field="program")
        program = Program.objects.get(pk=service_program_id)
    owner = actor_for_user(user)
    kept_markets, kept_permissions = _checked_scope(owner, program, markets, permissions)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        row = ApiToken.objects.create(
            user=user, name=name.strip()[:100], prefix=token[:12], token_hash=hash_token(token), program=program,
            markets=kept_markets, permissions=kept_permissions, expires_at=timezone.now() + timedelta(days=days))
        record_audit(actor=actor, action="api_token.issued", subject_type="staff", subject_id=user.pk,
                     program_id=program.pk if program else None, after=describe(row))
    return row, token


def describe(row: ApiToken) -> dict[str, object]:
    """What the audit trail keeps of a token: never the token, nor its hash."""
    return {"token": row.prefix, "name": row.name, "program": row.program_id, "markets": row.markets,
            "permissions": row.permissions, "expires_at": row.expires_at.isoformat()}


def _managed(actor: Actor, token_id: int) -> ApiToken:
    row = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if row is None or not _may_manage(actor, row.user):
        raise NotFound()  # another's token answers as one that does not exist
    return row


def revoke_api_token(*, actor: Actor, token_id: int) -> ApiToken:
    """Stop a token at once; revoking it again changes nothing."""
    with transaction.atomic(durable=True):
        row = _managed(actor, token_id)
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            record_audit(actor=actor, action="api_token.revoked", subject_type="staff", subject_id=row.user_id,
                         program_id=row.program_id, before=describe(row))
    return row


def rotate_api_token(*, actor: Actor, token_id: int,
                     overlap_hours: int = DEFAULT_OVERLAP_HOURS) -> tuple[ApiToken, str]:
    """Issue the token's successor with the same scope and term; the old one works for `overlap_hours`
    more (at most until its own expiry), so both are valid while the integration switches."""
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise InvalidInput(_("The overlap is 0 to %(n)d hours.") % {"n": MAX_OVERLAP_HOURS}, field="overlap_hours")
    if actor.via_token:  # a successor is a new token: people issue them (see issue_api_token)
        raise AccessDenied()
    now = timezone.now()
    row = _managed(actor, token_id)
    if row.revoked_at is not None or row.expires_at <= now:
        raise Conflict(_("This token has stopped; issue a new one."))
    if row.replaced_by_id is not None:
        raise Conflict(_("This token was rotated already; rotate its successor."))
    term = min(max(round((row.expires_at - row.created_at).total_seconds() / 86400), 1), MAX_DAYS)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        # Locked and read again: two rotations at once give one successor.
        current = ApiToken.objects.select_for_update().get(pk=row.pk)
        if current.replaced_by_id is not None or current.revoked_at is not None:
            raise Conflict(_("This token was rotated already; rotate its successor."))
        successor = ApiToken.objects.create(
            user_id=row.user_id, name=row.name, prefix=token[:12], token_hash=hash_token(token),
            program_id=row.program_id, markets=row.markets, permissions=row.permissions,
            expires_at=now + timedelta(days=term))
        before = describe(current)
        current.expires_at = min(current.expires_at, now + timedelta(hours=overlap_hours))
        current.replaced_by = successor
        current.save(update_fields=["expires_at", "replaced_by"])
        record_audit(actor=actor, action="api_token.rotated", subject_type="staff", subject_id=row.user_id,
                     program_id=row.program_id, before=before,
                     after={**describe(successor), "previous_expires_at": current.expires_at.isoformat()})
    return successor, token


def authenticate_token(token: str) -> tuple[AbstractUser, Actor] | None:
    """Return the token's owner and the actor the token acts as, held to its scope; None for an
    unknown, revoked or expired token, or an owner whose account is closed."""
    now = timezone.now()
    row = (ApiToken.objects.select_related("user").filter(token_hash=hash_token(token), revoked_at__isnull=True,
                                                          expires_at__gt=now).first())
    if row is None or not row.user.is_active:
        return None
    # Record use at most once a minute so a busy integration does not write on every call.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    known = {p.value for p in Permission}
    return row.user, actor_for_user(row.user).narrowed(
        None if row.program_id is None else frozenset({row.program_id}),
        None if row.markets is None else frozenset(row.markets),
        None if row.permissions is None else frozenset(Permission(p) for p in row.permissions if p in known))


def token_state(row: ApiToken) -> str:
    """active, expired, revoked or rotated (still valid during the overlap: `rotated`)."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= timezone.now():
        return "expired"
    return "rotated" if row.replaced_by_id is not None else "active"
