"""The query planner's statistics: refreshed by `sojourn migrate` and after bulk work, and their absence
reported by `sojourn check --deploy --database default` (a table with rows and no statistics is planned
blind: on PostgreSQL a consent look-up became a nested loop over 72 million rows)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from sojourn.core.checks import sojourn_database_checks
from sojourn.core.db import refresh_statistics, tables_without_statistics
from sojourn.people.models import Patient
from sojourn.tracking.models import Event, PatientProfile
from sojourn.tracking.services.events import record_events
from sojourn.tracking.tests.helpers import SYSTEM, view

pytestmark = pytest.mark.django_db

TABLES = [m._meta.db_table for m in (Patient, Event, PatientProfile)]


def _forget_statistics(table: str) -> None:
    """As if the table had never been analyzed (superuser on PostgreSQL, as in CI; undone with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = %s", [table])
        else:
            cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE relname = %s", [table])


@pytest.fixture
def with_events(active_patient):
    record_events(SYSTEM, [view(active_patient, f"s-{n}") for n in range(5)], source="test")
    return active_patient


def test_a_refresh_leaves_statistics_on_every_table_with_rows(with_events):
    refresh_statistics()
    assert tables_without_statistics(TABLES) == []


def test_migrate_refreshes_them_even_with_nothing_to_apply(with_events):
    refresh_statistics()
    _forget_statistics(Event._meta.db_table)
    assert tables_without_statistics(TABLES) == [Event._meta.db_table]
    call_command("migrate", interactive=False, verbosity=0, stdout=StringIO())
    assert tables_without_statistics(TABLES) == []


def test_the_deploy_check_names_a_table_planned_blind(with_events):
    refresh_statistics()
    assert not [w for w in sojourn_database_checks(None, databases=["default"]) if w.id == "sojourn.W012"]
    _forget_statistics(Event._meta.db_table)
    warnings = [w for w in sojourn_database_checks(None, databases=["default"]) if w.id == "sojourn.W012"]
    assert len(warnings) == 1
    assert Event._meta.db_table in warnings[0].msg and "sojourn migrate" in warnings[0].hint


def test_an_empty_table_needs_none(db):
    refresh_statistics()
    assert tables_without_statistics(TABLES) == []
