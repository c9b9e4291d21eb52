"""The console shell: sign-in, home, program and market switcher, patients, audit trail."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sojourn.core.errors import NotFound
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import PERMISSION_LABELS, Permission, Role
from sojourn.core.views import shown_on_page
from sojourn.people import queries
from sojourn.people.console import choose_scope, console_scope
from sojourn.people.console_pages import PAGES
from sojourn.people.forms import PreferencesForm, RevealIdentityForm, SignInForm
from sojourn.people.services.patients import read_patient_identity
from sojourn.people.services.staff import update_staff_preferences
from sojourn.people.services.throttling import SIGN_IN_FAILURES_PER_CLIENT, client_address, count_hit, exhausted


class SignInView(auth_views.LoginView):
    """Sign in, with django-axes locking one username after repeated failures, and a limit per client
    across usernames (password spraying) that refuses before any password is checked."""

    template_name = "people/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        wait = exhausted(limit=SIGN_IN_FAILURES_PER_CLIENT, identifier=client_address(request) or "")
        if wait:
            response = render(request, "people/sign_in_throttled.html", {"minutes": math.ceil(wait / 60)},
                              status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        # Every failure counts, for a username that exists or not.
        count_hit(limit=SIGN_IN_FAILURES_PER_CLIENT, identifier=client_address(self.request) or "")
        return super().form_invalid(form)


def locked_out(request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object) -> HttpResponse:
    """What django-axes shows after too many failed sign-ins."""
    return render(request, "people/locked_out.html", status=429)


def forbidden(request: HttpRequest, url_name: str) -> HttpResponse:
    """Tell a staff member that this kind of page is not part of their role, and what it needs."""
    scope = console_scope(request)
    program_id = scope.program.pk if scope.program else None
    roles = sorted({str(Role(g.role).label) for g in request.actor.grants  # type: ignore[attr-defined]
                    if g.program_id == program_id})
    needed = sorted(str(PERMISSION_LABELS[p]) for p in PAGES.get(url_name, ()))
    return render(request, "people/forbidden.html", {"roles": roles, "needed": needed}, status=403)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    counts = queries.patient_counts(request.actor, scope.program) if scope.program is not None else {}
    shown = [(m, counts.get(m.country)) for m in scope.markets if scope.market in (None, m)]
    return render(request, "people/home.html", {"market_rows": shown})


@login_required
@require_POST
def switch_scope(request: HttpRequest) -> HttpResponse:
    choose_scope(request, request.POST.get("program", ""), request.POST.get("market", ""))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "console:home"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(target)


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    patients = []
    if scope.program is not None:
        patients = queries.patients_for(request.actor, scope.program,
                                        market=scope.market.country if scope.market else None)
    page = Paginator(patients, 50).get_page(request.GET.get("page"))
    return render(request, "people/patient_list.html", {"page": page})


@login_required
def patient_detail(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = queries.access_patient(request.actor, pseudonym)
    can_reveal = request.actor.can(Permission.PATIENT_READ_PII, patient.program_id, patient.market.country)
    return render(request, "people/patient_detail.html",
                  {"patient": patient, "can_reveal": can_reveal, "form": RevealIdentityForm()})


@login_required
@require_POST
def reveal_identity(request: HttpRequest, pseudonym: str) -> HttpResponse:
    form = RevealIdentityForm(request.POST)
    patient = queries.access_patient(request.actor, pseudonym)
    if not form.is_valid():
        return render(request, "people/_identity.html", {"form": form, "patient": patient}, status=400)
    with shown_on_page(form=form, rename=lambda _field: "") as refusal:
        identity = read_patient_identity(actor=request.actor, patient=patient, purpose=form.cleaned_data["purpose"])
    if refusal:
        return render(request, "people/_identity.html", {"form": form, "patient": patient}, status=403)
    return render(request, "people/_identity.html", {"identity": identity, "patient": patient})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None or not request.actor.can(Permission.AUDIT_VIEW, scope.program.pk):
        raise NotFound()
    entries = AuditEntry.objects.filter(program_id=scope.program.pk).order_by("-seq")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "people/audit_log.html", {"page": page})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    profile = getattr(request.user, "staff_profile", None)
    initial = {"language": profile.language if profile else "", "time_zone": profile.time_zone if profile else "UTC"}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with shown_on_page(form=form):
            update_staff_preferences(actor=request.actor, user=request.user, **form.cleaned_data)
            messages.success(request, _("Your preferences are saved."))
            return redirect("console:preferences")
    return render(request, "people/preferences.html", {"form": form})
