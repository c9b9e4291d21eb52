"""The data of `sojourn bench engine`: the demo program with its 50 live rules, its patients cloned to
100,000 with their consents, preferences and profiles, and the events sent to it."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

FULL = {"patients": 100_000, "events": 200_000, "http_events": 50_000, "agenda": 1_000_000, "rule_facts": 20_000}
EVENT_MIX = [("content.viewed", 40), ("email.opened", 15), ("portal.page_viewed", 15), ("medication.taken", 12),
             ("content.rated", 6), ("email.clicked", 5), ("sms.received", 3), ("medication.missed", 4)]
NEEDS = ["itch", "sleep", "flare_management", "treatment_knowledge", "side_effects", "injection_confidence",
         "adherence", "psychosocial", "doctor_dialogue", "lifestyle", "practical_access"]


def sizes(scale: float) -> dict[str, int]:
    return {k: max(int(v * scale), 200) for k, v in FULL.items()}


# ---- the program and its 50 rules ----------------------------------------------------------------

def fifty_rules() -> list[dict[str, Any]]:
    """Fifty rules of the kinds a program runs: tailoring by need, engagement, stage, adherence, time."""
    rules: list[dict[str, Any]] = []

    def add(key: str, trigger: dict[str, Any], condition: str, actions: list[dict[str, Any]], **more: Any) -> None:
        rules.append({"key": key, "name": key, "trigger": trigger, "condition": condition, "actions": actions,
                      **more})

    for n, need in enumerate(NEEDS):
        add(f"{need.replace('_', '-')}-card", {"events": ["content.viewed"]},
            f"'{need}' in event.data.needs && profile.needs.{need} >= 0.5 && profile.engagement in ['high', 'medium']",
            [{"do": "send", "channel": "web", "content": f"{need.replace('_', '-')}-next"}], priority=n)
        add(f"{need.replace('_', '-')}-sms", {"events": ["content.rated"]},
            f"event.data.helpful && profile.needs.{need} > 0.7 && 'contact_sms' in consents.purposes",
            [{"do": "send", "channel": "sms", "content": f"{need.replace('_', '-')}-tip"}],
            caps={"sms": {"day": 1, "week": 3}})
    add("open-streak", {"events": ["email.opened"]}, "profile.interactions_30d >= 5 && patient.content_level < 2",
        [{"do": "unlock_level", "level": 2}])
    add("click-follow", {"events": ["email.clicked"]}, "has(event.data.link) && event.data.link.startsWith('https')",
        [{"do": "send", "channel": "email", "content": "more-on-this"}], caps={"email": {"day": 1, "week": 4}})
    add("portal-regular", {"events": ["portal.page_viewed"]},
        "profile.engagement == 'high' && !('regular' in patient.flags)", [{"do": "set_flag", "flag": "regular"}])
    add("portal-return", {"events": ["portal.page_viewed"]},
        "profile.engagement == 'lapsed' || profile.interactions_30d == 1",
        [{"do": "send", "channel": "email", "content": "welcome-back"}])
    add("dose-streak", {"events": ["medication.taken"]},
        "profile.stage == 'treatment_initiation' && patient.days_enrolled > 14 && now.getHours(patient.time_zone) < 12",
        [{"do": "send", "channel": "web", "content": "well-done"}])
    add("missed-dose", {"events": ["medication.missed"]}, "profile.needs.adherence > 0.3",
        [{"do": "send", "channel": "sms", "content": "missed-dose"}], caps={"sms": {"day": 1, "week": 3}})
    add("missed-nurse", {"events": ["medication.missed"]},
        "profile.needs.adherence > 0.8 && profile.engagement in ['low', 'lapsed']",
        [{"do": "nurse_task", "reason": "adherence support", "due_in": "24h"}])
    add("missed-check", {"after": "medication.missed", "delay": "72h"},
        "profile.engagement != 'high'", [{"do": "send", "channel": "email", "content": "how-is-it-going"}])
    add("sms-stop-help", {"events": ["sms.received"]}, "has(event.data.keyword) && event.data.keyword == 'HELP'",
        [{"do": "send", "channel": "sms", "content": "help-reply", "lane": "urgent"}])
    add("sms-reply", {"events": ["sms.received"]}, "profile.needs.doctor_dialogue >= 0.4",
        [{"do": "set_flag", "flag": "replies"}])
    add("view-later", {"after": "content.viewed", "delay": "168h"},
        "profile.needs.treatment_knowledge > 0.6 && patient.content_level >= 1",
        [{"do": "send", "channel": "email", "content": "weekly-digest"}])
    add("rated-unhelpful", {"events": ["content.rated"]}, "!event.data.helpful && size(event.data.needs) > 0",
        [{"do": "set_flag", "flag": "unhelpful-content"}])
    add("psychosocial-call", {"events": ["content.viewed"]},
        "'psychosocial' in event.data.needs && profile.needs.psychosocial > 0.9",
        [{"do": "nurse_task", "reason": "high psychosocial need"}])
    add("lifestyle-print", {"events": ["content.completed"]}, "profile.needs.lifestyle > 0.5",
        [{"do": "print", "content": "lifestyle-block"}])
    add("side-effects-stage", {"events": ["content.viewed"]},
        "profile.stage == 'diagnosis' && event.data.content.startsWith('start-')",
        [{"do": "set_stage", "stage": "treatment_initiation"}])
    add("practical-weekend", {"events": ["portal.page_viewed"]},
        "now.getDayOfWeek(patient.time_zone) in [0, 6] && profile.needs.practical_access > 0.5",
        [{"do": "send", "channel": "web", "content": "weekend-access"}])
    add("ping", {"follow_up": True}, "true", [{"do": "send", "channel": "web", "content": "card"}])
    while len(rules) < 50:  # time-boxed campaigns: active, but their window is the coming year
        n = len(rules)
        add(f"campaign-{n}", {"events": ["content.viewed"]},
            f"profile.needs.{NEEDS[n % len(NEEDS)]} > 0.95 && patient.country == 'DE'",
            [{"do": "send", "channel": "email", "content": f"campaign-{n}"}], caps={"email": {"day": 1, "week": 4}})
    return rules


def build(scale: float, say: Callable[[str], None]) -> dict[str, Any]:
    """The demo program, its 50 live rules, and the demo's patients cloned to the benchmark's size."""
    from sojourn.core.db import refresh_statistics
    from sojourn.demo.builder import build_demo
    from sojourn.dialogue.tests.factories import live_rules

    size = sizes(scale)
    program = build_demo(lambda step: say(f"demo: {step}"), dialogue=False)
    live_rules(program, fifty_rules(), name="bench")
    say(f"cloning {size['patients']:,} patients")
    _clone_patients(program, size["patients"])
    refresh_statistics()  # as after any bulk build: `sojourn migrate` ran on empty tables
    return {"program": program, "size": size}


def _clone_patients(program: Any, total: int) -> None:
    """Copy the demo's active patients (their consent, preferences, profile) until there are `total`."""
    from sojourn.consent.models import ConsentDecision, ConsentRecord, ContactPreferences
    from sojourn.core.models import DataKey
    from sojourn.people.models import Patient
    from sojourn.people.services.patients import seal_for_patient, unseal_for_patient
    from sojourn.tracking.models import Need, PatientNeed, PatientProfile

    models = list(Patient.objects.filter(program=program, status="active").select_related("data_key"))
    records = {r.patient_id: r for r in ConsentRecord.objects.filter(patient__in=models, status="active")}
    decisions = {pid: list(ConsentDecision.objects.filter(record=r)) for pid, r in records.items()}
    prefs = {p.patient_id: p for p in ContactPreferences.objects.filter(patient__in=models)}
    profiles = {p.patient_id: p for p in PatientProfile.objects.filter(patient__in=models)}
    needs: dict[int, list[PatientNeed]] = {}
    for row in PatientNeed.objects.filter(patient__in=models):
        needs.setdefault(row.patient_id, []).append(row)
    codes = dict(Need.objects.filter(program=program).values_list("pk", "code"))
    names = {m.pk: unseal_for_patient(m, "given_name", m.given_name_sealed) for m in models if m.given_name_sealed}
    rng = random.Random(7)
    now = timezone.now()
    made = Patient.objects.filter(program=program).count()
    while made < total:
        chunk = min(5000, total - made)
        with transaction.atomic():
            keys = DataKey.objects.bulk_create([
                DataKey(wrapped=m.data_key.wrapped, master_key_id=m.data_key.master_key_id)
                for m in (models[i % len(models)] for i in range(chunk))])
            clones = []
            for i, key in enumerate(keys):
                model = models[(made + i) % len(models)]
                clones.append(Patient(pseudonym=f"B{made + i:09d}", program=program, market_id=model.market_id,
                                      locale=model.locale, time_zone=model.time_zone, status="active",
                                      verified_at=now - timedelta(days=rng.randint(1, 200)), data_key=key,
                                      email_index=uuid.uuid4().hex))
            for clone, model in zip(clones, (models[(made + i) % len(models)] for i in range(chunk)), strict=True):
                # Sealed for the clone (the pseudonym is part of what a seal is bound to), as enrollment would.
                if names.get(model.pk):
                    clone.given_name_sealed = seal_for_patient(clone, "given_name", names[model.pk])
            clones = Patient.objects.bulk_create(clones)
            new_records, pairs = [], []
            for i, clone in enumerate(clones):
                model = models[(made + i) % len(models)]
                record = records[model.pk]
                new_records.append(ConsentRecord(
                    patient=clone, version_id=record.version_id, locale=record.locale, text_sha256=record.text_sha256,
                    method=record.method, status="active", signed_at=record.signed_at,
                    signer_time_zone=record.signer_time_zone, signed_name_sealed=record.signed_name_sealed,
                    recorded_by_id=record.recorded_by_id, script_version=record.script_version))
                pairs.append((clone, model))
            new_records = ConsentRecord.objects.bulk_create(new_records)
            ConsentDecision.objects.bulk_create([
                ConsentDecision(record=new, purpose=d.purpose, granted=d.granted)
                for new, (_clone, model) in zip(new_records, pairs, strict=True) for d in decisions[model.pk]])
            ContactPreferences.objects.bulk_create([
                ContactPreferences(patient=clone, channels=prefs[model.pk].channels)
                for clone, model in pairs if model.pk in prefs])
            scores = [PatientNeed(patient=clone, need_id=row.need_id, explicit=row.explicit, implicit=0.0,
                                  combined=round(min(1.0, max(0.0, row.combined + rng.uniform(-0.3, 0.3))), 4),
                                  confidence=row.confidence, explanation=row.explanation, updated_at=now)
                      for clone, model in pairs for row in needs.get(model.pk, [])]
            PatientNeed.objects.bulk_create(scores)
            by_patient: dict[int, dict[str, float]] = {}
            for score in scores:
                by_patient.setdefault(score.patient.pk, {})[codes[score.need_id]] = score.combined
            PatientProfile.objects.bulk_create([
                PatientProfile(patient=clone, stage_id=profiles[model.pk].stage_id,
                               stage_since=profiles[model.pk].stage_since, engagement=rng.choice(
                                   ["high", "medium", "medium", "low", "lapsed"]),
                               interactions_30d=rng.randint(0, 8), last_meaningful_at=now - timedelta(days=3),
                               needs=by_patient.get(clone.pk, {}), updated_at=now)
                for clone, model in pairs if model.pk in profiles])
        made += chunk


# ---- events ---------------------------------------------------------------------------------------

def make_events(count: int, pseudonyms: list[str], prefix: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    types = [t for t, w in EVENT_MIX for _ in range(w)]
    now = timezone.now()
    events = []
    for n in range(count):
        kind = rng.choice(types)
        needs = rng.sample(NEEDS, 2)
        data = _event_data(kind, n, needs, rng)
        occurred = now - timedelta(minutes=rng.randint(1, 60 * 24 * 5))
        events.append({"client_id": f"{prefix}-{n}", "type": kind, "patient": rng.choice(pseudonyms),
                       "occurred_at": occurred.isoformat(), "data": data})
    return events


def _event_data(kind: str, n: int, needs: list[str], rng: random.Random) -> dict[str, Any]:
    if kind == "content.viewed":
        return {"content": rng.choice(["itch-tips", "start-biologic", "sleep-hygiene"]), "needs": needs}
    if kind == "content.rated":
        return {"content": "itch-tips", "needs": needs, "helpful": rng.random() < 0.7}
    if kind == "email.opened":
        return {"message": f"m{n}"}
    if kind == "email.clicked":
        return {"message": f"m{n}", "link": "https://example.org/a", "needs": needs[:1]}
    if kind == "portal.page_viewed":
        return {"page": rng.choice(["home", "library", "profile"])}
    if kind == "medication.taken":
        return {"product": "biologic"}
    if kind == "medication.missed":
        return {"product": "biologic", "reason": "forgot"}
    return {"keyword": rng.choice(["HELP", "OK", "YES"])}
