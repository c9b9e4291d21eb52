"""API tokens in the console: one's own and those of the program's service accounts, issued for the
program in view (shown once), rotated and revoked; service accounts created by staff managers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from sojourn.core.errors import NotFound
from sojourn.core.permissions import PERMISSION_LABELS, Permission, Role
from sojourn.core.views import shown_on_page
from sojourn.people import queries
from sojourn.people.console import console_scope
from sojourn.people.forms import ServiceAccountForm, TokenForm
from sojourn.people.services import staff, tokens

SELF = "self"


@never_cache  # the page shows a new token once: no cache may keep it
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    actor = request.actor  # type: ignore[attr-defined]
    program = scope.program
    if program is None:
        raise NotFound()
    manages = actor.can(Permission.STAFF_MANAGE, program.pk)
    accounts = list(queries.service_accounts(actor, program))
    owners = [(SELF, _("Me")), *((str(a.user_id), a.display_name) for a in accounts)]
    markets = [(m.country, f"{m.country} · {m.name}") for m in scope.markets]
    held = sorted({p for g in actor.grants if g.program_id == program.pk for p in g.permissions}
                  if not actor.is_privileged else set(Permission))
    permissions = [(p.value, f"{p.value} · {PERMISSION_LABELS[p]}") for p in held]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    token_form = TokenForm(request.POST if action == "issue" else None, prefix="token", owners=owners,
                           markets=markets, permissions=permissions)
    account_form = ServiceAccountForm(request.POST if action == "account" else None, prefix="account",
                                      roles=[(r.value, r.label) for r in Role], markets=markets)
    issued = None
    refused = False
    if action == "issue":
        if token_form.is_valid():
            data = token_form.cleaned_data
            owner = request.user if data["owner"] == SELF else next(
                a.user for a in accounts if str(a.user_id) == data["owner"])
            with shown_on_page(form=token_form) as refusal:
                row, token = tokens.issue_api_token(actor=actor, user=owner, name=data["name"], program=program,
                                                    markets=data["markets"] or None,
                                                    permissions=data["permissions"] or None, days=data["days"])
                issued = (row, token)
            refused = bool(refusal.error)
        else:
            refused = True
    elif action == "account" and manages:
        if account_form.is_valid():
            data = account_form.cleaned_data
            with shown_on_page(form=account_form) as refusal:
                user = staff.create_service_account(actor=actor, program=program, name=data["name"],
                                                    role=Role(data["role"]), markets=data["markets"] or None)
                messages.success(request, _("Service account %(name)s created; issue it a token below.")
                                 % {"name": user.staff_profile.display_name})
                return redirect("console:api-tokens")
            refused = bool(refusal.error)
        else:
            refused = True
    elif action in {"rotate", "revoke"}:
        row = queries.tokens_for(actor).filter(pk=request.POST.get("token", "")
                                               if request.POST.get("token", "").isdigit() else None).first()
        if row is None:
            raise NotFound()
        with shown_on_page(request=request) as refusal:
            if action == "revoke":
                tokens.revoke_api_token(actor=actor, token_id=row.pk)
                messages.success(request, _("Token %(prefix)s… revoked: it is refused from now on.")
                                 % {"prefix": row.prefix})
                return redirect("console:api-tokens")
            issued = tokens.rotate_api_token(actor=actor, token_id=row.pk)
        refused = bool(refusal.error)
    rows = [(row, tokens.token_state(row)) for row in queries.tokens_for(actor, program)]
    return render(request, "people/api_tokens.html", {
        "token_form": token_form, "account_form": account_form if manages else None, "accounts": accounts,
        "rows": rows, "issued": issued}, status=400 if refused else 200)
