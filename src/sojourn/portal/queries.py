"""The patient's personal page: cards chosen by needs, journey stage and unlocked content level,
each saying why it is there; the cards rules sent first. Every card's words come through
`content.queries.resolve_many`, so only approved, unexpired words in the patient's locale appear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from sojourn.channels.models import PortalCard
from sojourn.content.models import ContentItem, ContentVersion
from sojourn.content.queries import ResolvedContent, resolve_many
from sojourn.dialogue.models import DialogueState
from sojourn.people.models import Patient
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.services.definitions import definition
from sojourn.tracking.models import Event, Need, PatientNeed, PatientProfile, Stage

NEED_THRESHOLD = 0.4  # a need at or above this is one the page answers
MAX_CARDS = 12


@dataclass(frozen=True)
class Card:
    content: ResolvedContent
    why: str
    pinned: bool = False
    card_id: int | None = None  # a card a rule sent (it can be put away)
    rated: bool | None = None  # the patient's last rating: helpful or not


@dataclass(frozen=True)
class Ask:
    """A questionnaire a rule asked the patient to answer, until they have."""

    name: str
    title: str


@dataclass(frozen=True)
class Page:
    cards: list[Card]
    level: int
    locked: int  # items waiting at a higher level
    next_level: int | None
    asks: list[Ask]


def content_level(patient: Patient) -> int:
    state = DialogueState.objects.filter(patient=patient).first()
    return state.content_level if state else 1


def _ratings(patient: Patient, codes: list[str]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for data in Event.objects.filter(patient=patient, type="content.rated").order_by("occurred_at", "pk") \
            .values_list("data", flat=True):
        if data.get("content") in codes:
            out[data["content"]] = bool(data.get("helpful"))
    return out


def personal_page(patient: Patient, now: datetime) -> Page:
    language = patient.locale.split("-")[0]
    level = content_level(patient)
    profile = PatientProfile.objects.filter(patient=patient).select_related("stage").first()
    stage = profile.stage.code if profile and profile.stage else ""
    scores = {row.need.code: row for row in PatientNeed.objects.filter(patient=patient).select_related("need")}
    labels = {n.code: n.label(language) for n in Need.objects.filter(program_id=patient.program_id)}
    stage_labels = {s.code: s.label(language) for s in Stage.objects.filter(program_id=patient.program_id)}
    cards_sent = list(PortalCard.objects.filter(patient=patient, dismissed_at__isnull=True).order_by("-delivered_at"))
    pinned = [c for c in cards_sent if c.content_code]
    asks = _asks(patient, [c for c in cards_sent if c.questionnaire], language)
    usable = ContentItem.objects.filter(program_id=patient.program_id, versions__status=ContentVersion.Status.APPROVED,
                                        versions__expires_on__gte=now.date())
    candidates: list[tuple[float, ContentItem, str]] = []
    locked = 0
    higher: list[int] = []
    for item in usable:
        if "web" not in item.channels or (item.markets and patient.market.country not in item.markets):
            continue
        if item.stages and stage not in item.stages:
            continue
        if item.level > level:
            locked += 1
            higher.append(item.level)
            continue
        matched = sorted((n for n in item.needs if n in scores and scores[n].combined >= NEED_THRESHOLD),
                         key=lambda n: -scores[n].combined)
        if item.needs and not matched:
            continue
        if matched:
            top = scores[matched[0]]
            source = _("you told us in your needs analysis") if (top.explicit or 0) >= top.implicit \
                else _("you have been reading about it")
            why = _("Because “%(need)s” matters to you: %(source)s.") % {"need": labels.get(matched[0], matched[0]),
                                                                          "source": source}
            candidates.append((top.combined, item, why))
        elif item.stages:
            candidates.append((0.3, item, _("For where you are now: %(stage)s.")
                               % {"stage": stage_labels.get(stage, stage)}))
        else:
            candidates.append((0.1, item, _("For everyone in the program.")))
    codes = [c.content_code for c in pinned] + [item.code for _s, item, _w in candidates]
    words = resolve_many(patient.program_id, list(dict.fromkeys(codes)), locale=patient.locale,
                         country=patient.market.country, channel="web", at=now)
    ratings = _ratings(patient, codes)
    cards: list[Card] = []
    shown: set[str] = set()
    for card in pinned:
        found = words[card.content_code].content
        if found is not None and card.content_code not in shown:
            cards.append(Card(found, _("Sent to you by the program."), pinned=True, card_id=card.pk,
                              rated=ratings.get(card.content_code)))
            shown.add(card.content_code)
    for _score, item, why in sorted(candidates, key=lambda c: (-c[0], c[1].code)):
        found = words[item.code].content
        if found is not None and item.code not in shown and len(cards) < MAX_CARDS:
            cards.append(Card(found, why, rated=ratings.get(item.code)))
            shown.add(item.code)
    return Page(cards=cards, level=level, locked=locked, next_level=min(higher) if higher else None, asks=asks)


def _asks(patient: Patient, sent: list[PortalCard], language: str) -> list[Ask]:
    """Questionnaires asked by a rule and not completed since (the newest approved version), titled in
    the patient's language (the stored title is the resource's own, often English)."""
    out: list[Ask] = []
    for card in sent:
        if any(a.name == card.questionnaire for a in out):
            continue
        questionnaire = Questionnaire.objects.filter(program_id=patient.program_id, name=card.questionnaire,
                                                     status="approved").first()
        if questionnaire is None or QuestionnaireResponse.objects.filter(
                patient=patient, questionnaire__name=card.questionnaire, status="completed",
                completed_at__gte=card.delivered_at).exists():
            continue
        out.append(Ask(questionnaire.name, definition(questionnaire).title_in(language)))
    return out
