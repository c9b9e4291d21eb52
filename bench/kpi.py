"""`sojourn bench kpi`: the KPI dashboard of one market over a million patients, against hand-written
SQL measured in the same run; and the cohort simulator's throughput. Runs inside a process whose
database is a fresh SQLite file, or with --postgres a fresh PostgreSQL database (see the `bench`
command). The suite runs it at a tiny scale on both (demo/tests/test_bench.py).

    simulator          the demo program lived by a simulated cohort (`simulate`): patient-days/s
    data               patients, events, answers, messages and calls written straight into the tables
                       (not a measurement: the history the dashboard reads), the columns taken from the
                       models so that a migration cannot leave the inserts behind
    journey facts      `refresh_journey_facts(everything=True)`: every patient's facts from their data
    dashboard page     GET /console/insights/?market=DE as the insights analyst (refresh of what is new,
                       every KPI of every stage, the page rendered)
    KPIs               `MarketKpis(program, "DE").by_stage()` alone
    hand-written SQL   the same figures by plain SQL over the same tables; must give the same answers
    from raw events    two of the figures (weekly active, active at 30 days) by plain SQL over the events
                       themselves, as without journey facts; must give the same answers too
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.db.models import Model
from django.utils import timezone
from rich.table import Table

from sojourn.core.db import refresh_statistics

FULL = {"patients": 1_000_000, "events": 20_000_000, "sim_patients": 300, "sim_days": 60}
MARKETS = {"DE": ("de-DE", "Europe/Berlin", 0.3), "US": ("en-US", "America/New_York", 0.3),
           "GB": ("en-GB", "Europe/London", 0.15), "JP": ("ja-JP", "Asia/Tokyo", 0.15),
           "CA": ("en-CA", "America/Toronto", 0.1)}
MEANINGFUL_MIX = [("content.viewed", 35), ("portal.page_viewed", 25), ("email.opened", 15), ("medication.taken", 15),
                  ("content.rated", 5), ("email.clicked", 5)]
REPEATS = 5
DAY = 86400


def sizes(scale: float) -> dict[str, int]:
    """The floors keep a tiny scale (the test suite's) a history with every kind of row in it."""
    return {"patients": max(int(FULL["patients"] * scale), 300), "events": max(int(FULL["events"] * scale), 6000),
            "sim_patients": max(int(FULL["sim_patients"] * scale), 10),
            "sim_days": FULL["sim_days"] if scale >= 0.5 else 30 if scale >= 0.01 else 10}


def run(scale: float, say: Callable[[str], None]) -> dict[str, Any]:
    from sojourn.demo.builder import build_demo

    size = sizes(scale)
    program = build_demo(lambda step: say(f"demo: {step}"))
    figures: dict[str, Any] = {"scale": scale, "database": connection.vendor}
    say(f"simulator: {size['sim_patients']} patients over {size['sim_days']} days")
    figures["simulator"] = bench_simulator(program, size["sim_patients"], size["sim_days"])
    say(f"data: {size['patients']:,} patients, about {size['events']:,} events")
    figures["data"] = write_history(program, size["patients"], size["events"], say)
    say("journey facts: every patient")
    figures["facts"] = bench_facts(program, say)
    say("dashboard, KPIs and hand-written SQL for DE")
    figures["dashboard"] = bench_dashboard(program, "DE")
    d = figures["dashboard"]
    figures["ratios"] = {"kpis_vs_sql": round(d["kpis_s"] / d["sql_s"], 2),
                         "page_vs_sql": round(d["page_s"] / d["sql_s"], 2)}
    return figures


# ---- the simulator ----------------------------------------------------------------------------------

def bench_simulator(program: Any, patients: int, days: int) -> dict[str, Any]:
    from sojourn.demo.folder import PSORIASIS
    from sojourn.simulation.runner import simulate

    started = time.perf_counter()
    run = simulate(program=program, patients=patients, days=days, seed=1, population=PSORIASIS.population)
    seconds = time.perf_counter() - started
    return {"patients": patients, "days": days, "seconds": round(seconds, 1),
            "patient_days_per_s": round(patients * days / seconds, 1), "totals": dict(run.totals)}


# ---- a million patients' history, written straight into the tables ---------------------------------

class _Ids:
    def __init__(self, cursor: Any, table: str) -> None:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        self.next = cursor.fetchone()[0] + 1

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def write_history(program: Any, patients: int, events: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Patients enrolled over the last 180 days in five markets, with what a program's patients leave
    behind: enrollment, stage changes, refills, meaningful interactions, needs analyses and WHO-5
    answers, delivered messages and nurse calls. Deterministic (seeded)."""
    from sojourn.content.models import ContentItem
    from sojourn.core.models import DataKey, Market
    from sojourn.questionnaires.models import Questionnaire
    from sojourn.tracking.models import NeedMapping, Stage

    rng = random.Random(42)
    now = int(timezone.now().timestamp())
    markets = dict(Market.objects.filter(country__in=MARKETS).values_list("country", "pk"))
    stages = dict(Stage.objects.filter(program=program).values_list("code", "pk"))
    mappings = list(NeedMapping.objects.filter(need__program=program).values_list("scale", "scale_max", "need__code"))
    analysis = Questionnaire.objects.get(program=program, name="psoriasis-needs", status="approved")
    who5 = Questionnaire.objects.get(program=program, name="who-5", status="approved")
    by_need: dict[str, list[str]] = {}
    for code, needs in ContentItem.objects.filter(program=program).values_list("code", "needs"):
        for need in needs:
            by_need.setdefault(need, []).append(code)
    codes = sorted({c for cs in by_need.values() for c in cs})
    key = DataKey.objects.order_by("created_at").first()
    interactions = [(kind, _interaction_data(kind, n, codes)) for kind, weight in MEANINGFUL_MIX
                    for n in range(weight * 4)]
    random_ = rng.random
    per_patient = events / patients / 0.9  # the one in ten who never confirm leave no events
    inserts = _inserts()
    cursor = connection.cursor()
    patient_ids, event_ids, response_ids, outbox_ids, task_ids, profile_ids, card_ids = (
        _Ids(cursor, t) for t in ("people_patient", "tracking_event", "questionnaires_questionnaireresponse",
                                  "channels_outboxmessage", "channels_nursetask", "tracking_patientprofile",
                                  "people_invitation"))
    first_patient = patient_ids.next
    counts = {"patients": 0, "events": 0, "answers": 0, "messages": 0, "calls": 0, "cards": 0}
    started = time.perf_counter()
    # Indexes are built once after loading (sorted, fast) instead of row by row in random order.
    indexes = _drop_indexes(cursor, [i.model._meta.db_table for i in inserts.values()])
    chunk = 20_000
    for start in range(0, patients, chunk):
        rows: dict[str, list[tuple]] = {t: [] for t in ("key", "patient", "profile", "event", "answer", "message",
                                                          "call", "card")}
        for n in range(start, min(start + chunk, patients)):
            country = rng.choices(list(MARKETS), [w for _l, _z, w in MARKETS.values()])[0]
            locale, zone, _w = MARKETS[country]
            pid = patient_ids.take()
            created = now - rng.randint(1 * DAY, 180 * DAY)
            confirmed = created + rng.randint(600, 2 * DAY) if rng.random() < 0.9 else None
            if confirmed is not None and confirmed > now:
                confirmed = None
            status = "pending" if confirmed is None else ("withdrawn" if rng.random() < 0.03 else "active")
            key_id = uuid.UUID(int=rng.getrandbits(128)).hex
            rows["key"].append((key_id, key.wrapped, key.master_key_id, created))
            rows["patient"].append((pid, f"K{n:09d}", locale, zone, status, created, key_id, markets[country],
                                    program.pk, confirmed))
            stage = "diagnosis"
            # Most came with a dermatologist's card; about as many cards again were never used.
            for used in (random_() < 0.85, False if random_() < 0.8 else None):
                if used is not None:
                    card = card_ids.take()
                    rows["card"].append((card, program.pk, markets[country], f"Q{card:09d}",
                                         created - int(random_() * 20 * DAY), created if used else None,
                                         pid if used else None))

            def event(kind: str, at: int, data: str = "{}", pid: int = pid, into: list = rows["event"]) -> None:
                eid = event_ids.take()
                into.append((eid, kind, f"k{eid:010d}", at, at, "bench", data, pid, program.pk))

            if confirmed is None:
                rows["profile"].append((profile_ids.take(), None, pid, None, now))
                continue
            end = now
            if status == "withdrawn":
                end = rng.randint(confirmed, now)
                event("consent.withdrawn", end, '{"everything": true, "purposes": []}')
            event("enrollment.completed", confirmed, '{"method": "web"}')
            event("stage.changed", confirmed, '{"stage": "diagnosis"}')
            budget = max(3, round(rng.gauss(per_patient, per_patient / 3)))
            moves = [("treatment_initiation", rng.randint(7, 40) * DAY),
                     ("daily_management", rng.randint(60, 130) * DAY)]
            if rng.random() < 0.1:
                moves.append(("switching", rng.randint(140, 175) * DAY))
            since = confirmed
            for code, after in moves:
                if confirmed + after < end:
                    event("stage.changed", confirmed + after, json.dumps({"stage": code, "previous": stage}))
                    stage, since = code, confirmed + after
                    budget -= 1
            treating = [at for code, at in moves if code == "treatment_initiation" and confirmed + at < end]
            if treating:
                at, adherent = confirmed + treating[0], rng.random()
                while at < end and budget > 4:
                    event("medication.refilled", at, '{"days_supply": 28, "product": "biologic"}')
                    budget -= 1
                    at += (28 + rng.randint(0, 4) if adherent < 0.7 else 28 + rng.randint(5, 30)) * DAY
            needs = {code: rng.random() for _s, _m, code in mappings}
            if rng.random() < 0.8:
                at = confirmed + rng.randint(600, 5 * DAY)
                if at < end:
                    scores = [{"scale": s, "value": round(needs[c] * m)} for s, m, c in mappings]
                    rows["answer"].append((response_ids.take(), "completed", "portal", "[]", json.dumps(scores),
                                           locale, at, at, at, pid, analysis.pk))
                    event("questionnaire.completed", at, '{"questionnaire": "psoriasis-needs"}')
                    budget -= 1
                    top = max(needs, key=needs.__getitem__)
                    if rng.random() < 0.75 and by_need.get(top):
                        sent = at + rng.randint(DAY // 2, 20 * DAY)
                        if sent < now:
                            rows["message"].append(_message(outbox_ids.take(), "email", rng.choice(by_need[top]),
                                                            sent, pid, program.pk))
            if rng.random() < 0.7:
                base_at = confirmed + rng.randint(600, 7 * DAY)
                base = rng.randint(20, 72)
                for at, value in ((base_at, base), (base_at + rng.randint(72, 96) * DAY, base + rng.randint(-8, 16))):
                    if at < end:
                        rows["answer"].append((response_ids.take(), "completed", "portal", "[]",
                                               json.dumps([{"scale": "wellbeing", "value": min(100, value)}]),
                                               locale, at, at, at, pid, who5.pk))
                        event("questionnaire.completed", at, '{"questionnaire": "who-5"}')
                        budget -= 1
            for _ in range(rng.randint(2, 6)):
                sent = rng.randint(confirmed, end)
                rows["message"].append(_message(outbox_ids.take(), rng.choice(("web", "web", "email", "sms")),
                                                rng.choice(codes), sent, pid, program.pk))
            # The bulk of the history: meaningful interactions spread over the patient's time in the program.
            first, span, into = event_ids.next, end - confirmed, rows["event"]
            for eid in range(first, first + max(budget, 0)):
                kind, data = interactions[int(random_() * len(interactions))]
                at = confirmed + int(random_() * span)
                into.append((eid, kind, f"k{eid:010d}", at, at, "bench", data, pid, program.pk))
            event_ids.next = first + max(budget, 0)
            if rng.random() < 0.03:
                due = rng.randint(max(confirmed, now - 120 * DAY), now + 2 * DAY)
                done = rng.random()
                state = ("open", None, "") if done > 0.95 or due > now else (
                    "done", due - rng.randint(600, DAY) if done < 0.85 else due + rng.randint(600, 2 * DAY), "reached")
                rows["call"].append((task_ids.take(), f"bench-call-{pid}", "psychosocial support", due - DAY,
                                     due, state[0], state[2], state[1], pid, program.pk))
            rows["profile"].append((profile_ids.take(), since, pid, stages[stage], now))
        _insert(cursor, inserts, rows)
        for name, table in (("patients", "patient"), ("events", "event"), ("answers", "answer"),
                            ("messages", "message"), ("calls", "call"), ("cards", "card")):
            counts[name] += len(rows[table])
        say(f"data: {counts['patients']:,} patients, {counts['events']:,} events")
    say("data: indexing")
    for sql in indexes:
        cursor.execute(sql)
    if connection.vendor == "sqlite":
        cursor.execute("PRAGMA foreign_keys=ON")
    # The rows above carry their own ids: PostgreSQL's sequences must move past them.
    for sql in connection.ops.sequence_reset_sql(no_style(), [i.model for i in inserts.values()]):
        cursor.execute(sql)
    refresh_statistics()  # as after any bulk build
    return {**counts, "first_patient": first_patient, "seconds": round(time.perf_counter() - started, 1)}


def _drop_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the indexes of `tables` that no constraint owns; return the statements that make them again."""
    if connection.vendor == "sqlite":
        cursor.execute("PRAGMA cache_size=-2000000")
        cursor.execute("PRAGMA foreign_keys=OFF")  # every id written is one this function just made
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
                       f"tbl_name IN ({', '.join(['%s'] * len(tables))})", tables)
    else:  # PostgreSQL checks the foreign keys at commit (Django makes them deferrable)
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND "
                       "tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = "
                       "i.indexname)", [tables])
    indexes = cursor.fetchall()
    for name, _sql in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [sql for _name, sql in indexes]


def _interaction_data(kind: str, n: int, codes: list[str]) -> str:
    if kind.startswith("content."):
        data: dict[str, Any] = {"content": codes[n % len(codes)]}
        return json.dumps({**data, "helpful": n % 3 > 0} if kind == "content.rated" else data)
    if kind == "portal.page_viewed":
        return json.dumps({"page": ("home", "library", "profile")[n % 3]})
    return "{}"


def _message(mid: int, channel: str, content: str, at: int, pid: int, program_id: int) -> tuple:
    return (mid, at, 1, "done", 1, "", "", f"bench-{mid:010d}", at, at, channel, "content",
            json.dumps({"content": content}), "bench", "delivered", "", pid, program_id, "")


class _Rows:
    """A plain INSERT into `model`'s table whose column list comes from the model: the bench gives
    `columns` (attnames; one ending in `@` takes Unix seconds) and `constants`, and every other column
    takes its field's default, so a migration that adds a column cannot break the bench. A NOT NULL
    column with no default fails here by name, as it would in the product's own writes."""

    def __init__(self, model: type[Model], columns: str, **constants: Any) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        given = [c.rstrip("@") for c in columns.split()]
        if unknown := [c for c in [*given, *constants] if c not in fields]:
            raise ImproperlyConfigured(f"bench/kpi.py: {model.__name__} has no column {', '.join(unknown)}")
        rest = {}
        for name, field in fields.items():
            if name in given:
                continue
            value = constants[name] if name in constants else field.get_default()
            if value is None and not field.null:
                raise ImproperlyConfigured(f"bench/kpi.py: {model.__name__}.{name} is NOT NULL and has no default: "
                                           "give it a value in INSERTS")
            rest[name] = field.get_db_prep_save(value, connection)
        seconds = {"sqlite": "datetime(%s, 'unixepoch')", "postgresql": "to_timestamp(%s)"}[connection.vendor]
        names = [*given, *rest]
        marks = [seconds if c.endswith("@") else "%s" for c in columns.split()] + ["%s"] * len(rest)
        quote = connection.ops.quote_name
        self.model, self.constants = model, tuple(rest.values())
        self.sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(n) for n in names)}) "
                    f"VALUES ({', '.join(marks)})")

    def insert(self, cursor: Any, rows: list[tuple]) -> None:
        constants = self.constants
        cursor.executemany(self.sql, [row + constants for row in rows] if constants else rows)


def _inserts() -> dict[str, _Rows]:
    from sojourn.channels.models import NurseTask, OutboxMessage
    from sojourn.core.models import DataKey
    from sojourn.people.models import Invitation, Patient
    from sojourn.questionnaires.models import QuestionnaireResponse
    from sojourn.tracking.models import Event, PatientProfile

    return {
        "key": _Rows(DataKey, "id wrapped master_key_id created_at@"),
        "patient": _Rows(Patient, "id pseudonym locale time_zone status created_at@ data_key_id market_id program_id "
                                  "verified_at@"),
        "profile": _Rows(PatientProfile, "id stage_since@ patient_id stage_id updated_at@", engagement="medium"),
        "event": _Rows(Event, "id type client_id occurred_at@ received_at@ source data patient_id program_id"),
        "answer": _Rows(QuestionnaireResponse, "id status source items scores locale started_at@ updated_at@ "
                                               "completed_at@ patient_id questionnaire_id"),
        "message": _Rows(OutboxMessage, "id due_at@ lane status attempts lease_owner last_error idempotency_key "
                                        "created_at@ finished_at@ channel kind payload rule_key delivery_status "
                                        "provider_id patient_id program_id decision_key"),
        "card": _Rows(Invitation, "id program_id market_id code issued_at@ accepted_at@ patient_id"),
        "call": _Rows(NurseTask, "id source_key reason created_at@ due_at@ status outcome completed_at@ patient_id "
                                 "program_id"),
    }


def _insert(cursor: Any, inserts: dict[str, _Rows], rows: dict[str, list[tuple]]) -> None:
    with transaction.atomic():
        for name, insert in inserts.items():
            insert.insert(cursor, rows[name])


# ---- journey facts ------------------------------------------------------------------------------------

def bench_facts(program: Any, say: Callable[[str], None]) -> dict[str, Any]:
    from sojourn.insights.services.facts import refresh_journey_facts

    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            say(f"journey facts: {done:,} of {total:,} patients")

    started = time.perf_counter()
    patients = refresh_journey_facts(program, everything=True, progress=progress)
    seconds = time.perf_counter() - started
    refresh_statistics()
    return {"patients": patients, "seconds": round(seconds, 1), "patients_per_s": round(patients / seconds)}


# ---- the dashboard against hand-written SQL ------------------------------------------------------------

def bench_dashboard(program: Any, country: str) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from sojourn.core.replicas import analytics_reads, replica_configured
    from sojourn.insights.queries import MarketKpis

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="analyst@demo.sojourn.example"))
    url = f"/console/insights/?market={country}"
    page_times = []
    on_replica = [0]  # statements the page sent to the replica (SOJOURN_REPLICA_URL), if one is configured

    def count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        on_replica[0] += 1
        return execute(sql, params, many, context)

    with connections["replica"].execute_wrapper(count) if replica_configured() else contextlib.nullcontext():
        for _ in range(REPEATS):
            started = time.perf_counter()
            response = client.get(url)
            page_times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"the dashboard answered {response.status_code}")
    now = timezone.now()
    kpi_times, sql_times = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        board = MarketKpis(program, country, now=now).by_stage()
        kpi_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        by_hand = handwritten_kpis(program, country, now)
        sql_times.append(time.perf_counter() - started)
    sojourn = {f"{v.kpi.code}@{stage}": [v.value, v.n] for stage, values in board.items() for v in values}
    replica: dict[str, Any] = {}
    if replica_configured():  # the same KPIs read from the replica, once it has replayed the primary's writes
        started = time.perf_counter()
        with analytics_reads() as alias:
            read = MarketKpis(program, country, now=now).by_stage()
        replica = {"read_from": alias, "page_statements": on_replica[0],
                   "kpis_s": round(time.perf_counter() - started, 3),
                   "same_answers": {f"{v.kpi.code}@{stage}": [v.value, v.n] for stage, values in read.items()
                                    for v in values} == by_hand}
    started = time.perf_counter()
    from_events = kpis_from_raw_events(program, country, now)
    raw_seconds = time.perf_counter() - started
    same_raw = all(sojourn[key] == value for key, value in from_events.items())
    return {"market": country, "patients_in_market": sojourn[f"funnel_verified@{next(iter(board))}"][1],
            "page_s": round(statistics.median(page_times), 3), "kpis_s": round(statistics.median(kpi_times), 3),
            "sql_s": round(statistics.median(sql_times), 3), "raw_events_s": round(raw_seconds, 2),
            "same_answers": sojourn == by_hand, "same_answers_raw_events": same_raw, "kpis": sojourn,
            "replica": replica}


def _share(part: int | None, whole: int | None) -> float | None:
    return round((part or 0) / whole, 4) if whole else None


def _stamp(at: datetime) -> str:
    return connection.ops.adapt_datetimefield_value(at)


def _count(condition: str) -> str:
    return f"COUNT(*) FILTER (WHERE {condition})"


def _places(program: Any) -> dict[str, str]:
    """Where the dashboard puts the funnel, care and outcomes: the program's first three stages in
    order (insights/kpis.py PLACES; the demo's definition places none elsewhere)."""
    cursor = connection.cursor()
    cursor.execute("SELECT code FROM tracking_stage WHERE program_id = %s ORDER BY position, code", [program.pk])
    codes = [row[0] for row in cursor.fetchall()]
    return {group: codes[min(n, len(codes) - 1)] for n, group in enumerate(("funnel", "care", "outcomes"))}


def handwritten_kpis(program: Any, country: str, now: datetime) -> dict[str, list]:
    """The dashboard's figures by plain SQL over the journey facts (one grouped pass), the invitation
    cards, the stays (the index alone) and the calls."""
    from sojourn.insights import kpis as k
    from sojourn.insights.facts import day_number

    places = _places(program)

    cursor = connection.cursor()
    cursor.execute("SELECT id FROM core_market WHERE country = %s", [country])
    market = cursor.fetchone()[0]
    cursor.execute("SELECT id, code FROM tracking_stage WHERE program_id = %s ORDER BY position, id", [program.pk])
    stages = cursor.fetchall()
    p = {"p": program.pk, "m": market, "now": _stamp(now), "month": _stamp(now - timedelta(days=30)),
         "week": _stamp(now - timedelta(days=7)), "fortnight": _stamp(now - timedelta(days=14)),
         "quarter": _stamp(now - timedelta(days=90)), "today": day_number(now)}
    greatest, least = ("MAX", "MIN") if connection.vendor == "sqlite" else ("GREATEST", "LEAST")
    out: dict[str, list] = {}
    # One pass over the market's facts, grouped by stage, as the dashboard does.
    columns = ["stage", "consented", "confirmed", "needs", "month_old", "active_30", "week_old", "weekly",
               "active", *(f"reached_{c}" for c in k.REACH), "analysed", "served", "who5_n", "who5_sum",
               "refilling", "adherent"]
    p.update({f"reach_{c}": _stamp(now - timedelta(days=k.REACH_DAYS[c])) for c in k.REACH})
    adherent = (f"first_refill_day <= %(today)s - 56 AND covered_days - {greatest}(0, {least}(covered_until_day, "
                f"first_refill_day + 180) - %(today)s) >= 0.8 * ({least}(%(today)s, first_refill_day + 180) "
                "- first_refill_day)")
    figures = [
        "COUNT(*)", _count("confirmed_at <= %(now)s"), _count("confirmed_at <= %(now)s AND needs_done_at <= %(now)s"),
        _count("confirmed_at <= %(month)s"), _count("confirmed_at <= %(month)s AND active_at_30_days"),
        _count("status = 'active' AND confirmed_at <= %(week)s"),
        _count("status = 'active' AND confirmed_at <= %(week)s AND last_meaningful_at > %(week)s "
               "AND last_meaningful_at <= %(now)s"),
        _count("status = 'active' AND confirmed_at <= %(now)s"),
        *(_count(f"status = 'active' AND confirmed_at <= %(now)s AND reached_{c}_at > %(reach_{c})s "
                 f"AND reached_{c}_at <= %(now)s") for c in k.REACH),
        _count("needs_done_at <= %(fortnight)s AND top_need <> ''"),
        _count("needs_done_at <= %(fortnight)s AND top_need <> '' AND top_need_served"),
        "COUNT(who5_change)", "SUM(who5_change)", _count("first_refill_day <= %(today)s - 56"), _count(adherent)]
    cursor.execute(
        f"SELECT stage_id, {', '.join(figures)} FROM insights_journeyfacts WHERE program_id = %(p)s "
        "AND market_id = %(m)s AND consented_at <= %(now)s GROUP BY stage_id", p)
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    total = {name: sum(row[name] or 0 for row in rows) for name in columns[1:]}
    weekly = {row["stage"]: (row["week_old"] or 0, row["weekly"] or 0) for row in rows}
    funnel = places["funnel"]
    cursor.execute(f"SELECT COUNT(*), {_count('accepted_at <= %(now)s')} FROM people_invitation "
                   "WHERE program_id = %(p)s AND market_id = %(m)s AND issued_at <= %(month)s", p)
    n, used = cursor.fetchone()
    out[f"funnel_invited@{funnel}"] = [_share(used, n), n]
    out[f"funnel_verified@{funnel}"] = [_share(total["confirmed"], total["consented"]), total["consented"]]
    out[f"funnel_needs@{funnel}"] = [_share(total["needs"], total["confirmed"]), total["confirmed"]]
    out[f"funnel_active_30d@{funnel}"] = [_share(total["active_30"], total["month_old"]), total["month_old"]]
    out[f"needs_coverage@{places['care']}"] = [_share(total["served"], total["analysed"]), total["analysed"]]
    met = _count("t.status = 'done' AND t.completed_at <= t.due_at")
    cursor.execute(
        f"SELECT COUNT(*), {met} FROM channels_nursetask t JOIN people_patient pt "
        "ON pt.id = t.patient_id WHERE t.program_id = %(p)s "
        "AND pt.market_id = %(m)s AND t.due_at <= %(now)s AND t.due_at > %(quarter)s AND t.status <> 'cancelled'", p)
    n, met = cursor.fetchone()
    out[f"nurse_sla@{places['care']}"] = [_share(met, n), n]
    in_time = ("EXISTS (SELECT 1 FROM safety_caseforwarding f WHERE f.case_id = i.case_id "
               "AND f.version >= i.case_version AND f.forwarded_at <= i.due_at)")
    cursor.execute(
        f"SELECT COUNT(*), {_count(in_time)} FROM safety_intake i "
        "LEFT JOIN safety_case c ON c.id = i.case_id WHERE i.program_id = %(p)s AND i.market_id = %(m)s "
        "AND i.due_at <= %(now)s AND i.due_at > %(quarter)s AND i.status NOT IN ('not_ae', 'duplicate') "
        "AND (c.id IS NULL OR c.status <> 'nullified')", p)
    n, met = cursor.fetchone()
    out[f"ae_forwarded@{places['care']}"] = [_share(met, n), n]
    n = total["who5_n"]
    out[f"who5_change@{places['outcomes']}"] = [round(total["who5_sum"] / n, 2) if n else None, n]
    out[f"adherence_pdc@{places['outcomes']}"] = [_share(total["adherent"], total["refilling"]), total["refilling"]]
    for channel in k.REACH:
        out[f"reach_{channel}@{places['outcomes']}"] = [_share(total[f"reached_{channel}"], total["active"]),
                                                        total["active"]]
    for stage_id, code in stages:
        n, act = weekly.get(stage_id, (0, 0))
        out[f"weekly_active@{code}"] = [_share(act, n), n]
        where = "FROM insights_stagestay WHERE program_id = %s AND market_id = %s AND stage = %s"
        args = [program.pk, market, code]
        cursor.execute(f"SELECT COUNT(*) {where}", args)
        n = cursor.fetchone()[0]
        middle = []
        if n:
            cursor.execute(f"SELECT days {where} ORDER BY days LIMIT %s OFFSET %s",
                           [*args, n // 2 - (n - 1) // 2 + 1, (n - 1) // 2])
            middle = [row[0] for row in cursor.fetchall()]
        out[f"time_in_stage@{code}"] = [round(sum(middle) / len(middle), 1) if middle else None, n]
    return out


def kpis_from_raw_events(program: Any, country: str, now: datetime) -> dict[str, list]:
    """Weekly active per stage and active at 30 days, by plain SQL over the events themselves."""
    from sojourn.insights.facts import meaningful_types

    places = _places(program)

    cursor = connection.cursor()
    cursor.execute("SELECT id FROM core_market WHERE country = %s", [country])
    market = cursor.fetchone()[0]
    types = sorted(meaningful_types(program))
    marks = ", ".join("%s" for _ in types)
    stamp = _stamp
    if connection.vendor == "sqlite":
        def days(n: int) -> str:
            return f"datetime(pt.verified_at, '+{n} days')"
        everything = "json_extract(w.data, '$.everything')"
    else:
        def days(n: int) -> str:
            return f"pt.verified_at + interval '{n} days'"
        everything = "(w.data ->> 'everything')::boolean"
    out: dict[str, list] = {}
    cursor.execute(
        "SELECT s.code, COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM tracking_event e "
        f"WHERE e.patient_id = pt.id AND e.occurred_at > %s AND e.occurred_at <= %s AND e.type IN ({marks}))) "
        "FROM people_patient pt JOIN tracking_patientprofile pr ON pr.patient_id = pt.id "
        "JOIN tracking_stage s ON s.id = pr.stage_id WHERE pt.program_id = %s AND pt.market_id = %s "
        "AND pt.status = 'active' AND pt.verified_at <= %s AND pt.created_at <= %s GROUP BY s.code",
        [stamp(now - timedelta(days=7)), stamp(now), *types, program.pk, market, stamp(now - timedelta(days=7)),
         stamp(now)])
    for code, n, active in cursor.fetchall():
        out[f"weekly_active@{code}"] = [_share(active, n), n]
    cursor.execute(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM tracking_event e "
        f"WHERE e.patient_id = pt.id AND e.occurred_at > {days(15)} AND e.occurred_at <= {days(30)} "
        f"AND e.type IN ({marks})) AND NOT EXISTS (SELECT 1 FROM tracking_event w WHERE w.patient_id = pt.id "
        f"AND w.type = 'consent.withdrawn' AND w.occurred_at <= {days(30)} AND {everything})) "
        "FROM people_patient pt WHERE pt.program_id = %s AND pt.market_id = %s AND pt.verified_at <= %s "
        "AND pt.created_at <= %s",
        [*types, program.pk, market, stamp(now - timedelta(days=30)), stamp(now)])
    n, active = cursor.fetchone()
    out[f"funnel_active_30d@{places['funnel']}"] = [_share(active, n), n]
    return out


# ---- the table ------------------------------------------------------------------------------------

def table(f: dict[str, Any]) -> Table:
    d, data, facts, sim = f["dashboard"], f["data"], f["facts"], f["simulator"]
    store = "SQLite" if f.get("database", "sqlite") == "sqlite" else "PostgreSQL"
    out = Table(title=f"sojourn bench kpi (scale {f['scale']}, {data['patients']:,} patients, "
                      f"{data['events']:,} events, {store})")
    for column in ("measure", "figure", "baseline", "ratio", "target"):
        out.add_column(column)
    out.add_row(f"dashboard page, market {d['market']} ({d['patients_in_market']:,} patients)", f"{d['page_s']} s",
                f"hand-written SQL {d['sql_s']} s", f"{f['ratios']['page_vs_sql']}", "≤ 2 s")
    out.add_row("KPIs of every stage", f"{d['kpis_s']} s", f"hand-written SQL {d['sql_s']} s",
                f"{f['ratios']['kpis_vs_sql']}", f"≤ 2× (same answers {d['same_answers']})")
    if d.get("replica"):
        r = d["replica"]
        out.add_row("KPIs read from the replica (SOJOURN_REPLICA_URL)", f"{r['kpis_s']} s (read from {r['read_from']})",
                    f"hand-written SQL {d['sql_s']} s", "",
                    f"same answers {r['same_answers']}; the page sent it {r['page_statements']} statements")
    out.add_row("2 KPIs from the raw events (no journey facts)", f"{d['raw_events_s']} s", "", "",
                f"same answers {d['same_answers_raw_events']}")
    out.add_row("journey facts, rebuilt from scratch", f"{facts['patients']:,} patients in {facts['seconds']} s "
                f"({facts['patients_per_s']:,}/s)", "", "", "")
    out.add_row("simulator", f"{sim['patients']} patients × {sim['days']} days in {sim['seconds']} s",
                f"{sim['patient_days_per_s']} patient-days/s", "", "")
    out.add_row("history written (not a measure)", f"{data['seconds']} s", "", "", "")
    return out
