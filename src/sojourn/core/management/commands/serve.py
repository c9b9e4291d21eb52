"""sojourn serve [--port N] [--host H] [--workers N]: gunicorn, with static files collected first."""

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
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, host: str, port: int, workers: int, threads: int, **options: Any) -> None:
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535")
        call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if gunicorn is None:
            raise CommandError("gunicorn is not installed in this environment")
        argv = [gunicorn, "sojourn.wsgi:application", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--threads", str(threads), "--access-logfile", "-", "--graceful-timeout", "20"]
        self.stdout.write(f"serving on http://{host}:{port}/")
        self.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606  (replaces this process with the server)
