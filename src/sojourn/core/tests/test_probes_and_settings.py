from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from sojourn.cli import main as sojourn_main


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_ready_when_migrations_are_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"


def test_deploy_check_refuses_demo_settings(monkeypatch):
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    with (override_settings(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend"),
          pytest.raises(SystemCheckError) as refused):
        call_command("check", deploy=True, fail_level="WARNING")
    text = str(refused.value)
    for code in ("sojourn.E001", "sojourn.E002", "sojourn.E005", "sojourn.E006", "sojourn.E008", "sojourn.E009"):
        assert code in text
    assert ("sojourn.E007" in text) is (connection.vendor == "sqlite")


SECURE = dict(
    SOJOURN_SECRET_KEY_GENERATED=False, SOJOURN_MASTER_KEY_GENERATED=False, SOJOURN_WEBHOOK_SECRETS_GENERATED=[],
    DEBUG=False, SOJOURN_HTTPS=True,
    ALLOWED_HOSTS=["companion.sponsor.example"], SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True,
    SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "prod"}},
)


def test_deploy_check_passes_on_production_settings(monkeypatch):
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    with override_settings(**SECURE):
        call_command("check", deploy=True, fail_level="WARNING")


def test_cli_prints_usage_without_arguments(capsys):
    sojourn_main([])
    out = capsys.readouterr().out
    assert "market validate PATH" in out and "audit verify" in out and "keys rotate" in out


def test_the_sojourn_command_runs_with_startup_frozen_and_the_collector_tuned(tmp_path):
    import subprocess
    import sys

    from sojourn.process import GC_THRESHOLDS

    script = "import gc; print(gc.get_threshold(), gc.get_freeze_count() > 1000)"
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    done = subprocess.run([sys.executable, "-m", "sojourn.cli", "shell", "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == f"{GC_THRESHOLDS} True"  # after what the shell says


def test_cli_usage_lists_every_sojourn_command(capsys):
    from django.core.management import get_commands

    from sojourn.cli import COMMANDS

    # compiletranslations runs inside `make install`; nobody types it.
    ours = {name for name, app in get_commands().items() if app.startswith("sojourn.")} - {"compiletranslations"}
    listed = {key.split()[0] for key in COMMANDS}
    assert ours - listed == set(), "add the command to sojourn.cli.COMMANDS"
    sojourn_main([])
    out = capsys.readouterr().out
    for name in ("simulate", "rules check", "magazine build", "insights refresh", "survey import", "program launch"):
        assert name in out


@pytest.mark.django_db
def test_the_program_launch_command_takes_a_program_live_once(program):
    from io import StringIO

    from sojourn.core.models import AuditEntry, ProgramMarket

    out = StringIO()
    ProgramMarket.objects.filter(program=program, market__country="DE").update(live_at=None)
    ProgramMarket.objects.exclude(market__country="DE").delete()
    with pytest.raises(CommandError, match="Take at least one market live"):
        call_command("program", "launch", program=program.slug, stdout=out)
    ProgramMarket.objects.update(live_at=timezone.now())  # its checklist: programs/tests/test_activation.py
    call_command("program", "launch", program=program.slug, stdout=out)
    call_command("program", "launch", program=program.slug, stdout=out)
    program.refresh_from_db()
    assert program.status == "live" and "is live" in out.getvalue()
    assert AuditEntry.objects.filter(action="program.launched", subject_id=str(program.pk)).count() == 1
