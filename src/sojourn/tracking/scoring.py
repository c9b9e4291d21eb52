"""How a need score is worked out and told, and what engagement a patient's activity means: reads and
arithmetic shared by the profile's refresh (services/profiles.py), the event path (services/events.py),
the rules (dialogue/engine.py) and the pages, API and exports (queries.needs_of).

explicit  = the latest answer to a mapped questionnaire scale, over the scale's highest value (0–1);
implicit  = the sum of behaviour signals, each halved every 14 days, kept within ±0.5;
combined  = explicit (or nothing) + implicit, kept within 0–1;
confidence rises with a recent needs analysis (halved every 180 days) and with recent signals.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.utils import timezone

from sojourn.core.db import as_datetime, as_json, db_datetime, rows_for_ids, select_rows
from sojourn.questionnaires.definition import Definition
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.services.definitions import definition_of
from sojourn.tracking.models import Event, NeedSignal, PatientProfile

SIGNAL_HALF_LIFE_DAYS = 14.0
ANSWER_HALF_LIFE_DAYS = 180.0
IMPLICIT_BOUND = 0.5
DEFAULT_WEIGHTS = {"content_viewed": 0.03, "content_clicked": 0.04, "content_rated": 0.06, "call_note": 0.15}
SIGNAL_WORDS = {"content_viewed": "viewed", "content_clicked": "opened", "content_rated": "rated helpful",
                "content_unhelpful": "rated not helpful", "call_note": "raised in a call"}
# Which events say something about a need, as which kind of signal (content tagged with needs, calls).
SIGNAL_KINDS = {"content.viewed": "content_viewed", "content.completed": "content_viewed",
                "content.rated": "content_rated", "email.clicked": "content_clicked", "call.completed": "call_note"}


def event_signals(event_type: str, data: dict[str, Any]) -> list[tuple[str, str, float]]:
    """What an event says about needs: (need code, kind, weight) for each need its data names. The
    event is the record: its signals are told from it when a profile is recomputed or explained, and
    added as it arrives (services/ingestion.py); only signals recorded on their own are stored apart
    (NeedSignal)."""
    kind = SIGNAL_KINDS.get(event_type)
    needs = data.get("needs") if kind else None
    if not needs or (event_type == "call.completed" and data.get("outcome") != "reached"):
        return []
    weight = DEFAULT_WEIGHTS[kind]  # type: ignore[index]
    if event_type == "content.rated" and not data.get("helpful"):
        weight = -weight
    return [(code, kind, weight) for code in needs]  # type: ignore[misc]


def _decay(age: timedelta, half_life_days: float) -> float:
    return math.pow(0.5, max(age.total_seconds(), 0) / 86400 / half_life_days)


def _answer_texts(answered: list[dict[str, Any]], parsed: Definition, link_ids: list[str]) -> str:
    """"na-itch = All the time", for the items of a scale, in English (the staff-facing explanation)."""
    items = parsed.by_link_id()
    shown = []
    for raw in _flatten(answered):
        if raw.get("linkId") in link_ids and raw.get("answer"):
            item = items[raw["linkId"]]
            answer = raw["answer"][0]
            code = answer.get("valueCoding", {}).get("code") if "valueCoding" in answer else next(
                (v for k, v in answer.items() if k.startswith("value")), "")
            option = item.option(code) if item.options else None
            shown.append(f"{item.link_id} = {option.label('en') if option else code}")
    return "; ".join(shown)


def _flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for raw in items:
        out.append(raw)
        out.extend(_flatten(raw.get("item", [])))
        for answer in raw.get("answer", []):
            out.extend(_flatten(answer.get("item", [])))
    return out


class _Latest(NamedTuple):
    """A patient's latest completed response to one questionnaire, as much of it as scoring reads."""

    questionnaire_id: int
    sha256: str
    title: str
    scoring: dict[str, Any]
    completed_at: datetime
    scores: list[dict[str, Any]]
    items: list[dict[str, Any]]


class AnswerMapping(NamedTuple):
    questionnaire_url: str
    scale: str
    scale_max: float


class _Signal(NamedTuple):
    kind: str
    weight: float
    occurred_at: datetime


class Answers:
    """The patient's latest completed response to each questionnaire mapped onto a need, read once
    for all needs (a profile is refreshed after every completed questionnaire). Plain SQL, and only the
    latest response of each questionnaire has its answers decoded."""

    def __init__(self, patient_id: int, urls: set[str]) -> None:
        self.latest: dict[str, _Latest] = {}
        response, questionnaire = QuestionnaireResponse._meta.db_table, Questionnaire._meta.db_table
        for url, qid, sha256, title, scoring, completed_at, scores, items in rows_for_ids(
                f"SELECT q.url, q.id, q.sha256, q.title, q.scoring, r.completed_at, r.scores, r.items "
                f"FROM {response} r JOIN {questionnaire} q ON q.id = r.questionnaire_id "
                "WHERE r.patient_id = %s AND r.status = 'completed' AND q.url {ids} "
                "ORDER BY r.completed_at DESC, r.id DESC", urls, [patient_id]):
            if url not in self.latest:
                self.latest[url] = _Latest(qid, sha256, title, as_json(scoring), as_datetime(completed_at),
                                           as_json(scores), as_json(items))
        self.parsed: dict[int, Definition] = {}

    def definition(self, response: _Latest) -> Definition:
        if response.questionnaire_id not in self.parsed:
            self.parsed[response.questionnaire_id] = definition_of(response.questionnaire_id, response.sha256)
        return self.parsed[response.questionnaire_id]


def explicit_score(answers: Answers, mappings: list[AnswerMapping], now: datetime
              ) -> tuple[float | None, float, list[dict[str, Any]]]:
    """The latest answer to any scale mapped onto the need: (score, freshness, explanation)."""
    best: tuple[datetime, float, dict[str, Any]] | None = None
    for mapping in mappings:
        response = answers.latest.get(mapping.questionnaire_url)
        if response is None:
            continue
        scored = next((s for s in response.scores if s["scale"] == mapping.scale and s["value"] is not None), None)
        if scored is None:
            continue
        value = min(max(scored["value"] / mapping.scale_max, 0.0), 1.0)
        scale = next(s for s in response.scoring["scales"] if s["id"] == mapping.scale)
        detail = _answer_texts(response.items, answers.definition(response), scale["items"])
        explained = {"source": response.title, "detail": detail, "value": round(value, 2),
                     "at": response.completed_at.isoformat()}
        if best is None or response.completed_at > best[0]:
            best = (response.completed_at, value, explained)
    if best is None:
        return None, 0.0, []
    return best[1], _decay(now - best[0], ANSWER_HALF_LIFE_DAYS), [best[2]]


def implicit_score(code: str, signals: list[_Signal], now: datetime) -> tuple[float, float, list[dict[str, Any]]]:
    total, evidence = 0.0, 0.0
    # Ratings apart by answer: "helpful" and "not helpful" pull the score opposite ways, and one count
    # of both would say "rated helpful" beside a value below zero.
    by_kind: dict[tuple[str, bool | None], list[float]] = {}
    for signal in signals:
        decay = _decay(now - signal.occurred_at, SIGNAL_HALF_LIFE_DAYS)
        total += signal.weight * decay
        evidence += decay
        if now - signal.occurred_at <= timedelta(days=SIGNAL_HALF_LIFE_DAYS):
            helpful = signal.weight >= 0 if signal.kind == "content_rated" else None
            by_kind.setdefault((signal.kind, helpful), []).append(signal.weight * decay)
    bounded = min(max(total, -IMPLICIT_BOUND), IMPLICIT_BOUND)
    explained = []
    for (kind, helpful), values in sorted(by_kind.items(), key=lambda entry: (entry[0][0], not entry[0][1])):
        words = SIGNAL_WORDS["content_unhelpful" if helpful is False else kind]
        part = {"source": "behaviour", "detail": f"{len(values)} × {code} content {words}"
                if kind != "call_note" else f"{len(values)} × {code} {words}",
                "value": round(sum(values), 2), "window_days": int(SIGNAL_HALF_LIFE_DAYS), "kind": kind,
                "count": len(values)}
        if helpful is not None:
            part["helpful"] = helpful
        explained.append(part)
    if total and not by_kind:
        explained.append({"source": "behaviour", "detail": "older signals", "value": round(total, 2)})
    return bounded, evidence, explained


def explain(need_label: str, combined: float, explanation: list[dict[str, Any]]) -> str:
    """'itch 0.72: Your needs (na-itch = Often) 0.60; 3 × itch content viewed in 14 days +0.12'"""
    parts = []
    for part in explanation:
        if part["source"] == "behaviour":
            parts.append(f"{part['detail']} in the last {part.get('window_days', 14)} days ({part['value']:+.2f})")
        else:
            parts.append(f"{part['source']}: {part['detail']} ({part['value']:.2f})")
    return f"{need_label} {combined:.2f}: " + ("; ".join(parts) or "no evidence yet")


def signals_of(patient_id: int, codes: dict[int, str], now: datetime) -> dict[int, list[_Signal]]:
    """The signals that still weigh on each need (eight half-lives, beyond which they are below 0.4 %):
    those the patient's events tell (`event_signals`) and those recorded on their own, oldest first."""
    window = [db_datetime(now), db_datetime(now - timedelta(days=SIGNAL_HALF_LIFE_DAYS * 8))]
    found: list[tuple[datetime, int, _Signal]] = []
    for need_id, kind, weight, occurred_at in select_rows(
            f"SELECT need_id, kind, weight, occurred_at FROM {NeedSignal._meta.db_table} "
            "WHERE patient_id = %s AND occurred_at <= %s AND occurred_at >= %s", [patient_id, *window]):
        if need_id in codes:
            at = as_datetime(occurred_at)
            found.append((at, need_id, _Signal(kind, weight, at)))  # type: ignore[arg-type]
    ids = {code: need_id for need_id, code in codes.items()}
    for event_type, occurred_at, data in rows_for_ids(
            f"SELECT type, occurred_at, data FROM {Event._meta.db_table} "
            "WHERE patient_id = %s AND occurred_at <= %s AND occurred_at >= %s AND type {ids}",
            sorted(SIGNAL_KINDS), [patient_id, *window]):
        at = as_datetime(occurred_at)
        for code, kind, weight in event_signals(event_type, as_json(data)):
            if code in ids:
                found.append((at, ids[code], _Signal(kind, weight, at)))  # type: ignore[arg-type]
    signals: dict[int, list[_Signal]] = {}
    for _at, need_id, signal in sorted(found, key=lambda f: f[0]):
        signals.setdefault(need_id, []).append(signal)
    return signals


def behaviour_explained(patient_id: int, codes: dict[int, str], now: datetime | None = None
                        ) -> dict[int, list[dict[str, Any]]]:
    """For each need (by id), what the patient's behaviour of the last fourteen days says about it."""
    now = now or timezone.now()
    return {need_id: implicit_score(codes[need_id], signals, now)[2]
            for need_id, signals in signals_of(patient_id, codes, now).items()}


def answers_only(explanation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored part of an explanation (rows refreshed before 2026-12 also kept a behaviour part)."""
    return [part for part in explanation if part.get("source") != "behaviour"]


_WEEK, _FORTNIGHT, _MONTH = timedelta(days=7), timedelta(days=14), timedelta(days=30)


def engagement_level(now: datetime, last: datetime | None, recent: int) -> str:
    """Engagement from recency and frequency of meaningful interactions."""
    if last is None:
        return PatientProfile.Engagement.NEW
    since = now - last
    if since <= _WEEK and recent >= 3:
        return PatientProfile.Engagement.HIGH
    if since <= _FORTNIGHT:
        return PatientProfile.Engagement.MEDIUM
    if since <= _MONTH:
        return PatientProfile.Engagement.LOW
    return PatientProfile.Engagement.LAPSED
