"""`sojourn bench engine`: ingestion, rule evaluation and the worker, each against a baseline measured
in the same run. Runs inside a process whose database is a fresh SQLite file (see
sojourn/demo/management/commands/bench.py).

    ingestion, in-process stream    events/s end to end (check, store, profile, rules, agenda/outbox) in
                                    batches of 1,000 through record_event_stream, as `sojourn events import`
                                    runs it: a helper process decides each batch while this one writes the
                                    one before (`--no-helper`: one process); and the rows and pages written per event
                                    (rows: each table's count before and after; pages: the database's)
    ingestion, one after another    the same through record_events, one batch after another, on a quarter as
                                    many events first: what one web request does; and the share of a batch's
                                    time spent in its transaction (SQLite's one write lock)
    ingestion, HTTP API             the same through POST /api/v1/events on a real socket: one sender to a
                                    server thread of this process, then gunicorn as `sojourn serve` runs it
                                    (a worker process per core) with two senders at once
    the writer's SQLite time        the stream's writing process's time in statements and commits: what
                                    the stream would do with no Python in the writer (its cost is not
                                    measured on its own: the stream's ratio to raw was 0.219 the run
                                    before it and 0.223 with it, 12-04 noon)
    raw sqlite3 executemany         the same event rows, no checks: the ceiling; ratio = Sojourn / raw
    statements replayed             every statement the first 50 batches one after another sent, same
                                    parameters, replayed by sqlite3 on a copy of the database as it was: the
                                    database's own share (keeping them costs those batches about 3 %)
    rules                           the 50 rules over the same facts, compiled by Sojourn vs the `cel` package
    agenda                          due agenda steps claimed, fired, delivered to the recording channel and
                                    completed by `sojourn worker --once`; then a second run (must do nothing)
    procrastinate (PostgreSQL)      the agenda's peer: a PostgreSQL job queue draining no-op jobs in one
                                    process (bench/engine_peer.py); ratio = agenda steps/s / its jobs/s

The program, its patients and the events sent are built in bench/engine_data.py; the two API measures
are in bench/engine_http.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rich.table import Table

from bench.engine_data import build, make_events
from bench.engine_http import bench_http, bench_http_served
from bench.engine_peer import PEER_JOBS_AT_MOST, procrastinate_drain

# Steps per claim. 5,000 made no difference over 100,000 patients (a batch meets as many distinct
# patients either way) and holds SQLite's write lock longer, so the benchmark claims 1,000.
WORKER_BATCH = 1000


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


class _WriterSql:
    """The writing process's own SQLite time in the stream: its statements, and each commit (from a
    transaction's last statement to its on-commit hook, which runs once the commit returned)."""

    def __init__(self) -> None:
        self.statements = 0.0
        self.commits = 0.0
        self.changed = 0  # rows inserted, updated or deleted
        self._last: float | None = None

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            out = execute(sql, params, many, context)
            if not sql.startswith("SELECT") and context["cursor"].rowcount > 0:
                self.changed += context["cursor"].rowcount
            return out
        finally:
            self._last = time.perf_counter()
            self.statements += self._last - started
            if connection.in_atomic_block and not any(f == self._committed for _s, f, _r in connection.run_on_commit):
                transaction.on_commit(self._committed)

    def _committed(self) -> None:
        if self._last is not None:
            self.commits += time.perf_counter() - self._last
            self._last = None


def bench_ingest(events: list[dict[str, Any]], statements: _Statements | None = None) -> dict[str, Any]:
    """record_events, one batch after another."""
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


def table_rows() -> dict[str, int]:
    """Every table's row count."""
    with connection.cursor() as cursor:
        out = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            out[table] = cursor.fetchone()[0]
        return out


def database_pages() -> int:
    """The database's size in pages (SQLite's page_count; PostgreSQL's size in 8 kB blocks)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
        else:
            cursor.execute("SELECT pg_database_size(current_database()) / current_setting('block_size')::int")
        return int(cursor.fetchone()[0])


def written_per_event(events: int, rows_before: dict[str, int], pages_before: int) -> dict[str, Any]:
    """Rows added per table and pages the database grew by, per event recorded."""
    rows_after = table_rows()
    added = {t: n - rows_before.get(t, 0) for t, n in rows_after.items() if n != rows_before.get(t, 0)}
    return {"rows_per_event": round(sum(added.values()) / events, 3),
            "rows_per_event_by_table": {t: round(n / events, 3) for t, n in sorted(added.items())},
            "pages_per_event": round((database_pages() - pages_before) / events, 4)}


def bench_stream(events: list[dict[str, Any]], helper: bool = True) -> dict[str, Any]:
    """The whole stream through record_event_stream, in batches of 1,000 (as `sojourn events import` sends
    a file): with `helper`, a helper process decides each batch while this one writes the one before;
    without, this process decides and writes each batch in turn. No other measure around it but the
    writer's SQL time and the rows written."""
    from sojourn.core.actors import Actor
    from sojourn.tracking.services.stream import record_event_stream

    accepted = rejected = 0
    sql = _WriterSql()
    rows_before, pages_before = table_rows(), database_pages()
    batches = (events[start:start + 1000] for start in range(0, len(events), 1000))
    started = time.perf_counter()
    with connection.execute_wrapper(sql):
        for result in record_event_stream(Actor.system("bench"), batches, source="bench", helper=helper):
            accepted += len(result.accepted)
            rejected += len(result.rejected)
    seconds = time.perf_counter() - started
    written = written_per_event(len(events), rows_before, pages_before)
    return {"events": len(events), "accepted": accepted, "rejected": rejected, "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds), "writer_statements_s": round(sql.statements, 2),
            "writer_commits_s": round(sql.commits, 2),
            # what the stream would do if the writing process spent no time outside SQLite
            "writer_sql_ceiling_per_s": round(len(events) / (sql.statements + sql.commits)),
            "rows_changed_per_event": round(sql.changed / len(events), 3), "helper": helper, **written}


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


def bench_raw_postgres(events: list[dict[str, Any]], patient_ids: dict[str, int], program_id: int
                       ) -> dict[str, Any]:
    """The ceiling on PostgreSQL: the same event rows into a table shaped like the event store, by
    psycopg on a connection of its own (executemany, which psycopg sends as one pipeline)."""
    import psycopg

    table = f"bench_raw_event_{os.getpid()}"
    now = timezone.now()
    with psycopg.connect(os.environ["SOJOURN_DATABASE_URL"], autocommit=True) as raw:
        raw.execute(f"""
            CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, program_id BIGINT NOT NULL, patient_id BIGINT NOT NULL,
                type VARCHAR(60) NOT NULL, client_id VARCHAR(80) NOT NULL, occurred_at TIMESTAMPTZ NOT NULL,
                received_at TIMESTAMPTZ NOT NULL, source VARCHAR(20) NOT NULL, data JSONB NOT NULL);
            CREATE UNIQUE INDEX {table}_client ON {table} (program_id, client_id);
            CREATE INDEX {table}_patient ON {table} (patient_id, occurred_at);
            CREATE INDEX {table}_type ON {table} (program_id, type, occurred_at);
            CREATE INDEX {table}_time ON {table} (occurred_at);""")
        started = time.perf_counter()
        for start in range(0, len(events), 1000):
            rows = [(program_id, patient_ids[e["patient"]], e["type"], e["client_id"], e["occurred_at"], now, "raw",
                     json.dumps(e["data"])) for e in events[start:start + 1000]]
            with raw.transaction(), raw.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} (program_id, patient_id, type, client_id, occurred_at, "
                                   "received_at, source, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        seconds = time.perf_counter() - started
        raw.execute(f"DROP TABLE {table}")
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
    rng = random.Random(11)
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
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    summary = first.stdout.strip().splitlines()[-1]
    rss_mb = int(summary.rsplit("peak memory", 1)[1].split()[0])
    again = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    from sojourn.channels.models import OutboxMessage, RecordedDelivery

    return {"items": count, "seconds": round(seconds, 1), "items_per_s": round(count / seconds),
            "worker_max_rss_mb": rss_mb, "delivered": RecordedDelivery.objects.filter(
                payload__content="card").count(),
            # Every message the bench's patients were sent must be deliverable: a dead one is a defect here.
            "messages_dead": OutboxMessage.objects.filter(status="dead").count(),
            "first_run": first.stdout.strip().splitlines()[-1], "second_run": again.stdout.strip().splitlines()[-1]}


# ---- the whole run and its table ---------------------------------------------------------------------

def run(scale: float, say: Callable[[str], None], ingestion_only: bool = False, helper: bool = True
        ) -> dict[str, Any]:
    from sojourn.people.models import Patient

    sqlite = connection.vendor == "sqlite"
    database_url = os.environ["SOJOURN_DATABASE_URL"]  # the child processes (gunicorn, the worker) open it too
    built = build(scale, say)
    program, size = built["program"], built["size"]
    ids = dict(Patient.objects.filter(program=program, status="active").values_list("pseudonym", "pk"))
    pseudonyms = sorted(ids)
    figures: dict[str, Any] = {"scale": scale, "patients": len(ids), "rules": 50, "database": connection.vendor}
    batch_events = make_events(size["events"], pseudonyms, "batch", seed=1)
    say(f"raw {'sqlite3' if sqlite else 'psycopg'}: {size['events']:,} events")
    raw = "raw_sqlite" if sqlite else "raw_postgres"
    figures[raw] = (bench_raw_sqlite if sqlite else bench_raw_postgres)(batch_events, ids, program.pk)
    # The replay needs a copy of the database as it is now: a SQLite file (on PostgreSQL the server's
    # own work is not separable from the client's this way).
    one_by_one = make_events(size["events"] // 4, pseudonyms, "single", seed=5)
    statements = _Statements(batches=min(50, -(-len(one_by_one) // 1000))) if sqlite else None
    copy = snapshot() if sqlite else None
    say(f"ingestion, in-process, one batch after another: {len(one_by_one):,} events")
    figures["ingest_one_by_one"] = bench_ingest(one_by_one, statements)
    if statements is not None and copy is not None:
        say(f"the first {statements.events:,} events' statements replayed by sqlite3")
        figures["sql_replay"] = bench_replay(copy, statements)
    del statements
    say(f"ingestion, in-process stream ({'a helper process decides, this one writes' if helper else 'no helper'}): "
        f"{size['events']:,} events")
    figures["ingest_batch"] = bench_stream(batch_events, helper)
    figures["ratios"] = {
        f"ingest_batch_vs_{raw}": round(figures["ingest_batch"]["events_per_s"] / figures[raw]["events_per_s"], 3),
        f"writer_sql_ceiling_vs_{raw}": round(figures["ingest_batch"]["writer_sql_ceiling_per_s"]
                                              / figures[raw]["events_per_s"], 3),
        "stream_vs_one_by_one": round(figures["ingest_batch"]["events_per_s"]
                                      / figures["ingest_one_by_one"]["events_per_s"], 3),
    }
    if "sql_replay" in figures:  # what share of the same batches' time the database's own work is
        figures["ratios"]["sql_replay_share"] = round(
            figures["sql_replay"]["seconds"] / figures["ingest_one_by_one"]["replayed_batches_s"], 3)
    if ingestion_only:
        return figures
    say(f"ingestion, HTTP API: {size['http_events']:,} events")
    figures["ingest_http"] = bench_http(make_events(size["http_events"], pseudonyms, "http", seed=2))
    say(f"ingestion, HTTP API as `sojourn serve` runs it: {size['http_events']:,} events from two senders")
    figures["ingest_served"] = bench_http_served(make_events(size["http_events"], pseudonyms, "served", seed=4),
                                                 database_url)
    say(f"rules: {size['rule_facts']:,} events' facts")
    figures["rules"] = bench_rules(program, size["rule_facts"])
    say(f"agenda: {size['agenda']:,} due steps through `sojourn worker --once`")
    figures["agenda"] = bench_agenda(program, size["agenda"], database_url)
    if not sqlite:
        peer = min(size["agenda"], PEER_JOBS_AT_MOST)
        say(f"peer: procrastinate draining {peer:,} no-op jobs in one process")
        figures["procrastinate"] = procrastinate_drain(database_url, size["agenda"])
        figures["ratios"]["agenda_vs_procrastinate"] = round(figures["agenda"]["items_per_s"]
                                                             / figures["procrastinate"]["jobs_per_s"], 2)
    if sqlite:
        with connection.cursor() as cursor:  # four processes wrote this file: it must still be whole
            cursor.execute("PRAGMA quick_check")
            figures["quick_check"] = cursor.fetchone()[0]
        if figures["quick_check"] != "ok":
            raise RuntimeError(f"the database is damaged after the run: {figures['quick_check']}")
    figures["ratios"]["served_vs_one_sender"] = round(figures["ingest_served"]["events_per_s"]
                                                      / figures["ingest_http"]["events_per_s"], 3)
    figures["ratios"]["rules_sojourn_vs_cel"] = figures["rules"]["speedup"]
    return figures


def table(f: dict[str, Any]) -> Table:
    sqlite = f.get("database", "sqlite") == "sqlite"
    store = "SQLite" if sqlite else "PostgreSQL"
    out = Table(title=f"sojourn bench engine (scale {f['scale']}, {f['patients']:,} patients, 50 rules, {store})")
    for column in ("measure", "figure", "baseline", "ratio", "target"):
        out.add_column(column)
    raw, client = ("raw_sqlite", "sqlite3") if sqlite else ("raw_postgres", "psycopg")
    batch = f["ingest_batch"]
    out.add_row(f"ingestion, in-process stream ({'two processes' if batch.get('helper', True) else 'one process'})",
                f"{batch['events_per_s']:,} events/s",
                f"raw {client} {f[raw]['events_per_s']:,}/s",
                f"{f['ratios'][f'ingest_batch_vs_{raw}']}", "≥ 10,000/s; ratio ≥ 0.15" if sqlite else "")
    out.add_row("rows and pages written per event by the stream",
                f"{batch['rows_per_event']} rows added ({batch['rows_changed_per_event']} changed)",
                f"{batch['pages_per_event']} pages", "", ", ".join(f"{t} {n}" for t, n in
                                                                  batch["rows_per_event_by_table"].items()))
    out.add_row("the stream's writer if it spent no time outside SQLite",
                f"{batch['writer_sql_ceiling_per_s']:,} events/s",
                f"statements {batch['writer_statements_s']} s, commits {batch['writer_commits_s']} s "
                f"of {batch['seconds']} s", f"{f['ratios'][f'writer_sql_ceiling_vs_{raw}']}",
                "the ceiling of these rows on one writer")
    single = f["ingest_one_by_one"]
    out.add_row("ingestion, in-process, one batch after another", f"{single['events_per_s']:,} events/s",
                f"{single['write_lock_share']:.0%} of a batch's time in its transaction",
                f"stream {f['ratios']['stream_vs_one_by_one']}×", "")
    if "sql_replay" in f:
        r = f["sql_replay"]
        out.add_row("their statements replayed by sqlite3", f"{r['events_per_s']:,} events/s",
                    f"reads {r['reads_s']} s, writes {r['writes_s']} s, commits {r['commits_s']} s",
                    f"{f['ratios']['sql_replay_share']} of the time", "the ceiling of this design on one core")
    if "ingest_http" not in f:  # --ingestion-only
        return out
    out.add_row("ingestion, HTTP API, one sender", f"{f['ingest_http']['events_per_s']:,} events/s", "", "", "")
    served = f["ingest_served"]
    out.add_row("ingestion, HTTP API as served", f"{served['events_per_s']:,} events/s",
                f"one sender {f['ingest_http']['events_per_s']:,}/s; in-process batches spend "
                f"{single['write_lock_share']:.0%} of their time in their transaction"
                + (" (SQLite's one write lock)" if sqlite else ""), f"{f['ratios']['served_vs_one_sender']}",
                f"≥ 3,000/s ({served['workers']} gunicorn workers, {served['clients']} senders)")
    out.add_row("rule conditions", f"{f['rules']['sojourn_per_s']:,}/s", f"cel {f['rules']['cel_per_s']:,}/s",
                f"{f['rules']['speedup']}×", f"≥ 10× (same answers {f['rules']['same_answers']})")
    a = f["agenda"]
    out.add_row("agenda steps to recording channel", f"{a['items']:,} in {a['seconds']} s ({a['items_per_s']:,}/s)",
                f"{a['messages_dead']:,} messages dead", "", "1,000,000 in ≤ 300 s")
    if "procrastinate" in f:
        p = f["procrastinate"]
        out.add_row("the peer: procrastinate draining no-op jobs, one process",
                    f"{p['jobs']:,} in {p['seconds']} s ({p['jobs_per_s']:,}/s)", "",
                    f"agenda {f['ratios']['agenda_vs_procrastinate']}×", "agenda ≥ 5×")
    out.add_row("worker resident memory", f"{a['worker_max_rss_mb']} MB", "", "", "< 500 MB")
    out.add_row("second worker run", a["second_run"], "", "", "does nothing")
    return out
