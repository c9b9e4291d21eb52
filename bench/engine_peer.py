"""The agenda's peer on PostgreSQL: procrastinate, a maintained job queue built on PostgreSQL alone
(FOR UPDATE SKIP LOCKED, as Sojourn's worker), draining no-op jobs in one process. Sojourn's steps do
far more each (a rule's action fired, a message queued and delivered, the step completed); the peer
is the floor of what a PostgreSQL queue costs per job on the same server in the same hour.

The jobs live in procrastinate's own tables, which it creates in the bench's throwaway database.
"""

from __future__ import annotations

import logging
import time
from typing import Any

# Enough for a steady rate; at procrastinate's 150–300 jobs/s here a million would take an hour.
PEER_JOBS_AT_MOST = 50_000


def procrastinate_drain(database_url: str, count: int) -> dict[str, Any]:
    """Defer `count` (at most PEER_JOBS_AT_MOST) no-op jobs, then time one worker (concurrency 1, no
    waiting for new jobs) draining them."""
    import procrastinate
    import psycopg

    jobs = min(count, PEER_JOBS_AT_MOST)
    # Its worker logs two lines per job at INFO, which Sojourn's logging shows: the peer's floor is
    # measured without them, as Sojourn's worker logs a summary only.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database_url))

    @app.task(name="bench_noop")
    def noop() -> None:
        return None

    with app.open():
        app.schema_manager.apply_schema()
        for start in range(0, jobs, 10_000):
            noop.batch_defer(*[{} for _ in range(min(10_000, jobs - start))])
    started = time.perf_counter()
    app.run_worker(wait=False, concurrency=1, install_signal_handlers=False, listen_notify=False)
    seconds = time.perf_counter() - started
    with psycopg.connect(database_url) as check:
        done = check.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()[0]
    return {"jobs": jobs, "succeeded": done, "seconds": round(seconds, 1), "jobs_per_s": round(jobs / seconds)}
