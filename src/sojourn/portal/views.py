"""The personal page in the patient portal: cards chosen for this patient, each opened, rated and
marked done; every one of those is a touchpoint event that feeds the profile and the rules."""

from __future__ import annotations

import uuid
from dataclasses import replace

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sojourn.channels.models import PortalCard
from sojourn.channels.services.cards import dismiss_card
from sojourn.consent.portal import market_locale, patient_actor, signed_in_patient
from sojourn.content.kinds import fill
from sojourn.content.models import ContentItem
from sojourn.content.queries import ResolvedContent, resolve
from sojourn.core.actors import Actor
from sojourn.core.errors import SojournError
from sojourn.people.models import Patient
from sojourn.people.services.patients import open_for_delivery
from sojourn.portal.queries import Card, content_level, personal_page
from sojourn.safety.queries import questions_for
from sojourn.tracking.services.events import record_events

PORTAL = Actor.system("portal")


def _patient(request: HttpRequest) -> Patient | None:
    patient = signed_in_patient(request)
    if patient is None or patient.status != Patient.Status.ACTIVE:
        return None
    market_locale(request, patient.market, preference=patient.locale)
    return patient


def _filled(request: HttpRequest, patient: Patient, items: list[ResolvedContent]) -> list[ResolvedContent]:
    """Fill the variables. The patient's own name is opened only when some text asks for it (and the
    read is audited, as every read of personal data)."""
    texts = [getattr(c, f) for c in items for f in ("title", "summary", "body")]
    name = ""
    if any("{given_name}" in t for t in texts):
        name = open_for_delivery(actor=PORTAL, patient_ids=[patient.pk], fields=("given_name",),
                                 purpose="personal page").get(patient.pk, {}).get("given_name") or ""
    values = {"given_name": name, "program_name": patient.program.name,
              "portal_link": request.build_absolute_uri(reverse("personal-page:page"))}
    return [replace(c, title=fill(c.title, values), summary=fill(c.summary, values), body=fill(c.body, values))
            for c in items]


def _event(patient: Patient, kind: str, item: ContentItem, level: int, **data: object) -> None:
    record_events(patient_actor(patient), [{
        "client_id": f"portal-{uuid.uuid4().hex}", "type": kind, "patient": patient.pseudonym,
        "occurred_at": timezone.now().isoformat(),
        "data": {"content": item.code, "needs": list(item.needs), "channel": "web", "level": level, **data}}],
        source="portal")


def page(request: HttpRequest) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    shown = personal_page(patient, timezone.now())
    contents = _filled(request, patient, [c.content for c in shown.cards])
    cards = [replace(card, content=content) for card, content in zip(shown.cards, contents, strict=True)]
    return render(request, "portal/page.html", {"patient": patient, "page": shown, "cards": cards,
                                                "thanks": request.GET.get("thanks", ""),
                                                "safety_questions": len(questions_for(patient))})


def _usable(patient: Patient, code: str) -> tuple[ContentItem | None, ResolvedContent | None, int]:
    item = ContentItem.objects.filter(program_id=patient.program_id, code=code).first()
    level = content_level(patient)
    if item is None or item.level > level:
        return None, None, level
    found = resolve(patient.program_id, code, locale=patient.locale, country=patient.market.country, channel="web")
    return item, found.content, level


def card(request: HttpRequest, code: str) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    item, content, level = _usable(patient, code)
    if item is None or content is None:
        return render(request, "portal/card_gone.html", {"patient": patient}, status=404)
    _event(patient, "content.viewed", item, level)
    [content] = _filled(request, patient, [content])
    return render(request, "portal/card.html", {"patient": patient, "card": Card(content, ""), "item": item})


@require_POST
def rate(request: HttpRequest, code: str) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    item, content, level = _usable(patient, code)
    answer = request.POST.get("helpful", "")
    if item is None or content is None or answer not in {"yes", "no"}:
        return render(request, "portal/card_gone.html", {"patient": patient}, status=404)
    _event(patient, "content.rated", item, level, helpful=answer == "yes")
    return redirect(f"{reverse('personal-page:page')}?thanks={code}#card-{code}")


@require_POST
def done(request: HttpRequest, code: str) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    item, content, level = _usable(patient, code)
    if item is None or content is None:
        return render(request, "portal/card_gone.html", {"patient": patient}, status=404)
    _event(patient, "content.completed", item, level)
    return redirect(f"{reverse('personal-page:page')}?thanks={code}")


@require_POST
def put_away(request: HttpRequest, card_id: int) -> HttpResponse:
    patient = _patient(request)
    if patient is None:
        return redirect("portal:sign-in")
    found = PortalCard.objects.filter(pk=card_id, patient=patient).first()
    if found is None:
        return render(request, "portal/card_gone.html", {"patient": patient}, status=404)
    try:
        dismiss_card(actor=patient_actor(patient), card=found)
    except SojournError:
        return render(request, "portal/card_gone.html", {"patient": patient}, status=404)
    return redirect("personal-page:page")
