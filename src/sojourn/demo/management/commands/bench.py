"""`sojourn bench engine|kpi [--scale S] [--json]`: measure against baselines from the same run.

The measurement runs in a child process whose database is a fresh SQLite file, so a benchmark never
touches your data and always starts from the same state.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

import sojourn
from sojourn.core.management.base import SojournCommand

ROOT = Path(sojourn.__file__).resolve().parents[2]
TARGETS = {"engine": "events in, rules, agenda and outbox out",
           "kpi": "the KPI dashboard over a million patients, and the cohort simulator"}


class Command(SojournCommand):
    help = "Run a benchmark: engine or kpi (figures and ratios against baselines measured in the same run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=sorted(TARGETS))
        parser.add_argument("--scale", type=float, default=1.0,
                            help="shrink the data for a quick look (0.05 = 5%% of the full size)")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
        parser.add_argument("--inner", default="", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["scale"] <= 1:
            raise CommandError("--scale must be above 0 and at most 1")
        if not (ROOT / "bench" / f"{options['target']}.py").exists():
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
            self._show(options["target"], figures)

    def _inner(self, target: str, scale: float, out: Path) -> None:
        from django.core.management import call_command

        sys.path.insert(0, str(ROOT))
        module = importlib.import_module(f"bench.{target}")
        call_command("migrate", verbosity=0)
        out.write_text(json.dumps(module.run(scale, self.stderr.write)))

    def _show(self, target: str, figures: dict[str, Any]) -> None:
        sys.path.insert(0, str(ROOT))
        self.console().print(importlib.import_module(f"bench.{target}").table(figures))
