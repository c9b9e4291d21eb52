"""Key material, always stored wrapped (encrypted) under the master key."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class DataKey(models.Model):
    """One data subject's key: every PII field of that subject is sealed with it.

    Destroying it (crypto-shredding) leaves the sealed fields in place but unreadable forever,
    while the pseudonymous records that point at the subject stay intact for analytics.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wrapped = models.BinaryField(null=True)
    master_key_id = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True)
    destroyed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["master_key_id"], name="datakey_master_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(destroyed_at__isnull=True) & Q(wrapped__isnull=False) & ~Q(master_key_id=""))
                | (Q(destroyed_at__isnull=False) & Q(wrapped__isnull=True) & Q(master_key_id="")),
                name="datakey_live_xor_destroyed",
            ),
        ]


class SystemKey(models.Model):
    """A platform-wide key (blind index, audit chain), wrapped like data keys so rotation covers it."""

    name = models.CharField(max_length=40, unique=True)
    wrapped = models.BinaryField()
    master_key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True)
