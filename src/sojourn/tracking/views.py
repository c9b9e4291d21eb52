"""The staff profile page: needs with their explanations, questionnaire scores over time, consents, stage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sojourn.consent.queries import granted_purposes
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.queries import access_patient
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.services.definitions import definition
from sojourn.tracking import queries
from sojourn.tracking.models import Stage
from sojourn.tracking.services.profiles import set_journey_stage


@login_required
def profile(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym)
    language = (get_language() or "en").split("-")[0]
    history = queries.score_history(patient, language)
    for series in history:
        series["path"] = queries.trend_path(series["points"])
        series["latest"] = series["points"][-1]
    profile = queries.profile_of(patient)
    stage = profile.stage if profile else None
    return render(request, "tracking/profile.html", {
        "patient": patient, "needs": queries.needs_of(patient, language), "profile": profile,
        "stage_label": stage.label(language) if stage else "",
        "engagement": queries.engagement_words(profile.engagement if profile else "new"),
        "history": history, "purposes": sorted(granted_purposes(patient)),
        "stages": [(s.code, s.label(language), s == stage)
                   for s in Stage.objects.filter(program_id=patient.program_id)],
        "questionnaires": [(q.name, definition(q).title_in(language)) for q in
                           Questionnaire.objects.filter(program_id=patient.program_id, status="approved")],
        "may_manage": request.actor.can(Permission.PATIENT_MANAGE, patient.program_id, patient.market.country),
        "language": language})


@login_required
@require_POST
def change_stage(request: HttpRequest, pseudonym: str) -> HttpResponse:
    patient = access_patient(request.actor, pseudonym, Permission.PATIENT_MANAGE)
    with shown_on_page(request=request):
        set_journey_stage(actor=request.actor, patient=patient, stage_code=request.POST.get("stage", ""),
                          reason=request.POST.get("reason", ""))
        messages.success(request, _("The journey stage is changed."))
    return redirect("tracking:profile", pseudonym=pseudonym)
