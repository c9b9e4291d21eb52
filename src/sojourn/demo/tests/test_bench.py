"""Every `sojourn bench` runs end to end at a tiny scale on the database the suite runs on: a benchmark
no test runs rots (`bench kpi`'s own inserts fell behind a migration and nobody noticed). Correctness
only: the figures are a run's, and nothing here is timed."""

from __future__ import annotations

import json
import os
from io import StringIO
from urllib.parse import urlsplit, urlunsplit

from django.core.management import call_command
from django.db import connection

TINY = "0.0001"  # every size at its floor


def _bench(target: str) -> dict:
    """The figures of `sojourn bench <target>` at the tiny scale: on a fresh SQLite file, or when the
    suite runs on PostgreSQL a database the bench makes on the same server and drops."""
    server = []
    if connection.vendor == "postgresql":
        # The bench's administrative connection goes to the server's own database; it makes its own.
        parts = urlsplit(os.environ["SOJOURN_DATABASE_URL"])
        server = ["--postgres", urlunsplit(parts._replace(path="/postgres"))]
    out = StringIO()
    call_command("bench", target, "--scale", TINY, "--json", *server, stdout=out, stderr=StringIO())
    figures = json.loads(out.getvalue())
    assert figures["database"] == connection.vendor
    return figures


def test_bench_kpi_writes_its_history_and_the_dashboard_agrees_with_hand_written_sql():
    f = _bench("kpi")
    assert f["data"]["patients"] > 0 and f["data"]["events"] > 0 and f["data"]["answers"] > 0
    assert f["facts"]["patients"] >= f["data"]["patients"]
    assert f["dashboard"]["same_answers"] is True
    assert f["dashboard"]["same_answers_raw_events"] is True
    assert f["dashboard"]["patients_in_market"] > 0
    assert f["simulator"]["patients"] > 0 and f["simulator"]["totals"]


def test_bench_engine_takes_every_event_and_runs_every_step_once():
    f = _bench("engine")
    for measure in ("ingest_batch", "ingest_one_by_one"):
        assert f[measure]["accepted"] == f[measure]["events"] > 0 and f[measure]["rejected"] == 0
    assert f["ingest_http"]["accepted"] == f["ingest_http"]["events"] > 0
    assert f["ingest_served"]["stored"] == f["ingest_served"]["events"] > 0
    raw = "raw_sqlite" if connection.vendor == "sqlite" else "raw_postgres"
    assert f[raw]["events"] > 0
    compared, _slash, of = f["rules"]["same_answers"].partition("/")
    assert compared == of and int(of) > 0
    assert f["agenda"]["delivered"] == f["agenda"]["items"] > 0 and f["agenda"]["messages_dead"] == 0
    assert f["agenda"]["second_run"].startswith("worker stopped: 0 agenda steps done")
    if connection.vendor == "postgresql":  # the agenda's peer drained as many jobs as the agenda ran
        assert f["procrastinate"]["succeeded"] == f["procrastinate"]["jobs"] == f["agenda"]["items"]
        assert f["ratios"]["agenda_vs_procrastinate"] > 0
