"""`sojourn worker`: run due agenda steps and deliver due outbox messages until stopped (SIGTERM)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.management.base import SojournCommand
from sojourn.dialogue.worker import AnotherWorker, Worker, WorkerTotals, peak_memory_mb


class Command(SojournCommand):
    help = "Run due agenda steps and deliver due outbox messages; stops gracefully on SIGTERM."
    # Django's system checks load the URL conf, and with it every view and SciPy: seconds and 120 MB of a
    # worker that serves no page (measured: peak 241 MB → 124 MB on 20,000 steps). `sojourn migrate`
    # and `sojourn serve` still run them; a worker that sends an email loads the URLs for its links.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="stop when nothing is due")
        parser.add_argument("--batch", type=int, default=500, help="rows claimed at a time (default 500)")
        parser.add_argument("--lease", type=float, default=120.0,
                            help="seconds a claim lasts before another worker may take it over (default 120)")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds to wait when nothing is due")
        parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
        parser.add_argument("--standby", action="store_true",
                            help="on SQLite, wait while another worker runs and take over when it stops")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["batch"] <= 10_000:
            raise CommandError("--batch must be from 1 to 10000")
        if not 1 <= options["lease"] <= 3600:
            raise CommandError("--lease must be from 1 to 3600 seconds")
        worker = Worker(batch=options["batch"], lease=timedelta(seconds=options["lease"]), poll=options["poll"],
                        standby=options["standby"])
        worker.install_signals()
        self.stdout.write(f"worker {worker.owner} started")
        self.stdout.flush()
        try:
            totals = worker.run(once=options["once"], max_seconds=options["max_seconds"])
        except AnotherWorker as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(self._summary(totals))

    @staticmethod
    def _summary(t: WorkerTotals) -> str:
        return (f"worker stopped: {t.agenda_done} agenda steps done ({t.fired} fired, {t.agenda_cancelled} lapsed), "
                f"{t.sent} messages sent, {t.deferred} deferred, {t.cancelled} cancelled, {t.retried} to retry, "
                f"{t.dead} dead, {t.planned} scheduled, {t.errors} failed batches, "
                f"{t.agenda_contended} agenda steps and {t.outbox_contended} messages given back while the "
                "database was busy; "
                f"peak memory {peak_memory_mb()} MB")
