"""`sojourn bench soak --minutes N --workers K [--scale S] [--postgres URL]`: the demo's load while
workers are killed and paused, then a history check that nothing was lost and nothing reached a
patient twice. Runs inside a process whose database is a fresh SQLite file or PostgreSQL database
(see sojourn/demo/management/commands/bench.py).

    the load        the demo program (its builder, ten patients) and a small simulated cohort, with a
                    rule set that answers each kind of event on one channel: a web card, an email (and
                    another a minute later, from the agenda), a text message, a nurse call, a block in
                    the printed magazine. Events go over HTTP to gunicorn serving Sojourn, at a steady
                    rate, to the patients each channel may reach now (quiet hours would only defer).
    the receivers   a real SMTP server and an SMS provider's HTTP API in a process of their own
                    (bench/soak_sinks.py), recording every message as it arrives; the web page, the
                    magazine and the nurse queue are read from their own tables.
    the workers     K `sojourn worker` processes with a 6-second lease (on SQLite one works and the
                    others stand by for its lock).
    the chaos       the first third of the time none (the baseline); then SIGKILL, SIGSTOP past the
                    lease then SIGCONT, and on PostgreSQL pg_terminate_backend, every 1.5-4 s
                    (bench/soak_fleet.py). Then the events stop, every pause ends, and the workers
                    drain what is due.
    the check       asked (outbox rows done) against received, per message (bench/soak_check.py):
                    lost, duplicated effects, raw re-sends; the longest wait from a fault to the
                    delivery of what its victim held; "database is locked" in the logs; messages
                    delivered per second and their latency under chaos against the baseline.

The run fails (exit 1) when a message was lost or had a duplicated effect, or nothing was delivered.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from rich.table import Table

from bench.engine_http import _wait_for
from bench.soak_check import CHANNELS, check
from bench.soak_fleet import LEASE, PAUSE, Chaos, Fleet, worker_env

FULL = {"patients": 200, "rate": 20}  # simulated patients beside the demo's ten; events a second
# Each kind of event, the channel its rule answers on, and its share of the load.
EVENTS = {"content.viewed": ("web", 30), "content.rated": ("email", 20), "medication.taken": ("sms", 20),
          "medication.missed": ("phone", 10), "content.completed": ("print", 20)}
ACTIONS = {"web": "send", "email": "send", "sms": "send", "phone": "nurse_task", "print": "print"}
LATER = 60.0  # the follow-up email's delay ("1m", the shortest a rule may wait)


def sizes(scale: float) -> dict[str, int]:
    return {"patients": int(FULL["patients"] * scale), "rate": max(int(FULL["rate"] * scale), 4)}


def soak_rules() -> list[dict[str, Any]]:
    from sojourn.dialogue.tests.factories import rule

    return [
        rule("card", {"events": ["content.viewed"]}, [{"do": "send", "channel": "web", "content": "soak-card"}]),
        rule("later", {"after": "content.viewed", "delay": "1m"},
             [{"do": "send", "channel": "email", "content": "soak-later"}]),
        rule("rated", {"events": ["content.rated"]}, [{"do": "send", "channel": "email", "content": "soak-mail"}]),
        rule("text", {"events": ["medication.taken"]}, [{"do": "send", "channel": "sms", "content": "soak-text"}]),
        rule("call", {"events": ["medication.missed"]}, [{"do": "nurse_task", "reason": "soak call"}]),
        rule("magazine", {"events": ["content.completed"]}, [{"do": "print", "content": "soak-block"}]),
    ]


def build(scale: float, say: Callable[[str], None]) -> Any:
    """The demo program with the soak's rules, and its ten patients joined by a simulated cohort
    enrolled through the same services as a paper form."""
    from django.test import override_settings

    from sojourn.demo.builder import build_demo
    from sojourn.demo.folder import PSORIASIS
    from sojourn.dialogue.tests.factories import live_rules
    from sojourn.simulation.cohort import EnrollmentDesk, draw_cohort, enroll, optional_purposes

    program = build_demo(lambda step: say(f"demo: {step}"), dialogue=False)
    live_rules(program, soak_rules(), name="soak")
    patients = sizes(scale)["patients"]
    say(f"enrolling {patients:,} simulated patients")
    population = PSORIASIS.population
    desk = EnrollmentDesk(program, population)
    needs = [need.code for need in PSORIASIS.definition.needs]
    # The codes of enrollment are read from a mailbox in memory, as the demo's own enrollment does.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for sim in draw_cohort(33, patients, 30, optional_purposes(program), population, needs):
            enroll(sim, desk, 33, timezone.now().date())
    return program


def reachable(program: Any) -> dict[str, list[str]]:
    """Per kind of event, the patients its rule's action and channel may reach now (a nurse call is
    queued whatever the hour, as delivery does)."""
    from sojourn.consent.purposes import action_refusal
    from sojourn.consent.queries import contact_facts_for_ids
    from sojourn.people.models import Patient

    pseudonyms = dict(Patient.objects.filter(program=program, status="active").values_list("pk", "pseudonym"))
    facts = contact_facts_for_ids(set(pseudonyms))
    now = timezone.now()
    return {kind: sorted(pseudonyms[pk] for pk in pseudonyms
                         if facts[pk].check(channel, now, ignore_quiet_hours=channel == "phone").allowed
                         and not action_refusal(ACTIONS[channel], facts[pk].purposes, channel))
            for kind, (channel, _share) in EVENTS.items()}


class Sender(threading.Thread):
    """`rate` events a second in one POST /api/v1/events, each batch sent again until it is taken
    (a batch is idempotent by its client ids): what a partner's system would do."""

    def __init__(self, port: int, secret: str, targets: dict[str, list[str]], rate: int) -> None:
        super().__init__(daemon=True)
        self.port, self.secret, self.rate = port, secret, rate
        self.kinds = [kind for kind, (_channel, share) in EVENTS.items() if targets[kind] for _ in range(share)]
        self.targets = targets
        self.rng = random.Random(5)
        self.sent = self.accepted = self.duplicates = self.rejected = self.retries = 0
        self.errors: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        tick, next_at = 0, time.monotonic()
        while not self.stopping.is_set() and self.kinds:
            self._post(self._batch(tick))
            tick += 1
            next_at += 1.0
            self.stopping.wait(max(next_at - time.monotonic(), 0))

    def warm_up(self) -> None:
        """One event of each kind before the baseline, delivered before it starts: a worker's first
        email loads the URLs for its links, seconds that belong to no window."""
        from sojourn.channels.models import OutboxMessage

        self._post(self._batch(-1, kinds=[kind for kind in EVENTS if self.targets[kind]]))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if OutboxMessage.objects.filter(status="done").exists() and not _queue_busy(timezone.now()):
                return
            time.sleep(0.5)
        raise RuntimeError("the workers delivered nothing within three minutes")

    def _batch(self, tick: int, kinds: list[str] | None = None) -> list[dict[str, Any]]:
        now = timezone.now()
        events = []
        for n, kind in enumerate(kinds or [self.rng.choice(self.kinds) for _ in range(self.rate)]):
            # A viewed item's follow-up falls due a few seconds after the event arrives.
            later = kind == "content.viewed" and tick >= 0
            occurred = now - timedelta(seconds=LATER - self.rng.uniform(3, 6) if later else 1)
            data: dict[str, Any] = {"product": "biologic"} if kind.startswith("medication.") else {"content": "soak"}
            if kind == "content.rated":
                data["helpful"] = True
            events.append({"client_id": f"soak-{tick}-{n}", "type": kind, "data": data,
                           "patient": self.rng.choice(self.targets[kind]), "occurred_at": occurred.isoformat()})
        return events

    def _post(self, events: list[dict[str, Any]]) -> None:
        import http.client

        body = json.dumps({"events": events})
        self.sent += len(events)
        for attempt in range(10):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("POST", "/api/v1/events", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {self.secret}", "Host": "localhost"})
                response = conn.getresponse()
                answer = response.read()
                conn.close()
            except OSError as error:
                self.errors[type(error).__name__] += 1
            else:
                if response.status == 200:
                    payload = json.loads(answer)
                    self.accepted += payload["accepted"]
                    self.duplicates += payload["duplicates"]
                    self.rejected += payload["rejected"]
                    return
                self.errors[f"HTTP {response.status}"] += 1
            self.retries += attempt == 0
            time.sleep(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_sinks(folder: Path) -> tuple[subprocess.Popen[str], int, int]:
    smtp, sms = _free_port(), _free_port()
    sinks = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("soak_sinks.py")), "--smtp", str(smtp), "--sms", str(sms),
         "--out", str(folder / "received.jsonl")], stdout=subprocess.PIPE, text=True)
    if sinks.stdout is None or sinks.stdout.readline().strip() != "ready":
        raise RuntimeError("the recording sinks did not start")
    return sinks, smtp, sms


def _start_server(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn serving Sojourn as `sojourn serve` runs it (answering once it has booted)."""
    port = _free_port()
    with (folder / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "sojourn.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "2", "--threads", "2", "--timeout", "120",
             "--no-control-socket"],  # gunicorn's control socket is one path per user: other servers use it
            env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, port


def _warm_up(server: subprocess.Popen[bytes], port: int) -> str:
    """A manager's API token, and an empty batch with it, so the first second of the baseline is not
    the server importing the API."""
    import http.client

    from django.contrib.auth import get_user_model

    from sojourn.core.actors import Actor
    from sojourn.people.services.tokens import issue_api_token

    user = get_user_model().objects.get(username="manager@demo.sojourn.example")
    _token, secret = issue_api_token(actor=Actor.system("bench soak"), user=user, name="bench soak")
    _wait_for(port, server)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/api/v1/events", body=json.dumps({"events": []}), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {secret}", "Host": "localhost"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"the API answered {response.status} to an empty batch")
    return secret


def _queue_busy(horizon: Any) -> bool:
    """Work is left: a claimed row, a message due now, or an agenda step due by `horizon` (the
    follow-ups of the last events)."""
    from sojourn.channels.models import OutboxMessage
    from sojourn.dialogue.models import AgendaItem

    now = timezone.now()
    return (OutboxMessage.objects.filter(Q(status="claimed") | Q(status="pending", due_at__lte=now)).exists()
            or AgendaItem.objects.filter(Q(status="claimed") | Q(status="pending", due_at__lte=horizon)).exists())


def _drain(timeout: float) -> tuple[bool, float]:
    started = time.monotonic()
    horizon = timezone.now() + timedelta(seconds=10)
    while time.monotonic() - started < timeout:
        if timezone.now() > horizon and not _queue_busy(horizon):
            return True, round(time.monotonic() - started, 1)
        time.sleep(1)
    return False, round(time.monotonic() - started, 1)


def _logs(folder: Path) -> dict[str, Any]:
    """What the workers' and the server's logs say: "database is locked", failed batches, rows given
    back while the database was busy (from the summaries of the workers that stopped gracefully)."""
    locked = failed = given_back = stopped = 0
    for path in folder.glob("*.log"):
        text = path.read_text(encoding="utf-8", errors="replace")
        locked += text.count("database is locked")
        failed += text.count("batch failed and will be retried")
        for steps, messages in re.findall(r"(\d+) agenda steps and (\d+) messages given back", text):
            given_back += int(steps) + int(messages)
            stopped += 1
    return {"database_locked": locked, "failed_batches": failed, "given_back_busy": given_back,
            "graceful_stops": stopped}


def run(scale: float, say: Callable[[str], None], *, minutes: float, workers: int, folder: Path) -> dict[str, Any]:
    """The soak; its logs and the sinks' journal go to `folder` (the bench's temporary folder), or to a
    folder of their own under SOJOURN_SOAK_LOGS, kept after the run."""
    from sojourn.people.models import Patient

    began = time.monotonic()
    shout = say

    def say(text: str) -> None:
        shout(f"[{time.monotonic() - began:4.0f} s] {text}")

    sqlite = connection.vendor == "sqlite"
    database_url = os.environ["SOJOURN_DATABASE_URL"]
    if os.environ.get("SOJOURN_SOAK_LOGS"):
        folder = Path(os.environ["SOJOURN_SOAK_LOGS"]) / f"soak-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
    folder.mkdir(parents=True, exist_ok=True)
    size = sizes(scale)
    total = minutes * 60
    # The receivers, the server and the workers boot while the program is built.
    sinks, smtp_port, sms_port = _start_sinks(folder)
    env = worker_env(database_url, smtp_port, sms_port)
    server, port = _start_server(folder, env)
    fleet = Fleet(workers, folder, env, sqlite=sqlite)
    fleet.start_all()
    sender = chaos = None
    try:
        program = build(scale, say)
        sender = Sender(port, _warm_up(server, port), reachable(program), size["rate"])
        fleet.wait_started()
        say("warming up: one event of each kind, delivered")
        sender.warm_up()
        say(f"soak: {workers} workers, {size['rate']} events/s; {total / 3:.0f} s without chaos, then "
            f"{total * 2 / 3:.0f} s with it ({'SQLite' if sqlite else 'PostgreSQL'})")
        t0 = time.time()
        sender.start()
        time.sleep(total / 3)
        t1 = time.time()
        chaos = Chaos(fleet, postgres=not sqlite, until=t1 + total * 2 / 3)
        chaos.start()
        time.sleep(total * 2 / 3)
        t2 = time.time()
        sender.stopping.set()
        sender.join()
        chaos.finish()  # every pause ends on time, every slot runs again
        if chaos.error is not None:
            raise RuntimeError(f"the chaos loop failed: {chaos.error!r}")
        say("draining what is due")
        drained, drain_s = _drain(timeout=max(90.0, 10 * LEASE))
    finally:
        if sender is not None:
            sender.stopping.set()
        if chaos is not None and chaos.is_alive():
            chaos.finish()
        fleet.stop_all()
        server.terminate()
        server.wait(timeout=60)
        sinks.terminate()
        sinks.wait(timeout=30)
    say("checking the history")
    history = check(folder / "received.jsonl", chaos.faults, {"baseline": (t0, t1), "chaos": (t1, t2)})
    figures: dict[str, Any] = {
        "database": connection.vendor, "minutes": minutes, "workers": workers, "lease_s": LEASE, "pause_s": PAUSE,
        "patients": Patient.objects.filter(program=program, status="active").count(), "rate": size["rate"],
        "events": {"sent": sender.sent, "accepted": sender.accepted, "duplicates": sender.duplicates,
                   "rejected": sender.rejected, "retried_batches": sender.retries, "api_errors": dict(sender.errors)},
        "history": history, "faults": {kind: entry["count"] for kind, entry in history["after_faults"].items()},
        "logs": _logs(folder), "drained": drained, "drain_s": drain_s, "folder": str(folder),
        "worker_starts": sum(slot.starts for slot in fleet.slots),
        "unexpected_exits": sum(len(slot.unexpected_exits) for slot in fleet.slots),
    }
    base, hurt = history["windows"]["baseline"], history["windows"]["chaos"]
    figures["ratios"] = {
        "delivered_per_s_chaos_vs_baseline": round(hurt["per_s"] / base["per_s"], 3) if base["per_s"] else None,
        "latency_p95_chaos_vs_baseline": round(hurt["latency_p95_s"] / base["latency_p95_s"], 2)
        if base["latency_p95_s"] and hurt["latency_p95_s"] is not None else None}
    if sqlite:
        with connection.cursor() as cursor:  # killed writers must leave the file whole
            cursor.execute("PRAGMA quick_check")
            figures["quick_check"] = cursor.fetchone()[0]
    return figures


def failure(f: dict[str, Any]) -> str | None:
    """Why the soak failed, or None: a message lost or with a duplicated effect, or nothing delivered."""
    totals = f["history"]["totals"]
    if totals["lost"] or totals["duplicated_effects"]:
        return (f"{totals['lost']} messages lost and {totals['duplicated_effects']} duplicated effects "
                f"(the logs: {f['folder']})")
    if not totals["asked"]:
        return "no message was delivered: the soak proves nothing"
    return None


def table(f: dict[str, Any]) -> Table:
    store = "SQLite" if f["database"] == "sqlite" else "PostgreSQL"
    h = f["history"]
    out = Table(title=f"sojourn bench soak ({f['minutes']} min, {f['workers']} workers, lease {f['lease_s']:g} s, "
                      f"{f['patients']:,} patients, {f['rate']} events/s, {store})")
    for column in ("measure", "figure", "baseline", "ratio", "target"):
        out.add_column(column)
    totals = h["totals"]
    by_channel = ", ".join(f"{c} {h['channels'][c]['asked']:,}" for c in CHANNELS)
    out.add_row("messages asked (outbox done)", f"{totals['asked']:,}", by_channel, "", "")
    out.add_row("lost (asked, never received)", f"{totals['lost']:,}", "", "", "0")
    out.add_row("duplicated effects (a second Message-ID or key)", f"{totals['duplicated_effects']:,}",
                ", ".join(f"{c} {h['channels'][c]['duplicated_effects']}" for c in ("email", "sms")), "", "0")
    out.add_row("raw re-sends (same Message-ID or key again)", f"{totals['raw_resends']:,}", "", "",
                "allowed after a kill")
    out.add_row("received, not asked", f"{totals['received_not_asked']:,}", "", "", "")
    outbox = h["outbox"]
    out.add_row("outbox at the end", ", ".join(f"{k} {v:,}" for k, v in sorted(outbox.items())),
                f"drained in {f['drain_s']} s" if f["drained"] else "not drained", "", "all done")
    for kind, entry in sorted(h["after_faults"].items()):
        held = f"{entry['held']:,} rows held"
        if entry["held_not_done"]:
            held += f", {entry['held_not_done']} not done"
        out.add_row(f"longest delivery after a {kind}", f"{entry['max_delay_s']} s" if entry["held"] else "-",
                    f"{entry['count']} {kind}s, {held}", "", f"lease {f['lease_s']:g} s" if kind == "kill" else "")
    base, hurt = h["windows"]["baseline"], h["windows"]["chaos"]
    out.add_row("delivered under chaos", f"{hurt['per_s']}/s", f"{base['per_s']}/s without",
                str(f["ratios"]["delivered_per_s_chaos_vs_baseline"]), "≈ 1 (the load is steady)")
    out.add_row("latency due → delivered, 95th percentile", f"{hurt['latency_p95_s']} s",
                f"{base['latency_p95_s']} s without", str(f["ratios"]["latency_p95_chaos_vs_baseline"]), "")
    logs = f["logs"]
    out.add_row('"database is locked" in the logs', f"{logs['database_locked']:,}",
                f"{logs['failed_batches']} failed batches, {logs['given_back_busy']} rows given back busy", "",
                "0" if f["database"] == "sqlite" else "")
    e = f["events"]
    out.add_row("events over HTTP", f"{e['accepted']:,} of {e['sent']:,} taken",
                f"{e['retried_batches']} batches sent again: {e['api_errors'] or 'no errors'}", "", "")
    out.add_row("worker starts", f"{f['worker_starts']}", f"{f['unexpected_exits']} ended by themselves", "", "")
    return out
