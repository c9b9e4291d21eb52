"""`sojourn bench engine [--scale S] [--json]`: measure the engine against baselines from the same run.

The measurement runs in a child process whose database is a fresh SQLite file, so a benchmark never
touches your data and always starts from the same state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.table import Table

import sojourn
from sojourn.core.management.base import SojournCommand

ROOT = Path(sojourn.__file__).resolve().parents[2]
TARGETS = {"engine": "events in, rules, agenda and outbox out"}


class Command(SojournCommand):
    help = "Run a benchmark: engine (figures and ratios against baselines measured in the same run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=sorted(TARGETS))
        parser.add_argument("--scale", type=float, default=1.0,
                            help="shrink the data for a quick look (0.05 = 5%% of the full size)")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
        parser.add_argument("--inner", default="", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["scale"] <= 1:
            raise CommandError("--scale must be above 0 and at most 1")
        if not (ROOT / "bench" / "engine.py").exists():
            raise CommandError(f"the benchmarks live in {ROOT / 'bench'}; run them from a checkout of Sojourn")
        if options["inner"]:
            return self._inner(options["target"], options["scale"], Path(options["inner"]))
        with tempfile.TemporaryDirectory(prefix="sojourn-bench-") as folder:
            database = Path(folder) / "bench.sqlite3"
            out = Path(folder) / "figures.json"
            env = dict(os.environ, SOJOURN_DATABASE_URL=f"sqlite:///{database}")
            started = time.perf_counter()
            child = subprocess.run([sys.executable, "-m", "sojourn.cli", "bench", options["target"], "--scale",  # noqa: S603  (our own arguments)
                                    str(options["scale"]), "--inner", str(out)], env=env,
                                   stdout=sys.stderr if options["json"] else None)
            if child.returncode != 0:
                raise CommandError(f"the benchmark failed (exit {child.returncode})")
            figures = json.loads(out.read_text())
            figures["total_seconds"] = round(time.perf_counter() - started, 1)
        if options["json"]:
            self.stdout.write(json.dumps(figures, sort_keys=True))
        else:
            self._show(figures)

    def _inner(self, target: str, scale: float, out: Path) -> None:
        from django.core.management import call_command
        from django.db import connection

        sys.path.insert(0, str(ROOT))
        from bench import engine

        say = self.stderr.write
        call_command("migrate", verbosity=0)
        built = engine.build(scale, say)
        program, size = built["program"], built["size"]
        from sojourn.people.models import Patient

        ids = dict(Patient.objects.filter(program=program, status="active").values_list("pseudonym", "pk"))
        pseudonyms = sorted(ids)
        figures: dict[str, Any] = {"scale": scale, "patients": len(ids), "rules": 50}
        say(f"raw sqlite3: {size['events']:,} events")
        batch_events = engine.make_events(size["events"], pseudonyms, "batch", seed=1)
        figures["raw_sqlite"] = engine.bench_raw_sqlite(batch_events, ids, program.pk)
        say(f"ingestion, in-process: {size['events']:,} events")
        figures["ingest_batch"] = engine.bench_ingest(batch_events)
        say(f"ingestion, HTTP API: {size['http_events']:,} events")
        figures["ingest_http"] = engine.bench_http(engine.make_events(size["http_events"], pseudonyms, "http", seed=2))
        say(f"rules: {size['rule_facts']:,} events' facts")
        figures["rules"] = engine.bench_rules(program, size["rule_facts"])
        say(f"agenda: {size['agenda']:,} due steps through `sojourn worker --once`")
        figures["agenda"] = engine.bench_agenda(program, size["agenda"],
                                                f"sqlite:///{connection.settings_dict['NAME']}")
        figures["ratios"] = {
            "ingest_batch_vs_raw_sqlite": round(figures["ingest_batch"]["events_per_s"]
                                                / figures["raw_sqlite"]["events_per_s"], 3),
            "rules_sojourn_vs_cel": figures["rules"]["speedup"],
        }
        out.write_text(json.dumps(figures))

    def _show(self, f: dict[str, Any]) -> None:
        table = Table(title=f"sojourn bench engine (scale {f['scale']}, {f['patients']:,} patients, 50 rules, "
                            f"SQLite)")
        for column in ("measure", "figure", "baseline", "ratio", "target"):
            table.add_column(column)
        table.add_row("ingestion, in-process batches", f"{f['ingest_batch']['events_per_s']:,} events/s",
                      f"raw sqlite3 {f['raw_sqlite']['events_per_s']:,}/s",
                      f"{f['ratios']['ingest_batch_vs_raw_sqlite']}", "≥ 10,000/s; ratio ≥ 0.15")
        table.add_row("ingestion, HTTP API", f"{f['ingest_http']['events_per_s']:,} events/s", "", "", "≥ 3,000/s")
        table.add_row("rule conditions", f"{f['rules']['sojourn_per_s']:,}/s",
                      f"cel {f['rules']['cel_per_s']:,}/s", f"{f['rules']['speedup']}×",
                      f"≥ 10× (same answers {f['rules']['same_answers']})")
        a = f["agenda"]
        table.add_row("agenda steps to recording channel", f"{a['items']:,} in {a['seconds']} s "
                      f"({a['items_per_s']:,}/s)", "", "", "1,000,000 in ≤ 300 s")
        table.add_row("worker resident memory", f"{a['worker_max_rss_mb']} MB", "", "", "< 500 MB")
        table.add_row("second worker run", a["second_run"], "", "", "does nothing")
        self.console().print(table)
