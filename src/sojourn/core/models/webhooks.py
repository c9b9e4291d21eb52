"""Signed callbacks already acted on, so that a provider's retry or a replay changes nothing twice."""

from __future__ import annotations

from django.db import models


class WebhookReceipt(models.Model):
    """One webhook-id from one source (a provider's channel), kept for as long as it may be retried."""

    source = models.CharField(max_length=20)
    webhook_id = models.CharField(max_length=120)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "webhook_id"], name="webhook_receipt_once")]
        indexes = [models.Index(fields=["received_at"], name="webhook_receipt_at_idx")]
