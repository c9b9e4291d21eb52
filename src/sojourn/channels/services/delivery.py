"""Delivering due outbox messages: claim a batch, check consent and quiet hours again, hand each
channel its messages, record the outcome. Called by `sojourn worker`.

Every step names the lease generation the claim gave this worker (`core.services.queue`): a worker
whose lease was taken over while it was stopped sends nothing and writes nothing. A channel's batch is
held (`queue.hold`), handed to the channel and completed in one transaction, so on PostgreSQL no other
worker can take a message between the check and the send."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import DateTimeField, JSONField

from sojourn.channels.adapters import adapter_for
from sojourn.channels.models import OutboxMessage
from sojourn.channels.rendering import attach_content
from sojourn.consent.purposes import action_refusal
from sojourn.consent.queries import ContactCheck, ContactFacts, contact_facts_for_ids
from sojourn.core.db import as_datetime, as_json, db_datetime, is_contention, rows_for_ids
from sojourn.core.services import queue
from sojourn.core.services.audit import atomic_audited_last
from sojourn.core.services.queue import Leases

log = logging.getLogger(__name__)
# The dialogue action each kind of message comes from: its consent purposes are checked again on delivery.
ACTION_OF_KIND = {"content": "send", "questionnaire": "ask_questionnaire", "print_block": "print",
                  "nurse_task": "nurse_task"}


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    cancelled: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0  # lease taken over by another worker before sending: nothing sent, nothing written
    contended: int = 0  # given back: the database was busy with others


def deliver_due(*, owner: str, now: datetime, limit: int = 500, lease: timedelta = timedelta(minutes=2)
                ) -> DeliveryReport:
    report = DeliveryReport()
    with transaction.atomic():
        queue.release_expired(OutboxMessage, now=now)
        leases = queue.claim(OutboxMessage, owner=owner, limit=limit, lease=lease, now=now)
    report.claimed = len(leases)
    if not leases:
        return report
    try:
        facts, by_channel = _check_again(leases, owner=owner, now=now, report=report)
    except OperationalError as error:
        if not is_contention(error):
            raise
        # Refused before anything was sent or changed: taken again at once, no attempt spent.
        report.deferred = report.cancelled = 0
        report.contended = queue.give_back(OutboxMessage, leases, owner=owner, error=f"busy: {error}")
        return report
    # The words of every channel's messages in one go (three queries, whatever the mix of markets).
    unusable = attach_content([m for batch in by_channel.values() for m in batch], facts)
    for channel, batch in by_channel.items():
        over = _over_cap(batch, now)
        if over:
            with transaction.atomic():
                for message_id, reason in over.items():
                    report.cancelled += queue.complete(OutboxMessage, {message_id: leases[message_id]}, owner=owner,
                                                       now=now, status="cancelled", also={"last_error": reason[:500]})
            batch = [m for m in batch if m.pk not in over]
        refused = {m.pk: unusable[m.pk] for m in batch if m.pk in unusable}
        with transaction.atomic():
            for message_id, reason in refused.items():  # withdrawn, expired or untranslated: never half-sent
                status = queue.fail(OutboxMessage, message_id, generation=leases[message_id], owner=owner, now=now,
                                    error=reason, permanent=True)
                report.dead += status == "dead"
        batch = [m for m in batch if m.pk not in refused]
        if batch:
            _send(channel, batch, leases, owner=owner, now=now, lease=lease, report=report)
    return report


def _check_again(leases: Leases, *, owner: str, now: datetime, report: DeliveryReport
                 ) -> tuple[dict[int, ContactFacts], dict[str, list[OutboxMessage]]]:
    """Consent, channel and contact times checked again for the claimed messages: the ones that may
    leave now by channel; the others deferred (their attempt given back) or cancelled."""
    messages = _claimed_messages(list(leases))
    facts = contact_facts_for_ids({m.patient_id for m in messages})
    by_channel: dict[str, list[OutboxMessage]] = defaultdict(list)
    with transaction.atomic():
        for message in messages:
            check = _check(facts[message.patient_id], message, now)
            if check.allowed:
                by_channel[message.channel].append(message)
            elif check.reason in {"quiet hours", "not a contact day", "outside the patient's contact times"}:
                later = facts[message.patient_id].next_allowed(message.channel, now)
                if later is not None:  # not a failure: the attempt is given back
                    report.deferred += OutboxMessage.objects.filter(
                        pk=message.pk, lease_owner=owner, status="claimed", lease_generation=leases[message.pk],
                    ).update(status="pending", due_at=later, attempts=max(message.attempts - 1, 0), lease_owner="",
                             lease_until=None, last_error=f"deferred: {check.reason}")
                    continue
                report.cancelled += queue.complete(OutboxMessage, {message.pk: leases[message.pk]}, owner=owner,
                                                   now=now, status="cancelled")
            else:  # consent withdrawn or channel turned off since the decision
                report.cancelled += queue.complete(OutboxMessage, {message.pk: leases[message.pk]}, owner=owner,
                                                   now=now, status="cancelled", also={"last_error": check.reason[:500]})
    return facts, by_channel


def _check(facts: ContactFacts, message: OutboxMessage, now: datetime) -> ContactCheck:
    """The purposes the message's action needs, then the channel: a nurse task joins the queue at once
    (quiet hours are for the call, which its deadline respects)."""
    refused = action_refusal(ACTION_OF_KIND[message.kind], facts.purposes, message.channel)
    if refused:
        return ContactCheck(False, refused)
    return facts.check(message.channel, now, ignore_quiet_hours=message.kind == "nurse_task")


def _claimed_messages(ids: list[int]) -> list[OutboxMessage]:
    """The claimed messages as model objects, most urgent first, read by plain SQL: on a batch of a
    thousand the ORM's per-value converters cost more than the read."""
    fields = OutboxMessage._meta.concrete_fields
    readers = [as_datetime if isinstance(f, DateTimeField) else as_json if isinstance(f, JSONField) else None
               for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    rows = rows_for_ids(f"SELECT {columns} FROM {OutboxMessage._meta.db_table} WHERE id {{ids}}", ids)
    messages = [OutboxMessage.from_db(connection.alias, None,
                                      [read(v) if read else v for read, v in zip(readers, row, strict=True)])
                for row in rows]
    messages.sort(key=lambda m: (m.lane, m.due_at, m.pk))
    return messages


def _over_cap(batch: list[OutboxMessage], now: datetime) -> dict[int, str]:
    """Caps checked again at send time, against what this channel really sent the patient in the last
    day and week (a message deferred by quiet hours may meet others sent in the meantime)."""
    capped = [m for m in batch if m.payload.get("cap")]
    if not capped:
        return {}
    sent: dict[int, list[datetime]] = defaultdict(list)
    for patient_id, finished in rows_for_ids(
            f"SELECT patient_id, finished_at FROM {OutboxMessage._meta.db_table} "
            "WHERE channel = %s AND status = %s AND finished_at >= %s AND patient_id {ids}",
            {m.patient_id for m in capped},
            [capped[0].channel, "done", db_datetime(now - timedelta(days=7))]):
        sent[patient_id].append(as_datetime(finished))
    over: dict[int, str] = {}
    for message in sorted(capped, key=lambda m: (m.lane, m.due_at, m.pk)):
        cap, times = message.payload["cap"], sent[message.patient_id]
        if "day" in cap and sum(1 for at in times if at > now - timedelta(days=1)) >= cap["day"]:
            over[message.pk] = f"cap at send time: {cap['day']} {message.channel} a day"
        elif "week" in cap and len(times) >= cap["week"]:
            over[message.pk] = f"cap at send time: {cap['week']} {message.channel} a week"
        else:
            times.append(now)  # this one will go: it counts for the next in the batch
    return over


def _send(channel: str, batch: list[OutboxMessage], leases: Leases, *, owner: str, now: datetime, lease: timedelta,
          report: DeliveryReport) -> None:
    """Hold the batch, hand what is still this worker's to the channel and record the outcome, in one
    transaction: on PostgreSQL no other worker takes these messages until it ends, and a worker killed
    in the middle leaves them claimed, to be sent again under the same keys (the email's Message-ID,
    the provider's idempotency key: `channels.keys`). The channel's audit entries (whose contact
    details it opened) are appended at the end, so the audit chain is not held while the provider
    works."""
    with atomic_audited_last():
        if connection.vendor == "postgresql":
            # A worker stopped (not killed) while it holds its batch would keep it for as long as it stays
            # stopped: silent for a lease, its session is ended and the batch goes to another worker.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, true)",
                               [str(int(lease.total_seconds() * 1000))])
        held = queue.hold(OutboxMessage, {m.pk: leases[m.pk] for m in batch}, owner=owner)
        report.lost += len(batch) - len(held)
        batch = [m for m in batch if m.pk in held]
        if not batch:
            return
        try:
            outcomes = adapter_for(channel).deliver(batch, now)
        except DatabaseError:  # the transaction is spoilt: the batch stays claimed and goes again under its keys
            raise
        except Exception as error:  # a provider outage: every message of the batch is retried later
            log.warning("channel %s failed for a batch of %d: %s", channel, len(batch), type(error).__name__)
            for message in batch:
                status = queue.fail(OutboxMessage, message.pk, generation=held[message.pk], owner=owner, now=now,
                                    error=f"{channel}: {error}")
                report.dead += status == "dead"
                report.retried += status == "pending"
            return
        sent = {}
        for message in batch:
            outcome = outcomes.get(message.pk)
            if outcome is not None and outcome.status == "sent":
                sent[message.pk] = held[message.pk]
                continue
            error = outcome.error if outcome else "the channel gave no answer"
            status = queue.fail(OutboxMessage, message.pk, generation=held[message.pk], owner=owner, now=now,
                                error=error, permanent=outcome is not None and outcome.status == "permanent")
            report.dead += status == "dead"
            report.retried += status == "pending"
        # What the provider's reports will name, written with the completion and fenced like it.
        named = {pk: outcomes[pk].provider_id for pk in sent if outcomes[pk].provider_id}
        report.sent += queue.complete(OutboxMessage, sent, owner=owner, now=now, also={"delivery_status": "sent"},
                                      each={"provider_id": named})
