"""Invitation cards in the console: the print runs of a program with how many cards were used to
enroll, a form to order another run, and its codes as CSV for the print house."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from sojourn.core.errors import NotFound
from sojourn.core.permissions import Permission
from sojourn.core.spreadsheets import csv_writer
from sojourn.core.views import shown_on_page
from sojourn.people import queries
from sojourn.people.console import console_scope
from sojourn.people.forms import InvitationRunForm
from sojourn.people.models import Hcp
from sojourn.people.services.invitations import issue_invitations


@login_required
def invitations(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    actor = request.actor  # type: ignore[attr-defined]
    if scope.program is None or actor.markets_in(Permission.PROGRAM_MANAGE, scope.program.pk) == frozenset():
        raise NotFound()
    program = scope.program
    markets = [m for m in scope.markets if actor.can(Permission.PROGRAM_MANAGE, program.pk, m.country)]
    hcps = Hcp.objects.filter(program=program, status=Hcp.Status.ACTIVE,
                              market__country__in=[m.country for m in markets]).select_related("market")
    form = InvitationRunForm(request.POST or None, markets=[(m.country, f"{m.country} · {m.name}") for m in markets],
                             hcps=[(h.pseudonym, f"{h.pseudonym} · {h.market.country} · {h.specialty}")
                                   for h in hcps.order_by("market__country", "pseudonym")],
                             initial={"market": scope.market.country if scope.market else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        hcp = hcps.filter(pseudonym=data["hcp"]).first() if data["hcp"] else None
        with shown_on_page(form=form):
            made = issue_invitations(actor=actor, program=program, market=data["market"], count=data["count"],
                                     hcp=hcp, batch=data["batch"])
            messages.success(request, _("%(n)d cards printed as %(batch)s.") % {"n": len(made),
                                                                                "batch": made[0].batch})
            return redirect("console:invitations")
    runs = queries.invitation_runs(actor, program, market=scope.market.country if scope.market else None)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(request, "people/invitations.html", {"form": form, "page": page},
                  status=400 if request.method == "POST" else 200)


@login_required
def invitation_codes(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    market, batch = request.GET.get("market", ""), request.GET.get("batch", "")
    if scope.program is None:
        raise NotFound()
    codes = queries.invitation_run_codes(request.actor, scope.program, market, batch)  # type: ignore[attr-defined]
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["code", "market", "batch", "hcp", "issued_at", "used"])
    for card in codes:
        writer.writerow([card.code, market, batch, card.hcp.pseudonym if card.hcp else "", card.issued_at.isoformat(),
                         "yes" if card.accepted_at else "no"])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in batch)
    response["Content-Disposition"] = f'attachment; filename="invitations-{market}-{safe}.csv"'
    return response
