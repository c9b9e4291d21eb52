"""The shape shared by the database work queues (the dialogue agenda, the channels outbox)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

QUEUE_STATUSES = ["pending", "claimed", "done", "failed", "dead", "cancelled"]


class QueuedWork(models.Model):
    """A row a worker claims with a lease, executes, and completes; retried with backoff, then dead."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        CLAIMED = "claimed", "claimed"
        DONE = "done", "done"
        DEAD = "dead", "dead"  # gave up after the last attempt; the reason is in last_error
        CANCELLED = "cancelled", "cancelled"  # consent withdrawn, rule retired, …

    class Lane(models.IntegerChoices):
        URGENT = 0, "urgent"  # one-time codes, safety acknowledgements: never behind a campaign
        NORMAL = 1, "normal"

    due_at = models.DateTimeField()
    lane = models.PositiveSmallIntegerField(default=Lane.NORMAL)
    status = models.CharField(max_length=10, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True)
    # The fencing token: raised by one at every claim and remembered by the claiming worker, which
    # sends, fails or completes the row only while the row still carries it (core.services.queue).
    # A database default too, since the queues' bulk inserts name their columns.
    lease_generation = models.PositiveIntegerField(default=0, db_default=0)
    last_error = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=160, unique=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)

    class Meta:
        abstract = True

    @classmethod
    def queue_indexes(cls, prefix: str) -> list[models.Index]:
        """Partial indexes: a row is in the due index while pending and in the lease index while claimed,
        and leaves both when it is done. Finished rows, the bulk of the table, cost no index upkeep
        when their status changes, and the claim reads an index holding only what is waiting."""
        return [
            models.Index(fields=["lane", "due_at", "id"], condition=Q(status="pending"), name=f"{prefix}_pending_idx"),
            models.Index(fields=["lease_until"], condition=Q(status="claimed"), name=f"{prefix}_claimed_idx"),
            # The dead letters the console lists with their reason: few rows, so a small index.
            models.Index(fields=["program", "due_at"], condition=Q(status="dead"), name=f"{prefix}_dead_idx"),
        ]

    @classmethod
    def queue_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(condition=Q(status__in=["pending", "claimed", "done", "dead", "cancelled"]),
                                   name=f"{prefix}_status_valid"),
            models.CheckConstraint(condition=~Q(status="claimed") | (Q(lease_until__isnull=False) & ~Q(lease_owner="")),
                                   name=f"{prefix}_claim_has_lease"),
            models.CheckConstraint(condition=Q(lane__in=[0, 1]), name=f"{prefix}_lane_valid"),
        ]
