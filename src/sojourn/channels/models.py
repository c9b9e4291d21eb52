"""The outbox: every message or task a decision made, waiting for its channel; and the recording
channel, where messages land when no real provider is connected (development, tests, benchmarks)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sojourn.core.constraints import hex_digest, only
from sojourn.core.models import QueuedWork

CHANNELS = ["web", "email", "sms", "print", "phone"]
KINDS = ["content", "nurse_task", "print_block", "questionnaire"]


class OutboxMessage(QueuedWork):
    """One delivery to make. Written in the transaction of the decision that made it; claimed by a worker."""

    # Both found by the indexes below, which lead with them.
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="outbox", db_index=False)
    channel = models.CharField(max_length=10)
    kind = models.CharField(max_length=20)
    payload = models.JSONField(default=dict)  # content key, questionnaire, task reason: never personal data
    decision_key = models.CharField(max_length=160, blank=True)  # the dialogue decision that made it
    rule_key = models.CharField(max_length=60, blank=True)
    delivery_status = models.CharField(max_length=12, blank=True)  # sent, delivered, failed, bounced, …
    provider_id = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [
            *QueuedWork.queue_indexes("outbox"),
            models.Index(fields=["patient", "channel", "created_at"], name="outbox_patient_idx"),
            # What was delivered since a moment: the journey facts' refresh reads it.
            models.Index(fields=["program", "finished_at"], name="outbox_finished_idx"),
            # The provider's delivery reports and bounces name the message by its id.
            models.Index(fields=["provider_id"], name="outbox_provider_idx"),
        ]
        constraints = [
            *QueuedWork.queue_constraints("outbox"),
            models.CheckConstraint(condition=Q(channel__in=CHANNELS), name="outbox_channel_valid"),
            models.CheckConstraint(condition=Q(kind__in=KINDS), name="outbox_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.pk}"

    @property
    def summary(self) -> str:
        """What it is about, for the console: the content key, the task's reason or the questionnaire."""
        return str(self.payload.get("content") or self.payload.get("reason") or self.payload.get("questionnaire")
                   or "")


class RecordedDelivery(models.Model):
    """What the recording channel received: one row per idempotency key, so a retry is visible as
    `attempts` going up, never as a second message."""

    message_id = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=160, unique=True)
    channel = models.CharField(max_length=10)
    patient_id = models.BigIntegerField()
    payload = models.JSONField(default=dict)
    recorded_at = models.DateTimeField()
    deliveries = models.PositiveIntegerField(default=1)  # above 1: the same message was handed over again

    def __str__(self) -> str:
        return self.idempotency_key


class PortalCard(models.Model):
    """A card a rule put on a patient's personal page. Its words are resolved again each time the page
    is drawn, so a card whose content was withdrawn disappears at once."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="portal_cards")
    message_id = models.BigIntegerField(unique=True)  # the outbox message that delivered it
    content_code = models.CharField(max_length=60, blank=True)
    questionnaire = models.CharField(max_length=100, blank=True)  # a questionnaire to answer, instead of content
    rule_key = models.CharField(max_length=60, blank=True)
    delivered_at = models.DateTimeField()
    dismissed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "delivered_at"], name="portal_card_patient_idx")]

    def __str__(self) -> str:
        return f"{self.content_code} for {self.patient_id}"


class ChannelBlock(models.Model):
    """A channel that cannot reach a patient any more (a hard bounce): messages fail at once with the
    reason instead of bouncing again."""

    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="channel_blocks")
    channel = models.CharField(max_length=10)
    reason = models.CharField(max_length=300)
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "channel"], name="channel_block_once")]

    def __str__(self) -> str:
        return f"{self.channel} blocked for {self.patient_id}"


class NurseTask(models.Model):
    """A call a nurse makes: from a rule (through the outbox) or a call-back a nurse arranged."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Claimed")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        VOICEMAIL = "voicemail", _("Voicemail")
        CALL_BACK = "call_back", _("Call back")
        UNREACHABLE = "unreachable", _("Unreachable")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="nurse_tasks")
    source_key = models.CharField(max_length=160, unique=True)  # the outbox message or the earlier call
    reason = models.CharField(max_length=200)
    script_code = models.CharField(max_length=60, blank=True)  # an approved call script
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    # A clinical flag the instrument marks urgent (PHQ-9 item 9): first in the queue, due at once.
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by_id = models.BigIntegerField(null=True)
    claimed_by_name = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    call_back_at = models.DateTimeField(null=True)
    notes_sealed = models.BinaryField(null=True)  # sealed with the patient's data key
    adverse_event = models.BooleanField(default=False)  # any yes among the safety answers
    # question: yes/no, asked on every reached call; None where no one was reached (or before they were asked)
    safety_answers = models.JSONField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True)
    completed_by_id = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["program", "status", "due_at"], name="nurse_task_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "claimed", "done", "cancelled"]),
                                   name="nurse_task_status_valid"),
            models.CheckConstraint(condition=Q(outcome__in=["", "reached", "voicemail", "call_back", "unreachable"]),
                                   name="nurse_task_outcome_valid"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(outcome=""), name="nurse_task_done_has_outcome"),
            models.CheckConstraint(condition=~Q(outcome="call_back") | Q(call_back_at__isnull=False),
                                   name="nurse_task_call_back_has_time"),
            models.CheckConstraint(condition=~Q(status="claimed") | Q(claimed_by_id__isnull=False),
                                   name="nurse_task_claim_has_nurse"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} for {self.patient_id}"


class PrintIssue(models.Model):
    """One issue of the printed magazine (such as 2026-12): a PDF per patient, sent as one batch."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    # Where its files were written (<drop folder>/<program>/<issue>), so that an erasure finds them.
    folder = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "label"], name="print_issue_once"),
            models.CheckConstraint(condition=only("label", "[A-Za-z0-9]", "[A-Za-z0-9._-]"), name="print_issue_label"),
        ]

    def __str__(self) -> str:
        return self.label


class PrintBlock(models.Model):
    """A block a rule put in the patient's next magazine; taken by the next issue built."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="print_blocks")
    message_id = models.BigIntegerField(unique=True)
    content_code = models.CharField(max_length=60)
    added_at = models.DateTimeField()
    issue = models.ForeignKey(PrintIssue, null=True, on_delete=models.PROTECT, related_name="blocks")


class PrintCopy(models.Model):
    """One patient's copy of an issue: the file handed to the print house and what came back."""

    issue = models.ForeignKey(PrintIssue, on_delete=models.PROTECT, related_name="copies")
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="print_copies")
    file_name = models.CharField(max_length=80)
    sha256 = models.CharField(max_length=64)  # empty from composing the copy until its PDF is written
    blocks = models.JSONField(default=list)  # [{code, version, approval_code}]
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "patient"], name="print_copy_once"),
            models.UniqueConstraint(fields=["issue", "file_name"], name="print_copy_file_once"),
            models.CheckConstraint(condition=Q(sha256="") | hex_digest("sha256"),
                                   name="print_copy_sha256"),
        ]
