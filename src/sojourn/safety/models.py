"""The safety queue: every possible adverse event or safety signal the program noticed, for
pharmacovigilance to assess within the market's deadline. The safety work builds case handling on it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SafetyReferral(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        ASSESSED = "assessed", "assessed"
        FORWARDED = "forwarded", "forwarded"

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="safety_referrals")
    source = models.CharField(max_length=40)  # rule, nurse call, sms, …
    reason = models.CharField(max_length=300)  # what was noticed, never free text from the patient
    detail = models.JSONField(default=dict)  # rule key, event id, scores: no personal data
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()  # the market's reporting deadline
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        indexes = [models.Index(fields=["program", "status", "due_at"], name="safety_referral_queue_idx")]
        constraints = [models.CheckConstraint(condition=Q(status__in=["open", "assessed", "forwarded"]),
                                              name="safety_referral_status_valid")]

    def __str__(self) -> str:
        return f"safety referral {self.pk}"
