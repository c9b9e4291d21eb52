"""sojourn serve [--port N] [--host H] [--workers N] [--threads N] [--timeout S]: gunicorn, with static files
collected first.

Bounds on what one request may cost (docs/security.md): request bodies are bounded by Django
(DATA_UPLOAD_MAX_MEMORY_SIZE, 413), headers and the request line by gunicorn's limits below, parsers
by their own bounds (core/safe_yaml.py). --timeout restarts a worker silent that long; with one
thread per worker (the sync worker) that is a worker stuck in one request; with several threads the
worker's heartbeat runs beside the requests, so only the bounds above hold a request.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser

from sojourn.core.management.base import SojournCommand


class Command(SojournCommand):
    help = "Serve Sojourn with gunicorn (production-grade), after collecting static files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SOJOURN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("SOJOURN_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("SOJOURN_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("SOJOURN_WEB_THREADS", "4")))
        parser.add_argument("--timeout", type=int, default=int(os.environ.get("SOJOURN_WEB_TIMEOUT", "30")),
                            help="seconds before a silent worker is restarted")

    def handle(self, *args: Any, host: str, port: int, workers: int, threads: int, timeout: int,
               **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535")
        if timeout < 1:
            raise CommandError("--timeout must be at least 1 second")
        call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if gunicorn is None:
            raise CommandError("gunicorn is not installed in this environment")
        argv = [gunicorn, "sojourn.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--threads", str(threads), "--access-logfile", "-", "--graceful-timeout", "20",
                "--timeout", str(timeout), "--limit-request-line", "8190", "--limit-request-fields", "100",
                "--limit-request-field_size", "8190",
                # A worker's memory cannot creep up forever: it is replaced after so many requests.
                "--max-requests", "2000", "--max-requests-jitter", "200"]
        self.stdout.write(f"serving on http://{host}:{port}/")
        self.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606  (replaces this process with the server)
