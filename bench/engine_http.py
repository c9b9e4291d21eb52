"""`POST /api/v1/events` as `sojourn bench engine` measures it: one sender to a server thread of the
bench's process, then gunicorn as `sojourn serve` runs it, with two senders at once."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def bench_http(events: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /api/v1/events with a bearer token, over a real socket to an in-process WSGI server."""
    import http.client

    from django.contrib.auth import get_user_model

    from sojourn.core.actors import Actor
    from sojourn.people.services.tokens import issue_api_token

    user = get_user_model().objects.get(username="manager@demo.sojourn.example")
    _token, secret = issue_api_token(actor=Actor.system("bench"), user=user, name="bench")
    from sojourn.wsgi import application  # as gunicorn serves it: the views imported before the first request

    server = make_server("127.0.0.1", 0, application, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    accepted = 0
    started = time.perf_counter()
    try:
        for start in range(0, len(events), 1000):
            body = json.dumps({"events": events[start:start + 1000]})
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=120)
            conn.request("POST", "/api/v1/events", body=body, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {secret}",
                "Host": "localhost"})
            response = conn.getresponse()
            payload = json.loads(response.read())
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"the API answered {response.status}: {payload}")
            accepted += payload["accepted"]
    finally:
        server.shutdown()
    seconds = time.perf_counter() - started
    return {"events": len(events), "accepted": accepted, "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds)}


def bench_http_served(events: list[dict[str, Any]], database_url: str, *, workers: int = 2,
                      clients: int = 2) -> dict[str, Any]:
    """POST /api/v1/events to gunicorn serving Sojourn as `sojourn serve` does (a worker process per
    core), from `clients` senders at once: one batch's checks and JSON run beside another's
    transaction, which holds SQLite's single write lock."""
    import http.client

    from django.contrib.auth import get_user_model

    from sojourn.core.actors import Actor
    from sojourn.people.services.tokens import issue_api_token

    user = get_user_model().objects.get(username="manager@demo.sojourn.example")
    _token, secret = issue_api_token(actor=Actor.system("bench-served"), user=user, name="bench served")
    with socket.socket() as probe:  # a free port for gunicorn
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "sojourn.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", "4", "--timeout", "120"],
        env=dict(os.environ, SOJOURN_DATABASE_URL=database_url), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, server)
        batches = [json.dumps({"events": events[start:start + 1000]}) for start in range(0, len(events), 1000)]
        accepted: list[int] = []
        failures: list[str] = []

        def send(mine: list[str]) -> None:
            for body in mine:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("POST", "/api/v1/events", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {secret}",
                    "Host": "localhost"})
                response = conn.getresponse()
                payload = json.loads(response.read())
                conn.close()
                if response.status != 200:
                    failures.append(f"the API answered {response.status}: {payload}")
                    return
                accepted.append(payload["accepted"])

        senders = [threading.Thread(target=send, args=(batches[n::clients],)) for n in range(clients)]
        started = time.perf_counter()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    if failures:
        raise RuntimeError(failures[0])
    from sojourn.tracking.models import Event

    # What the server said it accepted is what the store holds: two writers lost nothing.
    stored = Event.objects.filter(client_id__startswith=events[0]["client_id"].split("-")[0] + "-").count()
    if stored != sum(accepted):
        raise RuntimeError(f"the API accepted {sum(accepted):,} events and stored {stored:,}")
    return {"events": len(events), "accepted": sum(accepted), "stored": stored, "seconds": round(seconds, 2),
            "events_per_s": round(len(events) / seconds), "workers": workers, "clients": clients}


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (exit {server.returncode})")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within a minute")
