"""sojourn demo [--no-serve] [--port N]: migrate, build the demo program, print sign-ins, serve."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser

from sojourn.core.management.base import SojournCommand
from sojourn.demo.builder import DEMO_PASSWORD, STAFF, build_demo


class Command(SojournCommand):
    help = "Build the demo program on the configured database (SQLite in var/ by default) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="only build the demo")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, no_serve: bool, port: int, **options: Any) -> None:
        console = self.console()
        console.print("[bold]Migrating the database…[/bold]")
        call_command("migrate", interactive=False, verbosity=0)
        with console.status("Building the demo program…") as status:
            program = build_demo(progress=lambda step: status.update(f"Building the demo program: {step}…"))
        console.print(f"[bold green]Demo program ready:[/bold green] {program.name}")
        console.print(f"\nOpen http://127.0.0.1:{port}/ and sign in with password [bold]{DEMO_PASSWORD}[/bold] as:")
        for member in STAFF:
            role = member.role.label if member.role else "Platform administrator"
            scope = ", ".join(member.markets) if member.markets else "all markets"
            console.print(f"  {member.email:<34} {role} ({scope})")
        base = f"http://127.0.0.1:{port}"
        console.print("\nPatient portal (enroll, then sign in with the code we email):")
        for country in ("DE", "US", "GB", "JP", "CA"):
            console.print(f"  {base}/p/{program.slug}/{country}/enroll/")
        console.print(f"  sign in: {base}/p/sign-in/")
        console.print(f"HCP portal: {base}/p/{program.slug}/US/hcp/enroll/ (sign in: {base}/p/hcp/sign-in/)")
        if not settings.EMAIL_HOST:
            console.print(f"Without SOJOURN_EMAIL_HOST, codes are written as mail files to {settings.EMAIL_FILE_PATH}")
        if not no_serve:
            call_command("serve", port=port)
