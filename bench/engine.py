"""`sojourn bench engine`: ingestion, rule evaluation and the worker, each against a baseline measured
in the same run. Runs inside a process whose database is a fresh SQLite file (see
sojourn/demo/management/commands/bench.py).

    ingestion, in-process batches   events/s end to end (check, store, profile, rules, agenda/outbox)
    ingestion, HTTP API             the same through POST /api/v1/events on a real socket: one sender to a
                                    server thread of this process, then gunicorn as `sojourn serve` runs it
                                    (a worker process per core) with two senders at once
    raw sqlite3 executemany         the same event rows, no checks: the ceiling; ratio = Sojourn / raw
    statements replayed             every statement the first 50 batches sent, same parameters, replayed by
                                    sqlite3 on a copy of the database as it was: the database's own share
                                    (keeping them costs those batches about 3 %, in the in-process figure)
    rules                           the 50 rules over the same facts, compiled by Sojourn vs the `cel` package
    agenda                          due agenda steps claimed, fired, delivered to the recording channel and
                                    completed by `sojourn worker --once`; then a second run (must do nothing)
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.db import connection, transaction
from django.utils import timezone
from rich.table import Table

FULL = {"patients": 100_000, "events": 200_000, "http_events": 50_000, "agenda": 1_000_000, "rule_facts": 20_000}
EVENT_MIX = [("content.viewed", 40), ("email.opened", 15), ("portal.page_viewed", 15), ("medication.taken", 12),
             ("content.rated", 6), ("email.clicked", 5), ("sms.received", 3), ("medication.missed", 4)]
# Steps per claim. 5,000 made no difference over 100,000 patients (a batch meets as many distinct
# patients either way) and holds SQLite's write lock longer, so the benchmark claims 1,000.
WORKER_BATCH = 1000
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
    from sojourn.demo.builder import build_demo
    from sojourn.dialogue.tests.factories import live_rules

    size = sizes(scale)
    program = build_demo(lambda step: say(f"demo: {step}"), dialogue=False)
    live_rules(program, fifty_rules(), name="bench")
    say(f"cloning {size['patients']:,} patients")
    _clone_patients(program, size["patients"])
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
    rng = random.Random(7)  # noqa: S311  (benchmark data)
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
    rng = random.Random(seed)  # noqa: S311  (benchmark data)
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


class _Statements:
    """Every statement the first `batches` batches sent to the database, with its parameters, in order;
    None where a batch ended (its transaction committed). Through Django's execute_wrapper hook."""

    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.events = 0
        self.log: list[tuple[str, Any, bool] | None] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.batches > 0:
            params = list(params) if many else params
            self.log.append((sql, params, many))
        return execute(sql, params, many, context)

    def batch_done(self, events: int) -> None:
        if self.batches > 0:
            self.log.append(None)
            self.events += events
            self.batches -= 1


class _WriteLock:
    """How long the batches held SQLite's single write lock: from a transaction's first statement to
    its commit. What a second web worker can do beside a batch is only what falls outside this."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began: float | None = None

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not connection.in_atomic_block:
            self._began = None  # a transaction rolled back (its commit hook dropped) ended before this
        elif self._began is None:
            self._began = time.perf_counter()
            transaction.on_commit(self._committed)
        return execute(sql, params, many, context)

    def _committed(self) -> None:
        if self._began is not None:
            self.seconds += time.perf_counter() - self._began
            self._began = None


def bench_ingest(events: list[dict[str, Any]], statements: _Statements | None = None) -> dict[str, Any]:
    from sojourn.core.actors import Actor
    from sojourn.tracking.services.events import record_events

    actor = Actor.system("bench")
    accepted = rejected = 0
    first = 0.0  # the batches whose statements are kept, end to end
    lock = _WriteLock()
    started = time.perf_counter()
    with connection.execute_wrapper(lock), \
            connection.execute_wrapper(statements) if statements else contextlib.nullcontext():
        for start in range(0, len(events), 1000):
            result = record_events(actor, events[start:start + 1000], source="bench")
            accepted += len(result.accepted)
            rejected += len(result.rejected)
            if statements:
                statements.batch_done(min(1000, len(events) - start))
                if statements.batches == 0 and not first:
                    first = time.perf_counter() - started
    seconds = time.perf_counter() - started
    return {"events": len(events), "accepted": accepted, "rejected": rejected, "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds), "replayed_batches_s": round(first, 2),
            "write_lock_share": round(lock.seconds / seconds, 3)}


def snapshot() -> Path:
    """A copy of the database as it is now, for the replay, by SQLite's backup API. Not a file copy:
    closing any other descriptor of the database file drops this process's POSIX locks on it, and the
    next process to close its last connection (the worker, a gunicorn worker) would then take the
    database for unused, fold the WAL back and delete it under this process's open connection, whose
    later writes went to the deleted file (seen: the agenda's 20,000 steps lost, then a malformed file)."""
    path = Path(connection.settings_dict["NAME"])
    copy = path.with_name("before-ingestion.sqlite3")
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return copy


def bench_replay(copy: Path, statements: _Statements) -> dict[str, Any]:
    """The database's share of ingestion: the statements the first batches sent, with the same
    parameters, replayed by plain sqlite3 on a copy of the database as it was before them. Its rate is
    the most this design of rows and indexes allows on one core, whatever the Python around it costs."""
    from django.conf import settings

    raw = sqlite3.connect(copy, isolation_level=None)
    raw.executescript(settings.DATABASES["default"]["OPTIONS"]["init_command"])
    cursor = raw.cursor()
    prepared = [None if entry is None else (entry[0].replace("%s", "?").replace("%%", "%"), *entry[1:])
                for entry in statements.log]
    read = written = committed = 0.0
    started = time.perf_counter()
    for entry in prepared:
        at = time.perf_counter()
        if entry is None:
            if raw.in_transaction:
                raw.commit()
            committed += time.perf_counter() - at
            continue
        sql, params, many = entry
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params or ())
            cursor.fetchall()
        if sql.startswith("SELECT"):
            read += time.perf_counter() - at
        else:
            written += time.perf_counter() - at
    seconds = time.perf_counter() - started
    raw.close()
    copy.unlink()
    events = statements.events
    return {"events": events, "statements": sum(1 for entry in prepared if entry is not None),
            "seconds": round(seconds, 2), "events_per_s": round(events / seconds), "reads_s": round(read, 2),
            "writes_s": round(written, 2),
            "commits_s": round(committed, 2)}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def bench_http(events: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /api/v1/events with a bearer token, over a real socket to an in-process WSGI server."""
    import http.client

    from django.contrib.auth import get_user_model

    from sojourn.core.actors import Actor
    from sojourn.people.services.tokens import issue_api_token

    user = get_user_model().objects.get(username="manager@demo.sojourn.example")
    _token, secret = issue_api_token(actor=Actor.system("bench"), user=user, name="bench")
    from sojourn.wsgi import application  # as gunicorn serves it: the views imported before the first request

    server = make_server("127.0.0.1", 0, application, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    accepted = 0
    started = time.perf_counter()
    try:
        for start in range(0, len(events), 1000):
            body = json.dumps({"events": events[start:start + 1000]})
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=120)
            conn.request("POST", "/api/v1/events", body=body, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {secret}",
                "Host": "localhost"})
            response = conn.getresponse()
            payload = json.loads(response.read())
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"the API answered {response.status}: {payload}")
            accepted += payload["accepted"]
    finally:
        server.shutdown()
    seconds = time.perf_counter() - started
    return {"events": len(events), "accepted": accepted, "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds)}


def bench_http_served(events: list[dict[str, Any]], database_url: str, *, workers: int = 2,
                      clients: int = 2) -> dict[str, Any]:
    """POST /api/v1/events to gunicorn serving Sojourn as `sojourn serve` does (a worker process per
    core), from `clients` senders at once: one batch's checks and JSON run beside another's
    transaction, which holds SQLite's single write lock."""
    import http.client

    from django.contrib.auth import get_user_model

    from sojourn.core.actors import Actor
    from sojourn.people.services.tokens import issue_api_token

    user = get_user_model().objects.get(username="manager@demo.sojourn.example")
    _token, secret = issue_api_token(actor=Actor.system("bench-served"), user=user, name="bench served")
    with socket.socket() as probe:  # a free port for gunicorn
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(  # noqa: S603  (our own arguments)
        [gunicorn, "sojourn.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", "4", "--timeout", "120"],
        env=dict(os.environ, SOJOURN_DATABASE_URL=database_url), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, server)
        batches = [json.dumps({"events": events[start:start + 1000]}) for start in range(0, len(events), 1000)]
        accepted: list[int] = []
        failures: list[str] = []

        def send(mine: list[str]) -> None:
            for body in mine:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("POST", "/api/v1/events", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {secret}",
                    "Host": "localhost"})
                response = conn.getresponse()
                payload = json.loads(response.read())
                conn.close()
                if response.status != 200:
                    failures.append(f"the API answered {response.status}: {payload}")
                    return
                accepted.append(payload["accepted"])

        senders = [threading.Thread(target=send, args=(batches[n::clients],)) for n in range(clients)]
        started = time.perf_counter()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    if failures:
        raise RuntimeError(failures[0])
    from sojourn.tracking.models import Event

    # What the server said it accepted is what the store holds: two writers lost nothing.
    stored = Event.objects.filter(client_id__startswith=events[0]["client_id"].split("-")[0] + "-").count()
    if stored != sum(accepted):
        raise RuntimeError(f"the API accepted {sum(accepted):,} events and stored {stored:,}")
    return {"events": len(events), "accepted": sum(accepted), "stored": stored, "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds), "workers": workers, "clients": clients}


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (exit {server.returncode})")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within a minute")


def bench_raw_sqlite(events: list[dict[str, Any]], patient_ids: dict[str, int], program_id: int) -> dict[str, Any]:
    """The ceiling: the same event rows into a table shaped like the event store, by plain sqlite3."""
    path = connection.settings_dict["NAME"]
    raw = sqlite3.connect(path, isolation_level=None)
    raw.executescript("""
        PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;
        DROP TABLE IF EXISTS bench_raw_event;
        CREATE TABLE bench_raw_event (id INTEGER PRIMARY KEY AUTOINCREMENT, program_id INTEGER NOT NULL,
            patient_id INTEGER NOT NULL, type TEXT NOT NULL, client_id TEXT NOT NULL, occurred_at TEXT NOT NULL,
            received_at TEXT NOT NULL, source TEXT NOT NULL, data TEXT NOT NULL);
        CREATE UNIQUE INDEX bench_raw_client ON bench_raw_event (program_id, client_id);
        CREATE INDEX bench_raw_patient ON bench_raw_event (patient_id, occurred_at);
        CREATE INDEX bench_raw_type ON bench_raw_event (program_id, type, occurred_at);
        CREATE INDEX bench_raw_time ON bench_raw_event (occurred_at);
    """)
    now = timezone.now().isoformat()
    started = time.perf_counter()
    for start in range(0, len(events), 1000):
        rows = [(program_id, patient_ids[e["patient"]], e["type"], e["client_id"], e["occurred_at"], now, "raw",
                 json.dumps(e["data"])) for e in events[start:start + 1000]]
        raw.execute("BEGIN")
        raw.executemany("INSERT INTO bench_raw_event (program_id, patient_id, type, client_id, occurred_at, "
                        "received_at, source, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        raw.execute("COMMIT")
    seconds = time.perf_counter() - started
    raw.execute("DROP TABLE bench_raw_event")
    raw.close()
    return {"events": len(events), "seconds": round(seconds, 3), "events_per_s": round(len(events) / seconds)}


def bench_rules(program: Any, count: int) -> dict[str, Any]:
    """The 50 rules' conditions over the same facts: Sojourn's compiled Python vs the `cel` package."""
    import cel

    from sojourn.dialogue.engine import Batch, live_rule_sets
    from sojourn.people.models import Patient
    from sojourn.tracking.queries import patient_states

    rule_set = next(rs for rs in live_rule_sets({program.pk})[program.pk])
    patients = {p.pk: p for p in Patient.objects.filter(program=program, status="active")
                .select_related("market")[:500]}
    batch = Batch.load(patient_states(patients, timezone.now()), timezone.now())
    rng = random.Random(11)  # noqa: S311
    samples = []
    for event in make_events(count, [p.pseudonym for p in patients.values()], "rules", seed=3):
        state = batch.states[next(pk for pk, p in patients.items() if p.pseudonym == event["patient"])]
        rules = [r for r in rule_set.rules.values() if event["type"] in r.events] or \
            [rng.choice(list(rule_set.rules.values()))]
        facts = batch.facts(state, {"type": event["type"], "occurred_at": timezone.now(), "data": event["data"]})
        for rule in rules:
            if rule.trigger in {"events", "after"}:
                samples.append((rule, facts))
    programs = {rule.key: cel.compile(rule.condition.source) for rule in rule_set.rules.values()}
    ours_results, started = [], time.perf_counter()
    for rule, facts in samples:
        ours_results.append(rule.condition.matches(facts))
    ours = time.perf_counter() - started
    theirs_results, started = [], time.perf_counter()
    for rule, facts in samples:
        try:
            theirs_results.append(programs[rule.key].execute(facts) is True)
        except Exception:  # an error value: the rule does not fire
            theirs_results.append(False)
    theirs = time.perf_counter() - started
    # The cel package has no time-zone argument for getHours()/getDayOfWeek() (CEL has): it raises, so
    # those rules never fire there. Every other answer must be the same.
    zoned = [".get" in rule.condition.source and "(patient.time_zone)" in rule.condition.source
             for rule, _facts in samples]
    comparable = [(a, b) for a, b, z in zip(ours_results, theirs_results, zoned, strict=True) if not z]
    agree = sum(1 for a, b in comparable if a == b)
    return {"evaluations": len(samples), "sojourn_per_s": round(len(samples) / ours),
            "cel_per_s": round(len(samples) / theirs), "speedup": round(theirs / ours, 1),
            "same_answers": f"{agree}/{len(comparable)}", "zone_functions_not_compared": sum(zoned),
            "fired": sum(ours_results)}


def bench_agenda(program: Any, count: int, database_url: str) -> dict[str, Any]:
    """Due follow-up steps, each firing `ping` (a web card) through `sojourn worker --once`."""
    from sojourn.dialogue.models import RuleSet
    from sojourn.people.models import Patient

    rule_set = RuleSet.objects.get(program=program, name="bench")
    ids = list(Patient.objects.filter(program=program, status="active").values_list("pk", flat=True))
    now = timezone.now() - timedelta(seconds=5)
    at = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, count, 10_000):
            cursor.executemany(
                "INSERT INTO dialogue_agendaitem (due_at, lane, status, attempts, lease_owner, last_error, "
                "idempotency_key, created_at, program_id, patient_id, rule_set_id, rule_key, kind, payload) "
                "VALUES (%s, 1, 'pending', 0, '', '', %s, %s, %s, %s, %s, 'ping', 'follow_up', '{}')",
                [(at, f"bench:{n}", at, program.pk, ids[n % len(ids)], rule_set.pk)
                 for n in range(start, min(start + 10_000, count))])
    # The web card `ping` sends goes to the recording channel, as the target says (not the page's cards),
    # and so do the email and text messages the ingestion queued (no SMTP server or SMS provider here).
    env = dict(os.environ, SOJOURN_DATABASE_URL=database_url,
               SOJOURN_CHANNEL_ADAPTERS=",".join(f"{channel}=sojourn.channels.adapters.RecordingAdapter"
                                                 for channel in ("web", "email", "sms")))
    sojourn = str(Path(sys.executable).with_name("sojourn"))
    started = time.perf_counter()
    command = [sojourn, "worker", "--once", "--batch", str(WORKER_BATCH)]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603  (our own)
    seconds = time.perf_counter() - started
    summary = first.stdout.strip().splitlines()[-1]
    rss_mb = int(summary.rsplit("peak memory", 1)[1].split()[0])
    again = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603  (our own)
    from sojourn.channels.models import OutboxMessage, RecordedDelivery

    return {"items": count, "seconds": round(seconds, 1), "items_per_s": round(count / seconds),
            "worker_max_rss_mb": rss_mb, "delivered": RecordedDelivery.objects.filter(
                payload__content="card").count(),
            # Every message the bench's patients were sent must be deliverable: a dead one is a defect here.
            "messages_dead": OutboxMessage.objects.filter(status="dead").count(),
            "first_run": first.stdout.strip().splitlines()[-1], "second_run": again.stdout.strip().splitlines()[-1]}


# ---- the whole run and its table ---------------------------------------------------------------------

def run(scale: float, say: Callable[[str], None]) -> dict[str, Any]:
    from sojourn.people.models import Patient

    built = build(scale, say)
    program, size = built["program"], built["size"]
    ids = dict(Patient.objects.filter(program=program, status="active").values_list("pseudonym", "pk"))
    pseudonyms = sorted(ids)
    figures: dict[str, Any] = {"scale": scale, "patients": len(ids), "rules": 50}
    say(f"raw sqlite3: {size['events']:,} events")
    batch_events = make_events(size["events"], pseudonyms, "batch", seed=1)
    figures["raw_sqlite"] = bench_raw_sqlite(batch_events, ids, program.pk)
    copy = snapshot()
    replayed = min(50, -(-size["events"] // 1000))
    statements = _Statements(batches=replayed)
    say(f"ingestion, in-process: {size['events']:,} events")
    figures["ingest_batch"] = bench_ingest(batch_events, statements)
    say(f"the first {statements.events:,} events' statements replayed by sqlite3")
    figures["sql_replay"] = bench_replay(copy, statements)
    del statements
    say(f"ingestion, HTTP API: {size['http_events']:,} events")
    figures["ingest_http"] = bench_http(make_events(size["http_events"], pseudonyms, "http", seed=2))
    say(f"ingestion, HTTP API as `sojourn serve` runs it: {size['http_events']:,} events from two senders")
    figures["ingest_served"] = bench_http_served(make_events(size["http_events"], pseudonyms, "served", seed=4),
                                                 f"sqlite:///{connection.settings_dict['NAME']}")
    say(f"rules: {size['rule_facts']:,} events' facts")
    figures["rules"] = bench_rules(program, size["rule_facts"])
    say(f"agenda: {size['agenda']:,} due steps through `sojourn worker --once`")
    figures["agenda"] = bench_agenda(program, size["agenda"], f"sqlite:///{connection.settings_dict['NAME']}")
    with connection.cursor() as cursor:  # four processes wrote this file: it must still be whole
        cursor.execute("PRAGMA quick_check")
        figures["quick_check"] = cursor.fetchone()[0]
    if figures["quick_check"] != "ok":
        raise RuntimeError(f"the database is damaged after the run: {figures['quick_check']}")
    figures["ratios"] = {
        "ingest_batch_vs_raw_sqlite": round(figures["ingest_batch"]["events_per_s"]
                                            / figures["raw_sqlite"]["events_per_s"], 3),
        "served_vs_one_sender": round(figures["ingest_served"]["events_per_s"]
                                      / figures["ingest_http"]["events_per_s"], 3),
        "rules_sojourn_vs_cel": figures["rules"]["speedup"],
        # What share of the same batches' time the database's own work is (the rest is Python).
        "sql_replay_share": round(figures["sql_replay"]["seconds"] / figures["ingest_batch"]["replayed_batches_s"], 3),
    }
    return figures


def table(f: dict[str, Any]) -> Table:
    out = Table(title=f"sojourn bench engine (scale {f['scale']}, {f['patients']:,} patients, 50 rules, SQLite)")
    for column in ("measure", "figure", "baseline", "ratio", "target"):
        out.add_column(column)
    out.add_row("ingestion, in-process batches", f"{f['ingest_batch']['events_per_s']:,} events/s",
                f"raw sqlite3 {f['raw_sqlite']['events_per_s']:,}/s",
                f"{f['ratios']['ingest_batch_vs_raw_sqlite']}", "≥ 10,000/s; ratio ≥ 0.15")
    r = f["sql_replay"]
    out.add_row("their statements replayed by sqlite3", f"{r['events_per_s']:,} events/s",
                f"reads {r['reads_s']} s, writes {r['writes_s']} s, commits {r['commits_s']} s",
                f"{f['ratios']['sql_replay_share']} of the time", "the ceiling of this design on one core")
    out.add_row("ingestion, HTTP API, one sender", f"{f['ingest_http']['events_per_s']:,} events/s", "", "", "")
    served = f["ingest_served"]
    out.add_row("ingestion, HTTP API as served", f"{served['events_per_s']:,} events/s",
                f"one sender {f['ingest_http']['events_per_s']:,}/s; in-process batches hold the write lock "
                f"{f['ingest_batch']['write_lock_share']:.0%} of their time", f"{f['ratios']['served_vs_one_sender']}",
                f"≥ 3,000/s ({served['workers']} gunicorn workers, {served['clients']} senders)")
    out.add_row("rule conditions", f"{f['rules']['sojourn_per_s']:,}/s", f"cel {f['rules']['cel_per_s']:,}/s",
                f"{f['rules']['speedup']}×", f"≥ 10× (same answers {f['rules']['same_answers']})")
    a = f["agenda"]
    out.add_row("agenda steps to recording channel", f"{a['items']:,} in {a['seconds']} s ({a['items_per_s']:,}/s)",
                f"{a['messages_dead']:,} messages dead", "", "1,000,000 in ≤ 300 s")
    out.add_row("worker resident memory", f"{a['worker_max_rss_mb']} MB", "", "", "< 500 MB")
    out.add_row("second worker run", a["second_run"], "", "", "does nothing")
    return out
