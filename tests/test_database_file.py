"""The SQLite database file is checkable by any SQLite tool, as docs/architecture.md tells operators.

The demo is written into a fresh file by `sojourn demo` (a few patients, a short history), so that every
table with a check constraint holds rows; then a plain connection of Python's sqlite3 module, which
knows none of the functions Django registers on its own connections (REGEXP among them), runs
`PRAGMA quick_check` and `PRAGMA integrity_check`, which evaluate every CHECK constraint on every row.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

SOJOURN = str(Path(sys.executable).with_name("sojourn"))
CONSTRAINED = ("core_market", "content_contentitem", "consent_consentversion", "tracking_eventtype")


def test_quick_check_passes_without_djangos_functions(tmp_path):
    database = tmp_path / "sojourn.sqlite3"
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SETTINGS_MODULE": "sojourn.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([SOJOURN, "demo", "--no-serve", "--patients", "4", "--days", "2"], env=env, check=True,
                   capture_output=True, timeout=900)
    connection = sqlite3.connect(database)
    try:
        for table in CONSTRAINED:
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
        assert connection.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


def test_a_command_on_a_database_not_yet_migrated_says_to_migrate(tmp_path):
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "sojourn.settings",
           "SOJOURN_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}"}
    definition = Path(__file__).parents[1] / "src/sojourn/demo/programs/eczema-companion/program.yaml"
    done = subprocess.run([SOJOURN, "program", "validate", str(definition)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "run `sojourn migrate` first" in done.stderr
