"""Reads of a patient's profile shared by the console page and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from sojourn.core.db import as_datetime, as_json, rows_for_ids
from sojourn.core.queries import market_facts
from sojourn.people.models import Patient
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.scoring import band_label
from sojourn.questionnaires.services.definitions import definition
from sojourn.tracking.hooks import PatientState
from sojourn.tracking.models import Need, PatientNeed, PatientProfile, Stage
from sojourn.tracking.scoring import answers_only, behaviour_explained, engagement_level, explain


@dataclass(frozen=True)
class Evidence:
    """One line of what explains a need's score, in the reader's language: what happened, and by how
    much it moved the score (signed, such as "+0.12" or "−0.06")."""

    words: str
    effect: str


def _signed(value: float) -> str:
    shown = number_format(abs(value), 2)
    return f"+{shown}" if value > 0 else f"\N{MINUS SIGN}{shown}" if value < 0 else shown


def _behaviour_words(part: dict[str, Any]) -> str:
    count = int(part.get("count") or 0)
    days = int(part.get("window_days") or 14)
    kind = part.get("kind")
    if kind == "content_rated":
        helpful = part.get("helpful", part.get("value", 0) >= 0)
        words = (ngettext("%(n)s item rated helpful", "%(n)s items rated helpful", count) if helpful
                 else ngettext("%(n)s item rated not helpful", "%(n)s items rated not helpful", count))
    elif kind == "content_viewed":
        words = ngettext("%(n)s item read", "%(n)s items read", count)
    elif kind == "content_clicked":
        words = ngettext("%(n)s email link opened", "%(n)s email links opened", count)
    elif kind == "call_note":
        words = ngettext("raised in %(n)s call", "raised in %(n)s calls", count)
    else:
        return _("Earlier activity")
    return ngettext("Last %(days)s day: %(what)s", "Last %(days)s days: %(what)s", days) % {
        "days": days, "what": words % {"n": count}}


@dataclass(frozen=True)
class NeedView:
    code: str
    label: str
    combined: float
    explicit: float | None
    implicit: float
    confidence: float
    sentence: str
    explanation: list[dict[str, Any]]

    def evidence(self) -> list[Evidence]:
        """The explanation as the profile page says it: answers by questionnaire, behaviour in words
        (a rating says whether it was helpful), never the stored keys."""
        return [Evidence(_behaviour_words(part) if part.get("source") == "behaviour"
                         else f"{part.get('source', '')}: {part.get('detail', '')}",
                         _signed(float(part.get("value") or 0)) if part.get("source") == "behaviour"
                         else number_format(float(part.get("value") or 0), 2))
                for part in self.explanation]


def needs_of(patient: Patient, language: str = "en", now: datetime | None = None) -> list[NeedView]:
    """Each need's score with what explains it: the answers behind it (stored with the score) and the
    behaviour of the last fourteen days (told from the signals now)."""
    rows = list(PatientNeed.objects.filter(patient=patient).select_related("need")
                .order_by("-combined", "need__position"))
    behaviour = behaviour_explained(patient.pk, {r.need_id: r.need.code for r in rows}, now)
    views = []
    for r in rows:
        parts = answers_only(r.explanation) + behaviour.get(r.need_id, [])
        views.append(NeedView(code=r.need.code, label=r.need.label(language), combined=r.combined,
                              explicit=r.explicit, implicit=r.implicit, confidence=r.confidence,
                              sentence=explain(r.need.code, r.combined, parts), explanation=parts))
    return views


def engagement_words(level: str) -> str:
    """An engagement level as the profile page says it (the stored choices are codes)."""
    return {"new": pgettext("engagement", "new"), "high": pgettext("engagement", "high"),
            "medium": pgettext("engagement", "medium"), "low": pgettext("engagement", "low"),
            "lapsed": pgettext("engagement", "lapsed")}.get(level, level)


def profile_of(patient: Patient, now: datetime | None = None) -> PatientProfile | None:
    """The profile with engagement as of now: the stored level is the one of the last interaction, and
    a patient who has gone quiet since has drifted without any event saying so."""

    profile = PatientProfile.objects.filter(patient=patient).select_related("stage").first()
    if profile is not None and profile.last_meaningful_at is not None:
        profile.engagement = engagement_level(now or timezone.now(), profile.last_meaningful_at,
                                              profile.interactions_30d)
    return profile


def score_history(patient: Patient, language: str = "en") -> list[dict[str, Any]]:
    """Per instrument and scale, the completed scores over time (oldest first), for trend charts."""
    series: dict[tuple[str, str], dict[str, Any]] = {}
    for response in (QuestionnaireResponse.objects.filter(patient=patient, status="completed")
                     .select_related("questionnaire").order_by("completed_at")):
        scales = {s["id"]: s for s in response.questionnaire.scoring.get("scales", [])}
        for score in response.scores:
            if score["value"] is None or scales.get(score["scale"], {}).get("need"):
                continue  # need subscales are shown as needs, not as trends
            key = (response.questionnaire.url, score["scale"])
            label = scales.get(score["scale"], {}).get("label", {})
            entry = series.setdefault(key, {
                "title": definition(response.questionnaire).title_in(language), "scale": score["scale"],
                "label": label.get(language) or label.get("en") or score["scale"], "points": []})
            band = score["band"] and band_label(response.questionnaire.scoring, score["scale"], score["band"], language)
            entry["points"].append((response.completed_at, score["value"], band))
    return list(series.values())


def trend_path(points: list[tuple[datetime, float, str]], width: int = 240, height: int = 60) -> str:
    """An SVG polyline for the points, drawn on the server: charts render with no network."""
    if not points:
        return ""
    values = [p[1] for p in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    if len(points) == 1:
        return f"{width / 2:.1f},{height / 2:.1f}"
    step = width / (len(points) - 1)
    return " ".join(f"{i * step:.1f},{height - 4 - (v - low) / span * (height - 8):.1f}" for i, v in enumerate(values))


@dataclass(frozen=True)
class Catalogue:
    """The stages and needs of some programs by id and by code, read once for a batch."""

    stage_codes: dict[int, str]
    need_codes: dict[int, str]
    need_ids: dict[tuple[int, str], int]
    blank_needs: dict[int, dict[str, float]]


def catalogue(program_ids: set[int]) -> Catalogue:
    stage_codes = dict(rows_for_ids(f"SELECT id, code FROM {Stage._meta.db_table} WHERE program_id {{ids}}",
                                    program_ids))
    need_codes: dict[int, str] = {}
    need_ids: dict[tuple[int, str], int] = {}
    blank: dict[int, dict[str, float]] = {pid: {} for pid in program_ids}
    for pk, code, program_id in rows_for_ids(
            f"SELECT id, code, program_id FROM {Need._meta.db_table} WHERE program_id {{ids}} "
            "ORDER BY program_id, position, code", program_ids):
        need_codes[pk], need_ids[(program_id, code)] = code, pk
        blank[program_id][code] = 0.0
    return Catalogue(stage_codes, need_codes, need_ids, blank)


def patient_states(patients: dict[int, Patient], now: datetime) -> dict[int, PatientState]:
    """What rules may know about each patient (profile, needs, stage); patients need their market loaded."""
    states = {pid: PatientState(patient_id=pid, pseudonym=p.pseudonym, program_id=p.program_id,
                                market_id=p.market.pk, country=p.market.country, locale=p.locale,
                                time_zone=p.time_zone, status=p.status, enrolled_at=p.verified_at or p.created_at)
              for pid, p in patients.items()}
    return with_profiles(states)


_STATE_COLUMNS = "id, pseudonym, program_id, market_id, locale, time_zone, status, COALESCE(verified_at, created_at)"


def _bare_states(column: str, keys: Iterable[int | str]) -> list[PatientState]:
    """Who the patients are, without their profile: plain SQL, no Patient objects (the event path
    and the worker read thousands at a time)."""
    countries = {pk: market.country for pk, market in market_facts().items()}
    return [PatientState(patient_id=pk, pseudonym=pseudonym, program_id=program_id, market_id=market_id,
                         country=countries[market_id], locale=locale, time_zone=zone, status=status,
                         enrolled_at=as_datetime(enrolled))  # type: ignore[arg-type]
            for pk, pseudonym, program_id, market_id, locale, zone, status, enrolled in rows_for_ids(
                f"SELECT {_STATE_COLUMNS} FROM {Patient._meta.db_table} WHERE {column} {{ids}}", keys)]


def patients_by_pseudonym(pseudonyms: Iterable[str]) -> dict[str, PatientState]:
    """Patients named by pseudonym, without their profile (see `with_profiles`)."""
    return {state.pseudonym: state for state in _bare_states("pseudonym", pseudonyms)}


def patient_states_for_ids(ids: list[int] | set[int]) -> dict[int, PatientState]:
    """The same as `patient_states` from ids, without building Patient objects."""
    return with_profiles({state.patient_id: state for state in _bare_states("id", ids)})


def with_profiles(states: dict[int, PatientState], known: Catalogue | None = None) -> dict[int, PatientState]:
    """Profile, stage and need scores: one row per patient (scores from PatientNeed only for profiles
    written before the scores were kept on the profile)."""
    known = known or catalogue({s.program_id for s in states.values()})
    unscored = set(states)
    for state in states.values():
        state.needs = dict(known.blank_needs.get(state.program_id, {}))
    for patient_id, engagement, stage_id, since, recent, last, needs, revision in rows_for_ids(
            "SELECT patient_id, engagement, stage_id, stage_since, interactions_30d, last_meaningful_at, needs, "
            f"revision FROM {PatientProfile._meta.db_table} WHERE patient_id {{ids}}", states):
        state = states[patient_id]
        state.profiled, state.revision = True, revision
        state.engagement, state.stage = engagement, known.stage_codes.get(stage_id, "") if stage_id else ""
        state.stage_since, state.interactions_30d = as_datetime(since), recent
        state.last_meaningful_at = as_datetime(last)
        needs = as_json(needs)
        if needs:
            state.needs.update(needs)
            unscored.discard(patient_id)
    if unscored:
        for patient_id, need_id, combined in PatientNeed.objects.filter(patient_id__in=unscored) \
                .values_list("patient_id", "need_id", "combined"):
            states[patient_id].needs[known.need_codes[need_id]] = combined
    return states
