"""`sojourn bench kpi`: the KPI dashboard of one market over a million patients, against hand-written
SQL measured in the same run; and the cohort simulator's throughput. Runs inside a process whose
database is a fresh SQLite file (see the `bench` command).

    simulator          the demo program lived by a simulated cohort (`simulate`): patient-days/s
    data               patients, events, answers, messages and calls written straight into the tables
                       (not a measurement: the history the dashboard reads)
    journey facts      `refresh_journey_facts(everything=True)`: every patient's facts from their data
    dashboard page     GET /console/insights/?market=DE as the insights analyst (refresh of what is new,
                       every KPI of every stage, the page rendered)
    KPIs               `MarketKpis(program, "DE").by_stage()` alone
    hand-written SQL   the same figures by plain SQL over the same tables; must give the same answers
    from raw events    two of the figures (weekly active, active at 30 days) by plain SQL over the events
                       themselves, as without journey facts; must give the same answers too
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rich.table import Table

FULL = {"patients": 1_000_000, "events": 20_000_000, "sim_patients": 300, "sim_days": 60}
MARKETS = {"DE": ("de-DE", "Europe/Berlin", 0.3), "US": ("en-US", "America/New_York", 0.3),
           "GB": ("en-GB", "Europe/London", 0.15), "JP": ("ja-JP", "Asia/Tokyo", 0.15),
           "CA": ("en-CA", "America/Toronto", 0.1)}
MEANINGFUL_MIX = [("content.viewed", 35), ("portal.page_viewed", 25), ("email.opened", 15), ("medication.taken", 15),
                  ("content.rated", 5), ("email.clicked", 5)]
REPEATS = 5
DAY = 86400


def sizes(scale: float) -> dict[str, int]:
    return {"patients": max(int(FULL["patients"] * scale), 2000), "events": max(int(FULL["events"] * scale), 40_000),
            "sim_patients": max(int(FULL["sim_patients"] * scale), 30),
            "sim_days": FULL["sim_days"] if scale >= 0.5 else 30}


def run(scale: float, say: Callable[[str], None]) -> dict[str, Any]:
    from sojourn.demo.builder import build_demo

    size = sizes(scale)
    program = build_demo(lambda step: say(f"demo: {step}"))
    figures: dict[str, Any] = {"scale": scale}
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
    from sojourn.simulation.runner import simulate

    started = time.perf_counter()
    run = simulate(program=program, patients=patients, days=days, seed=1)
    seconds = time.perf_counter() - started
    return {"patients": patients, "days": days, "seconds": round(seconds, 1),
            "patient_days_per_s": round(patients * days / seconds, 1), "totals": dict(run.totals)}


# ---- a million patients' history, written straight into the tables ---------------------------------

class _Ids:
    def __init__(self, cursor: Any, table: str) -> None:
        self.next = (cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]) + 1  # noqa: S608

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

    rng = random.Random(42)  # noqa: S311  (benchmark data)
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
    raw = connection.connection
    cursor = raw.cursor()
    patient_ids, event_ids, response_ids, outbox_ids, task_ids, profile_ids, card_ids = (
        _Ids(cursor, t) for t in ("people_patient", "tracking_event", "questionnaires_questionnaireresponse",
                                  "channels_outboxmessage", "channels_nursetask", "tracking_patientprofile",
                                  "people_invitation"))
    first_patient = patient_ids.next
    counts = {"patients": 0, "events": 0, "answers": 0, "messages": 0, "calls": 0, "cards": 0}
    started = time.perf_counter()
    # Indexes are built once after loading (sorted, fast) instead of row by row in random order.
    cursor.execute("PRAGMA cache_size=-2000000")
    cursor.execute("PRAGMA foreign_keys=OFF")  # every id written is one this function just made
    indexes = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        "('tracking_event', 'channels_outboxmessage', 'questionnaires_questionnaireresponse', 'people_patient', "
        "'tracking_patientprofile', 'core_datakey', 'people_invitation')").fetchall()
    for name, _sql in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
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
        _insert(cursor, rows)
        for name, table in (("patients", "patient"), ("events", "event"), ("answers", "answer"),
                            ("messages", "message"), ("calls", "call"), ("cards", "card")):
            counts[name] += len(rows[table])
        say(f"data: {counts['patients']:,} patients, {counts['events']:,} events")
    say("data: indexing")
    for _name, sql in indexes:
        cursor.execute(sql)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA analysis_limit=2000")
    cursor.execute("ANALYZE")
    return {**counts, "first_patient": first_patient, "seconds": round(time.perf_counter() - started, 1)}


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


def _insert_sql(table: str, columns: str) -> str:
    """INSERT with a placeholder per column; a column ending in `@` takes Unix seconds, `=x` a constant."""
    names, values = [], []
    for column in columns.split():
        name, _eq, constant = column.partition("=")
        names.append(name.rstrip("@"))
        values.append(constant or ("datetime(?, 'unixepoch')" if name.endswith("@") else "?"))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"  # noqa: S608  (our constants)


INSERTS = {
    "key": _insert_sql("core_datakey", "id wrapped master_key_id created_at@"),
    "patient": _insert_sql("people_patient", "id pseudonym locale time_zone status created_at@ data_key_id market_id "
                                             "program_id verified_at@ email_index='' phone_index=''"),
    "profile": _insert_sql("tracking_patientprofile", "id stage_since@ patient_id stage_id updated_at@ "
                                                      "engagement='medium' interactions_30d=0 needs='{}'"),
    "event": _insert_sql("tracking_event", "id type client_id occurred_at@ received_at@ source data patient_id "
                                           "program_id"),
    "answer": _insert_sql("questionnaires_questionnaireresponse",
                          "id status source items scores locale started_at@ updated_at@ completed_at@ patient_id "
                          "questionnaire_id"),
    "message": _insert_sql("channels_outboxmessage", "id due_at@ lane status attempts lease_owner last_error "
                                                     "idempotency_key created_at@ finished_at@ channel kind payload "
                                                     "rule_key delivery_status provider_id patient_id program_id "
                                                     "decision_key"),
    "card": _insert_sql("people_invitation", "id program_id market_id code issued_at@ accepted_at@ patient_id "
                                             "batch=''"),
    "call": _insert_sql("channels_nursetask", "id source_key reason created_at@ due_at@ status outcome completed_at@ "
                                              "patient_id program_id script_code='' claimed_by_name='' "
                                              "adverse_event=0"),
}


def _insert(cursor: Any, rows: dict[str, list[tuple]]) -> None:
    with transaction.atomic():
        for name, sql in INSERTS.items():
            cursor.executemany(sql, rows[name])


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
    connection.cursor().execute("PRAGMA analysis_limit=2000")
    connection.cursor().execute("ANALYZE")
    return {"patients": patients, "seconds": round(seconds, 1), "patients_per_s": round(patients / seconds)}


# ---- the dashboard against hand-written SQL ------------------------------------------------------------

def bench_dashboard(program: Any, country: str) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from sojourn.insights.queries import MarketKpis

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="analyst@demo.sojourn.example"))
    url = f"/console/insights/?market={country}"
    page_times = []
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
    started = time.perf_counter()
    from_events = kpis_from_raw_events(program, country, now)
    raw_seconds = time.perf_counter() - started
    same_raw = all(sojourn[key] == value for key, value in from_events.items())
    return {"market": country, "patients_in_market": sojourn[f"funnel_verified@{next(iter(board))}"][1],
            "page_s": round(statistics.median(page_times), 3), "kpis_s": round(statistics.median(kpi_times), 3),
            "sql_s": round(statistics.median(sql_times), 3), "raw_events_s": round(raw_seconds, 2),
            "same_answers": sojourn == by_hand, "same_answers_raw_events": same_raw, "kpis": sojourn}


def _share(part: int | None, whole: int | None) -> float | None:
    return round((part or 0) / whole, 4) if whole else None


def _stamp(at: datetime) -> str:
    return connection.ops.adapt_datetimefield_value(at)


def handwritten_kpis(program: Any, country: str, now: datetime) -> dict[str, list]:
    """The dashboard's figures by plain SQL over the journey facts (one grouped pass), the invitation
    cards, the stays (the index alone) and the calls."""
    from sojourn.insights import kpis as k
    from sojourn.insights.facts import day_number
    from sojourn.insights.queries import PLACED

    cursor = connection.connection.cursor()
    market = cursor.execute("SELECT id FROM core_market WHERE country = ?", (country,)).fetchone()[0]
    stages = cursor.execute("SELECT id, code FROM tracking_stage WHERE program_id = ? ORDER BY position, id",
                            (program.pk,)).fetchall()
    p = {"p": program.pk, "m": market, "now": _stamp(now), "month": _stamp(now - timedelta(days=30)),
         "week": _stamp(now - timedelta(days=7)), "fortnight": _stamp(now - timedelta(days=14)),
         "quarter": _stamp(now - timedelta(days=90)), "today": day_number(now)}
    out: dict[str, list] = {}
    # One pass over the market's facts, grouped by stage, as the dashboard does.
    columns = ["stage", "consented", "confirmed", "needs", "month_old", "active_30", "week_old", "weekly",
               "active", *(f"reached_{c}" for c in k.REACH), "analysed", "served", "who5_n", "who5_sum",
               "refilling", "adherent"]
    p.update({f"reach_{c}": _stamp(now - timedelta(days=k.REACH_DAYS[c])) for c in k.REACH})
    reach = ", ".join(f"SUM(status = 'active' AND confirmed_at <= :now AND reached_{c}_at > :reach_{c} "
                      f"AND reached_{c}_at <= :now)" for c in k.REACH)
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.execute(
        "SELECT stage_id, COUNT(*), SUM(confirmed_at <= :now), SUM(confirmed_at <= :now AND needs_done_at <= :now), "  # noqa: S608  (our constants)
        "SUM(confirmed_at <= :month), SUM(confirmed_at <= :month AND active_at_30_days), "
        "SUM(status = 'active' AND confirmed_at <= :week), SUM(status = 'active' AND confirmed_at <= :week "
        "AND last_meaningful_at > :week AND last_meaningful_at <= :now), "
        f"SUM(status = 'active' AND confirmed_at <= :now), {reach}, "
        "SUM(needs_done_at <= :fortnight AND top_need <> ''), "
        "SUM(needs_done_at <= :fortnight AND top_need <> '' AND top_need_served), "
        "COUNT(who5_change), SUM(who5_change), SUM(first_refill_day <= :today - 56), "
        "SUM(first_refill_day <= :today - 56 AND covered_days - MAX(0, MIN(covered_until_day, first_refill_day "
        "+ 180) - :today) >= 0.8 * (MIN(:today, first_refill_day + 180) - first_refill_day)) "
        "FROM insights_journeyfacts WHERE program_id = :p AND market_id = :m AND consented_at <= :now "
        "GROUP BY stage_id", p)]
    total = {name: sum(row[name] or 0 for row in rows) for name in columns[1:]}
    weekly = {row["stage"]: (row["week_old"] or 0, row["weekly"] or 0) for row in rows}
    funnel = PLACED["funnel"]
    n, used = cursor.execute(
        "SELECT COUNT(*), SUM(accepted_at <= :now) FROM people_invitation WHERE program_id = :p AND market_id = :m "
        "AND issued_at <= :month", p).fetchone()
    out[f"funnel_invited@{funnel}"] = [_share(used, n), n]
    out[f"funnel_verified@{funnel}"] = [_share(total["confirmed"], total["consented"]), total["consented"]]
    out[f"funnel_needs@{funnel}"] = [_share(total["needs"], total["confirmed"]), total["confirmed"]]
    out[f"funnel_active_30d@{funnel}"] = [_share(total["active_30"], total["month_old"]), total["month_old"]]
    out[f"needs_coverage@{PLACED['care']}"] = [_share(total["served"], total["analysed"]), total["analysed"]]
    n, met = cursor.execute(
        "SELECT COUNT(*), SUM(t.status = 'done' AND t.completed_at <= t.due_at) FROM channels_nursetask t "
        "JOIN people_patient pt ON pt.id = t.patient_id WHERE t.program_id = :p AND pt.market_id = :m "
        "AND t.due_at <= :now AND t.due_at > :quarter AND t.status <> 'cancelled'", p).fetchone()
    out[f"nurse_sla@{PLACED['care']}"] = [_share(met, n), n]
    n = total["who5_n"]
    out[f"who5_change@{PLACED['outcomes']}"] = [round(total["who5_sum"] / n, 2) if n else None, n]
    out[f"adherence_pdc@{PLACED['outcomes']}"] = [_share(total["adherent"], total["refilling"]), total["refilling"]]
    for channel in k.REACH:
        out[f"reach_{channel}@{PLACED['outcomes']}"] = [_share(total[f"reached_{channel}"], total["active"]),
                                                        total["active"]]
    for stage_id, code in stages:
        n, act = weekly.get(stage_id, (0, 0))
        out[f"weekly_active@{code}"] = [_share(act, n), n]
        where = "FROM insights_stagestay WHERE program_id = ? AND market_id = ? AND stage = ?"
        args = (program.pk, market, code)
        n = cursor.execute(f"SELECT COUNT(*) {where}", args).fetchone()[0]
        middle = [row[0] for row in cursor.execute(f"SELECT days {where} ORDER BY days LIMIT ? OFFSET ?",
                                                   (*args, n // 2 - (n - 1) // 2 + 1, (n - 1) // 2))] if n else []
        out[f"time_in_stage@{code}"] = [round(sum(middle) / len(middle), 1) if middle else None, n]
    return out


def kpis_from_raw_events(program: Any, country: str, now: datetime) -> dict[str, list]:
    """Weekly active per stage and active at 30 days, by plain SQL over the events themselves."""
    from sojourn.insights.facts import meaningful_types
    from sojourn.insights.queries import PLACED

    cursor = connection.connection.cursor()
    market = cursor.execute("SELECT id FROM core_market WHERE country = ?", (country,)).fetchone()[0]
    types = sorted(meaningful_types(program))
    marks = ", ".join("?" for _ in types)
    stamp = _stamp
    out: dict[str, list] = {}
    for code, n, active in cursor.execute(
            "SELECT s.code, COUNT(*), SUM(EXISTS (SELECT 1 FROM tracking_event e WHERE e.patient_id = pt.id "  # noqa: S608
            f"AND e.occurred_at > ? AND e.occurred_at <= ? AND e.type IN ({marks}))) FROM people_patient pt "
            "JOIN tracking_patientprofile pr ON pr.patient_id = pt.id JOIN tracking_stage s ON s.id = pr.stage_id "
            "WHERE pt.program_id = ? AND pt.market_id = ? AND pt.status = 'active' AND pt.verified_at <= ? "
            "AND pt.created_at <= ? GROUP BY s.code",
            (stamp(now - timedelta(days=7)), stamp(now), *types, program.pk, market, stamp(now - timedelta(days=7)),
             stamp(now))):
        out[f"weekly_active@{code}"] = [_share(active, n), n]
    n, active = cursor.execute(
        "SELECT COUNT(*), SUM(EXISTS (SELECT 1 FROM tracking_event e WHERE e.patient_id = pt.id "  # noqa: S608
        "AND e.occurred_at > datetime(pt.verified_at, '+15 days') AND e.occurred_at <= datetime(pt.verified_at, "
        f"'+30 days') AND e.type IN ({marks})) AND NOT EXISTS (SELECT 1 FROM tracking_event w WHERE "
        "w.patient_id = pt.id AND w.type = 'consent.withdrawn' AND w.occurred_at <= datetime(pt.verified_at, "
        "'+30 days') AND json_extract(w.data, '$.everything'))) FROM people_patient pt WHERE pt.program_id = ? "
        "AND pt.market_id = ? AND pt.verified_at <= ? AND pt.created_at <= ?",
        (*types, program.pk, market, stamp(now - timedelta(days=30)), stamp(now))).fetchone()
    out[f"funnel_active_30d@{PLACED['funnel']}"] = [_share(active, n), n]
    return out


# ---- the table ------------------------------------------------------------------------------------

def table(f: dict[str, Any]) -> Table:
    d, data, facts, sim = f["dashboard"], f["data"], f["facts"], f["simulator"]
    out = Table(title=f"sojourn bench kpi (scale {f['scale']}, {data['patients']:,} patients, "
                      f"{data['events']:,} events, SQLite)")
    for column in ("measure", "figure", "baseline", "ratio", "target"):
        out.add_column(column)
    out.add_row(f"dashboard page, market {d['market']} ({d['patients_in_market']:,} patients)", f"{d['page_s']} s",
                f"hand-written SQL {d['sql_s']} s", f"{f['ratios']['page_vs_sql']}", "≤ 2 s")
    out.add_row("KPIs of every stage", f"{d['kpis_s']} s", f"hand-written SQL {d['sql_s']} s",
                f"{f['ratios']['kpis_vs_sql']}", f"≤ 2× (same answers {d['same_answers']})")
    out.add_row("2 KPIs from the raw events (no journey facts)", f"{d['raw_events_s']} s", "", "",
                f"same answers {d['same_answers_raw_events']}")
    out.add_row("journey facts, rebuilt from scratch", f"{facts['patients']:,} patients in {facts['seconds']} s "
                f"({facts['patients_per_s']:,}/s)", "", "", "")
    out.add_row("simulator", f"{sim['patients']} patients × {sim['days']} days in {sim['seconds']} s",
                f"{sim['patient_days_per_s']} patient-days/s", "", "")
    out.add_row("history written (not a measure)", f"{data['seconds']} s", "", "", "")
    return out
