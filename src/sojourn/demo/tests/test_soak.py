"""`sojourn bench soak` on the database the suite runs on (a few seconds on SQLite, two minutes on
PostgreSQL): two workers, the demo's patients, SIGKILL and SIGSTOP past the lease (and on PostgreSQL a
terminated connection), then the history check. What it asserts is what the soak proves: nothing lost,
nothing reached a patient twice. Nothing here is timed; the figures are a run's."""

from __future__ import annotations

import json
import os
from io import StringIO
from urllib.parse import urlsplit, urlunsplit

from django.core.management import CommandError, call_command
from django.db import connection


def test_a_short_soak_loses_nothing_and_sends_nothing_twice_while_workers_are_killed_and_paused():
    server, minutes = [], "0.3"
    if connection.vendor == "postgresql":  # the bench makes its own database on the suite's server
        parts = urlsplit(os.environ["SOJOURN_DATABASE_URL"])
        server = ["--postgres", urlunsplit(parts._replace(path="/postgres"))]
        minutes = "2"  # the production store gets a real soak in CI: two minutes of faults
    out = StringIO()
    failure = ""
    try:
        call_command("bench", "soak", "--minutes", minutes, "--workers", "2", "--scale", "0.0001", "--json", *server,
                     stdout=out, stderr=StringIO())
    except CommandError as error:  # lost or duplicated: the figures were printed first
        failure = str(error)
    f = json.loads(out.getvalue())
    assert f["database"] == connection.vendor
    totals = f["history"]["totals"]
    assert totals["lost"] == 0, failure
    assert totals["duplicated_effects"] == 0, failure
    assert totals["asked"] > 0 and f["drained"], failure
    # The chaos happened: a worker was killed and one paused, and what they held was delivered.
    assert f["faults"]["kill"] >= 1 and f["faults"]["pause"] >= 1
    for kind in ("kill", "pause"):
        assert f["history"]["after_faults"][kind]["held_not_done"] == 0
    # Messages were checked against the SMTP and SMS receivers (quiet hours allow some market at any
    # hour) and the web page.
    channels = f["history"]["channels"]
    assert channels["web"]["asked"] > 0 and channels["email"]["asked"] + channels["sms"]["asked"] > 0
    assert f["history"]["outbox"].get("dead", 0) == 0
    assert not failure
