"""Analytics on a streaming replica (core/replicas.py): the dashboard's reads go to a hot standby that
has replayed the primary's writes, and to the primary whenever the replica cannot be trusted with them
(unreachable, promoted, or while the request's own writes are uncommitted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from sojourn.core.models import Market
from sojourn.core.replicas import REPLICA, AnalyticsRouter, analytics_reads
from sojourn.core.tests.standby import primary_and_standby

ON_POSTGRES = os.environ.get("SOJOURN_DATABASE_URL", "").split(":")[0] in {"postgres", "postgresql"}
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL feature: runs on the PostgreSQL leg")


@needs_postgres
def test_the_dashboard_reads_a_hot_standby_and_gives_the_primarys_answers():
    """`sojourn bench kpi` on a primary with a hot standby made by pg_basebackup: the dashboard page
    sends its reads to the standby, and the KPIs read there equal the hand-written SQL on the primary."""
    with primary_and_standby() as (primary, standby):
        out = StringIO()
        call_command("bench", "kpi", "--scale", "0.0001", "--json", "--postgres", primary, "--replica", standby,
                     stdout=out, stderr=StringIO())
    dashboard = json.loads(out.getvalue())["dashboard"]
    assert dashboard["same_answers"] is True
    assert dashboard["replica"]["read_from"] == REPLICA
    assert dashboard["replica"]["same_answers"] is True
    assert dashboard["replica"]["page_statements"] > 10  # every KPI of the page, not a stray look-up


def _sojourn(database: str, replica: str, *args: str, wait_ms: str = "2000") -> subprocess.CompletedProcess:
    """A `sojourn` command as a deployment runs it, its replica given by SOJOURN_REPLICA_URL."""
    env = {**os.environ, "SOJOURN_DATABASE_URL": database, "SOJOURN_REPLICA_URL": replica,
           "SOJOURN_REPLICA_WAIT_MS": wait_ms}
    return subprocess.run([sys.executable, "-m", "sojourn.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


WHERE_READS_GO = "from sojourn.core.replicas import analytics_reads\nwith analytics_reads() as alias: print(alias)"


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_replica_that_is_not_a_standby_or_cannot_be_reached_leaves_the_reads_on_the_primary():
    settings = connections[DEFAULT_DB_ALIAS].settings_dict
    database = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    # The primary's own database as its "replica": it accepts writes, so it is no standby.
    done = _sojourn(database, database, "shell", "-c", WHERE_READS_GO)
    assert done.stdout.split()[-1] == DEFAULT_DB_ALIAS, done.stderr
    assert "the replica is not a standby" in done.stderr
    done = _sojourn(database, database, "check", "--deploy", "--database", "default")
    assert "sojourn.W014" in done.stderr + done.stdout and "it is not a standby" in done.stderr + done.stdout
    # Nothing listens on port 1: the page must not wait long, nor fail.
    nowhere = f"postgres://{settings['USER']}@127.0.0.1:1/{settings['NAME']}"
    done = _sojourn(database, nowhere, "shell", "-c", WHERE_READS_GO)
    assert done.stdout.split()[-1] == DEFAULT_DB_ALIAS, done.stderr
    assert "the replica could not be asked (OperationalError)" in done.stderr


@needs_postgres
def test_a_standby_that_lags_leaves_the_reads_on_the_primary_until_it_has_caught_up():
    """The standby's replay paused, a write on the primary: the reads wait SOJOURN_REPLICA_WAIT_MS, then
    go to the primary; replay resumed, they go to the standby. (Only the log positions are asked, so
    the two servers need no schema.)"""
    import psycopg

    with primary_and_standby() as (primary, standby):
        with psycopg.connect(standby, autocommit=True) as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            with psycopg.connect(primary, autocommit=True) as writer:
                writer.execute("CREATE TABLE written_after_the_pause (n int)")
            done = _sojourn(primary, standby, "shell", "-c", WHERE_READS_GO, wait_ms="300")
            assert done.stdout.split()[-1] == DEFAULT_DB_ALIAS, done.stderr
            assert "had not replayed the primary's writes within 300 ms" in done.stderr
            replica.execute("SELECT pg_wal_replay_resume()")
        done = _sojourn(primary, standby, "shell", "-c", WHERE_READS_GO)
        assert done.stdout.split()[-1] == REPLICA, done.stderr


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_reads_never_leave_a_transaction_that_has_written():
    """Writes not yet committed are on no replica: inside a transaction the primary answers."""
    with transaction.atomic(), analytics_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS


def test_the_router_moves_reads_only_inside_the_block_and_never_writes():
    router = AnalyticsRouter()
    assert router.db_for_read(Market) is None  # Django's own choice: the primary
    assert router.db_for_write(Market) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA, "core") is False and router.allow_migrate(DEFAULT_DB_ALIAS, "core")
    with analytics_reads() as alias:  # no replica configured in the suite
        assert alias == DEFAULT_DB_ALIAS and router.db_for_read(Market) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Market) is None


def test_a_replica_needs_the_primary_on_postgresql_too(tmp_path):
    env = {**os.environ, "SOJOURN_VAR_DIR": str(tmp_path), "SOJOURN_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
           "SOJOURN_REPLICA_URL": "postgres://postgres@127.0.0.1:5433/sojourn"}
    done = subprocess.run([sys.executable, "-m", "sojourn.cli", "check"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "SOJOURN_REPLICA_URL needs SOJOURN_DATABASE_URL on PostgreSQL too" in done.stderr
