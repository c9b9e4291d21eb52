"""`sojourn bench engine|kpi|soak [--scale S] [--json] [--postgres URL [--replica URL]]`: measure against
baselines from the same run. `soak` also takes --minutes and --workers, and fails when a message was lost or
reached a patient twice.

The measurement runs in a child process whose database is a fresh SQLite file, or with --postgres a
fresh database the bench creates on that server and drops afterwards, so a benchmark never touches
your data and always starts from the same state.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.management.base import CommandError, CommandParser

import sojourn
from sojourn.core.management.base import SojournCommand

ROOT = Path(sojourn.__file__).resolve().parents[2]
TARGETS = {"engine": "events in, rules, agenda and outbox out",
           "kpi": "the KPI dashboard over a million patients, and the cohort simulator",
           "soak": "deliveries on every channel while workers are killed and paused: nothing lost, nothing twice"}


class Command(SojournCommand):
    help = "Run a benchmark: engine, kpi or soak (figures and ratios against baselines measured in the same run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=sorted(TARGETS))
        parser.add_argument("--scale", type=float, default=1.0,
                            help="shrink the data for a quick look (0.05 = 5%% of the full size)")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
        parser.add_argument("--postgres", default="", metavar="URL",
                            help="run on PostgreSQL: a server the bench may create a database on and drop it "
                                 "(postgres://user@host:port/any-database)")
        parser.add_argument("--replica", default="", metavar="URL",
                            help="kpi: with --postgres, a hot standby of that server; the dashboard's reads go to "
                                 "it (SOJOURN_REPLICA_URL) and the bench checks they give the same answers")
        parser.add_argument("--minutes", type=float, default=2.0, help="soak: how long the load runs (default 2)")
        parser.add_argument("--workers", type=int, default=2, help="soak: `sojourn worker` processes (default 2)")
        parser.add_argument("--no-helper", action="store_true",
                            help="engine: the stream decides and writes each batch in one process (no helper "
                                 "process), to measure what the helper buys")
        parser.add_argument("--ingestion-only", action="store_true",
                            help="engine: measure the in-process ingestion only (no HTTP, rules or agenda): for "
                                 "comparing two versions of the event path quickly")
        parser.add_argument("--inner", default="", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["scale"] <= 1:
            raise CommandError("--scale must be above 0 and at most 1")
        if not (ROOT / "bench" / f"{options['target']}.py").exists():
            raise CommandError(f"the benchmarks live in {ROOT / 'bench'}; run them from a checkout of Sojourn")
        if not (0 < options["minutes"] <= 600 and 1 <= options["workers"] <= 32):
            raise CommandError("--minutes must be above 0 and at most 600, --workers from 1 to 32")
        soak = ["--minutes", str(options["minutes"]), "--workers", str(options["workers"])] \
            if options["target"] == "soak" else []
        if options["ingestion_only"]:
            soak.append("--ingestion-only")
        if options["no_helper"]:
            soak.append("--no-helper")
        if options["replica"] and not options["postgres"]:
            raise CommandError("--replica needs --postgres: the standby replays that server")
        if options["inner"]:
            return self._inner(options["target"], options["scale"], Path(options["inner"]), options)
        with tempfile.TemporaryDirectory(prefix="sojourn-bench-") as folder, \
                _fresh_database(options["postgres"], Path(folder)) as database_url:
            out = Path(folder) / "figures.json"
            env = dict(os.environ, SOJOURN_DATABASE_URL=database_url)
            if options["replica"]:  # the standby holds the database the bench made, under the same name
                env["SOJOURN_REPLICA_URL"] = urlunsplit(urlsplit(options["replica"])._replace(
                    path=urlsplit(database_url).path))
            started = time.perf_counter()
            child = subprocess.run([sys.executable, "-m", "sojourn.cli", "bench", options["target"], "--scale",  # noqa: S603  (our own arguments)
                                    str(options["scale"]), *soak, "--inner", str(out)], env=env,
                                   stdout=sys.stderr if options["json"] else None)
            if child.returncode != 0:
                raise CommandError(f"the benchmark failed (exit {child.returncode})")
            figures = json.loads(out.read_text())
            figures["total_seconds"] = round(time.perf_counter() - started, 1)
        if options["json"]:
            self.stdout.write(json.dumps(figures, sort_keys=True))
        else:
            self._show(options["target"], figures)
        sys.path.insert(0, str(ROOT))
        failure = getattr(importlib.import_module(f"bench.{options['target']}"), "failure", None)
        reason = failure(figures) if failure is not None else None
        if reason:  # a bench that proves something fails when it does not
            raise CommandError(reason)

    def _inner(self, target: str, scale: float, out: Path, options: dict[str, Any]) -> None:
        from django.core.management import call_command

        sys.path.insert(0, str(ROOT))
        module = importlib.import_module(f"bench.{target}")
        call_command("migrate", verbosity=0)
        more = {"minutes": options["minutes"], "workers": options["workers"], "folder": out.parent} \
            if target == "soak" else {}
        if options["ingestion_only"]:
            more["ingestion_only"] = True
        if target == "engine" and options["no_helper"]:
            more["helper"] = False
        out.write_text(json.dumps(module.run(scale, self.stderr.write, **more)))

    def _show(self, target: str, figures: dict[str, Any]) -> None:
        sys.path.insert(0, str(ROOT))
        self.console().print(importlib.import_module(f"bench.{target}").table(figures))


@contextlib.contextmanager
def _fresh_database(postgres: str, folder: Path) -> Iterator[str]:
    """The database URL the measurement runs on: a SQLite file in `folder`, or a database created for
    this run on the PostgreSQL server of `postgres` and dropped when it ends."""
    if not postgres:
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(postgres)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.hostname:
        raise CommandError("--postgres takes a URL such as postgres://postgres@127.0.0.1:5432/postgres")
    name = f"sojourn_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(postgres, autocommit=True)
    except psycopg.Error as error:
        raise CommandError(f"cannot reach PostgreSQL at {parts.hostname}:{parts.port or 5432}: {error}") from None
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
