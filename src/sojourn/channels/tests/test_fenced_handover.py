"""Several workers on one PostgreSQL, one of them stopped at the worst moment (as SIGSTOP or SIGKILL
would stop it): every message reaches the outside world once, under one Message-ID or provider key
whatever the attempt, and a worker that lost its lease sends nothing and writes nothing.

The workers are threads, each with its own connection, running the real `deliver_due` with the time
it would read from its clock: a worker "later than the lease" is one whose clock says so, not one the
test waits for. The outside world is a real SMTP server (aiosmtpd) and an HTTP provider on local
sockets; the only stand-in is the stop itself, made at the channel's edge (`StoppableEmail`), after the
worker checked its lease and before the batch goes to the SMTP server, or once the server has it.

On SQLite one worker runs (a lock file keeps a second out) and the test database is in memory, which
other connections cannot open: these tests run on the PostgreSQL leg.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from sojourn.channels.email import EmailAdapter
from sojourn.channels.models import OutboxMessage
from sojourn.channels.tests.helpers import LEASE, SIDE_BY_SIDE, Workers
from sojourn.content.tests.factories import approved_item
from sojourn.core.db import select_rows
from sojourn.core.models import AuditEntry
from sojourn.core.services.audit import record_audit, verify_audit_chain
from sojourn.dialogue.tests.factories import SYSTEM, live_rules, rule
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.taxonomy import define_need

pytestmark = SIDE_BY_SIDE
EMAILS = 6
TEXTS = 3
# Midday in Berlin whatever the test's date: text messages wait out the quiet hours.
AT = timezone.now().replace(hour=11, minute=0, second=0, microsecond=0)
LATER = AT + LEASE + timedelta(seconds=1)  # the stopped worker's lease has run out by this clock


class Stop:
    """Where the worker named `thread` stops, once: "before" (it has checked its lease, the SMTP server
    has nothing yet) or "after" (the server has accepted the batch, the worker has not recorded it)."""

    def __init__(self) -> None:
        self.arm("", "")

    def arm(self, thread: str, where: str) -> None:
        self.thread, self.where = thread, where
        self.stopped, self.resume = threading.Event(), threading.Event()
        self.backend_pid = 0

    def here(self, where: str) -> None:
        if threading.current_thread().name != self.thread or where != self.where or self.stopped.is_set():
            return
        self.backend_pid = connection.connection.info.backend_pid
        self.stopped.set()
        assert self.resume.wait(60), "the stopped worker was never resumed"


STOP = Stop()


class StoppableEmail(EmailAdapter):
    """The SMTP channel, where a worker can be stopped as SIGSTOP would stop it."""

    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Any]:
        STOP.here("before")
        outcomes = super().deliver(messages, now)
        STOP.here("after")
        return outcomes


class Provider(BaseHTTPRequestHandler):
    """An SMS provider's HTTP API on a local socket: records each request's Idempotency-Key and answers
    with a message id of its own."""

    received: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Provider.received.append(self.headers["Idempotency-Key"])
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"prov-{len(Provider.received)}"}).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def channels(settings, smtp, program, active_patient):
    """Email through the stoppable SMTP channel, text messages through an HTTP provider."""
    server = HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Provider.received = []
    settings.SOJOURN_CHANNEL_ADAPTERS = {"email": f"{__name__}.StoppableEmail"}
    settings.SOJOURN_SMS_PROVIDER, settings.SOJOURN_SMS_TOKEN = "http", "secret"
    settings.SOJOURN_SMS_URL = f"http://127.0.0.1:{server.server_port}"
    define_need(actor=SYSTEM, program=program, code="itch", labels={"en": "Itch"})
    approved_item(program, "welcome-mail", "email", {"de-DE": {
        "subject": "Willkommen, {given_name}", "body": "Hallo {given_name},\n\nschön, dass Sie dabei sind."}},
        needs=["itch"])
    approved_item(program, "missed-dose", "sms", {"de-DE": {"body": "Hallo {given_name}, heute fehlt eine Dosis."}},
                  segment_budget=1)
    live_rules(program, [
        rule("welcome", {"events": ["portal.page_viewed"]}, [{"do": "send", "channel": "email",
                                                              "content": "welcome-mail"}]),
        rule("missed", {"events": ["medication.missed"]}, [{"do": "send", "channel": "sms",
                                                            "content": "missed-dose"}])])
    yield smtp
    STOP.resume.set()  # never leave a worker stopped behind a failed test
    STOP.arm("", "")
    server.shutdown()


def due(patient, emails: int, texts: int = 0) -> None:
    """Events whose rules put `emails` emails, then `texts` text messages, in the outbox."""
    occurred = (AT - timedelta(minutes=1)).isoformat()
    record_events(SYSTEM, [{"client_id": f"view-{n}", "type": "portal.page_viewed", "patient": patient.pseudonym,
                            "occurred_at": occurred, "data": {"page": "home"}} for n in range(emails)],
                  source="test", now=AT)
    if texts:
        record_events(SYSTEM, [{"client_id": f"missed-{n}", "type": "medication.missed", "patient": patient.pseudonym,
                                "occurred_at": occurred, "data": {"product": "biologic"}} for n in range(texts)],
                      source="test", now=AT)


def mails_by_key(smtp) -> dict[str, list[str]]:
    """The Message-IDs the SMTP server received, per outbox message (its key travels in X-Sojourn-Key)."""
    seen: dict[str, list[str]] = defaultdict(list)
    for mail in smtp.received:
        seen[mail["X-Sojourn-Key"]].append(mail["Message-ID"].strip())
    return seen


def one_stopped(workers: int, where: str, *, then: Callable[[], None] = lambda: None,
                before_resuming: Callable[[], None] = lambda: None) -> Workers:
    """w0 claims everything due and stops `where`; `then` happens; the other workers run by a clock past
    w0's lease and finish; `before_resuming` looks; w0 resumes and finishes."""
    run = Workers()
    STOP.arm("w0", where)
    run.start("w0", AT)
    assert STOP.stopped.wait(30)
    then()
    for n in range(1, workers):  # their clocks say the stopped worker's lease is over
        run.start(f"w{n}", LATER)
    for thread in run.threads[1:]:
        thread.join(timeout=60)
    before_resuming()
    STOP.resume.set()
    run.join()
    return run


@pytest.mark.parametrize("workers", [2, 4])
def test_a_worker_stopped_between_its_check_and_its_send_past_its_lease_sends_each_email_once(
        channels, active_patient, workers):
    due(active_patient, EMAILS)
    run = one_stopped(workers, "before")
    assert not [r for r in run.results.values() if isinstance(r, BaseException)], run.results
    seen = mails_by_key(channels)
    messages = list(OutboxMessage.objects.filter(channel="email"))
    assert len(messages) == EMAILS and sorted(seen) == sorted(m.idempotency_key for m in messages)
    for message in messages:
        assert len(seen[message.idempotency_key]) == 1, "an email reached the SMTP server twice"
        assert message.provider_id == seen[message.idempotency_key][0]
        assert (message.status, message.delivery_status, message.attempts, message.last_error) == (
            "done", "sent", 1, "")
    assert run.results["w0"].sent == EMAILS
    assert sum(run.results[f"w{n}"].sent for n in range(1, workers)) == 0


@pytest.mark.parametrize("workers", [2, 4])
def test_a_worker_whose_lease_was_taken_while_it_was_stopped_sends_and_writes_nothing(
        channels, active_patient, workers):
    due(active_patient, EMAILS, TEXTS)
    fields = ("status", "attempts", "provider_id", "delivery_status", "last_error", "finished_at", "lease_owner")
    taken: dict[int, dict[str, Any]] = {}

    def look() -> None:  # the texts as the others left them
        taken.update({m["pk"]: m for m in OutboxMessage.objects.filter(channel="sms").values("pk", *fields)})

    # Stopped on its emails; its text messages wait unheld behind them.
    run = one_stopped(workers, "before", before_resuming=look)
    assert not [r for r in run.results.values() if isinstance(r, BaseException)], run.results
    stale = run.results["w0"]
    assert (stale.claimed, stale.sent, stale.lost) == (EMAILS + TEXTS, EMAILS, TEXTS)
    # Each text went to the provider once, by the worker that took it over, under one key.
    assert len(Provider.received) == TEXTS == len(set(Provider.received))
    for message in OutboxMessage.objects.filter(channel="sms").values("pk", *fields):
        assert message == taken[message["pk"]]  # the stale worker wrote nothing on them after it resumed
        assert message["provider_id"].startswith("prov-") and message["last_error"] == ""
        assert (message["status"], message["delivery_status"], message["attempts"]) == ("done", "sent", 2)
    # Nor did it open the patients' numbers: one audited read, the other worker's.
    reads = AuditEntry.objects.filter(action="pii.read", after__purpose="sms delivery")
    assert reads.count() == 1
    assert all(len(keys) == 1 for keys in mails_by_key(channels).values())


@pytest.mark.parametrize("workers", [2, 4])
def test_a_worker_killed_after_the_server_took_its_batch_leaves_it_to_be_sent_again_under_the_same_message_ids(
        channels, active_patient, workers):
    due(active_patient, EMAILS)

    def kill() -> None:  # SIGKILL, as the database sees it: the connection goes, the transaction with it
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [STOP.backend_pid])
            for _ in range(600):  # until the backend has gone and its locks with it
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [STOP.backend_pid])
                if cursor.fetchone()[0] == 0:
                    return
                threading.Event().wait(0.05)

    run = one_stopped(workers, "after", then=kill)
    assert isinstance(run.results["w0"], Exception)  # its connection was gone: it recorded nothing
    assert not [r for n, r in run.results.items() if n != "w0" and isinstance(r, BaseException)], run.results
    seen = mails_by_key(channels)
    for message in OutboxMessage.objects.filter(channel="email"):
        ids = seen[message.idempotency_key]
        assert len(ids) == 2  # at least once: the batch was handed over again ...
        assert len(set(ids)) == 1, "a second attempt carried another Message-ID"  # ... as the same message
        assert message.provider_id == ids[0]
        assert (message.status, message.delivery_status, message.attempts) == ("done", "sent", 2)


def test_a_worker_stopped_while_the_server_has_its_batch_holds_up_no_other_audited_write(
        channels, active_patient):
    due(active_patient, EMAILS)
    elsewhere: list[int] = []

    def audit_elsewhere() -> None:  # a nurse's write while w0 is stopped: the chain's head is free (NOWAIT)
        with transaction.atomic():
            select_rows("SELECT seq FROM core_auditchainhead WHERE id = 1 FOR UPDATE NOWAIT")
            record_audit(actor=SYSTEM, action="test.meanwhile", subject_type="thing", subject_id=1)
        elsewhere.append(AuditEntry.objects.get(action="test.meanwhile").seq)

    run = one_stopped(2, "after", then=audit_elsewhere)
    assert not [r for r in run.results.values() if isinstance(r, BaseException)], run.results
    assert run.results["w0"].sent == EMAILS
    # The stopped worker's read of the addresses is in the trail, after the write made meanwhile.
    read = AuditEntry.objects.get(action="pii.read", after__purpose="email delivery")
    assert read.seq > elsewhere[0]
    assert verify_audit_chain().ok
