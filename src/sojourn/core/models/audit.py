"""The audit trail: append-only entries, each chained to the one before by a keyed MAC."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q


class AuditEntry(models.Model):
    """Who did what to which subject, when, with the state before and after.

    ``mac`` covers every other column and the previous entry's MAC, keyed by a system key that
    the database alone does not hold, so a row altered, inserted or deleted in the database breaks
    the chain that ``sojourn audit verify`` walks.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80)
    subject_type = models.CharField(max_length=80)
    subject_id = models.CharField(max_length=64, blank=True)
    program_id = models.BigIntegerField(null=True)
    market = models.CharField(max_length=2, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
            models.Index(fields=["program_id", "at"], name="audit_program_at_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="audit_seq_positive"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit entries are append-only")


class AuditChainHead(models.Model):
    """The last entry of the chain; locking this one row serializes appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_head_single_row")]
