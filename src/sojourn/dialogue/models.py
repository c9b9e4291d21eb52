"""Dialogue rules and what they decide: versioned rule sets under review, the agenda of steps to take
later, each decision with the facts that made a rule fire, and the small state rules keep per patient."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sojourn.core.models import QueuedWork


class RuleSet(models.Model):
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="rule_sets")
    name = models.SlugField(max_length=60)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "name"], name="rule_set_name_once")]

    def __str__(self) -> str:
        return self.name


class RuleSetVersion(models.Model):
    """The rules as written, reviewed and put live together. A version that left draft never changes."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        IN_REVIEW = "in_review", "in review"
        LIVE = "live", "live"
        RETIRED = "retired", "retired"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    rules = models.JSONField(default=list)  # see docs/rules.md
    sha256 = models.CharField(max_length=64, blank=True)  # of the canonical rules, set on submission
    author_id = models.BigIntegerField(null=True)
    reviewer_id = models.BigIntegerField(null=True)
    review_comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True)
    live_at = models.DateTimeField(null=True)
    retired_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["rule_set", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "number"], name="rule_set_version_once"),
            models.UniqueConstraint(fields=["rule_set"], condition=Q(status="live"), name="rule_set_one_live_version"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review", "live", "retired"]),
                                   name="rule_set_version_status_valid"),
            models.CheckConstraint(condition=~Q(status="live") | (Q(reviewer_id__isnull=False) & ~Q(sha256="")),
                                   name="rule_set_live_was_reviewed"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set_id} v{self.number}"


class AgendaItem(QueuedWork):
    """A dialogue step to take later: a rule that waits after an event, a daily schedule, a follow-up."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    # Found by agenda_patient_idx: one index less to keep up on every step written.
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="agenda", db_index=False)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+")
    rule_key = models.CharField(max_length=60)
    kind = models.CharField(max_length=10)  # after, schedule, follow_up
    payload = models.JSONField(default=dict)  # the triggering event's type, time and data; never personal data

    class Meta:
        indexes = [*QueuedWork.queue_indexes("agenda"),
                   models.Index(fields=["patient", "status"], name="agenda_patient_idx")]
        constraints = [
            *QueuedWork.queue_constraints("agenda"),
            models.CheckConstraint(condition=Q(kind__in=["after", "schedule", "follow_up"]), name="agenda_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_key} for {self.patient_id} at {self.due_at:%Y-%m-%d %H:%M}"


class Decision(models.Model):
    """A rule fired: on which event or agenda step, with which facts, and what each action did."""

    # Both found by the indexes below, which lead with them.
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="decisions", db_index=False)
    version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="decisions")
    rule_key = models.CharField(max_length=60)
    key = models.CharField(max_length=160, unique=True)  # the same rule on the same event decides once
    event_id = models.BigIntegerField(null=True)
    agenda_item_id = models.BigIntegerField(null=True)
    decided_at = models.DateTimeField()
    why = models.JSONField(default=dict)  # {"profile.needs.itch": 0.72, …}: the values the condition read
    outcomes = models.JSONField(default=list)  # [{"do": "send", "result": "queued" | "skipped", "reason"}]

    class Meta:
        # A patient's decisions are found through their events (queries.decisions_of): an index led by
        # the patient took a page of its own for nearly every decision a batch of events wrote (659 of
        # a batch's 6,175 at 100,000 events), where one by event id grows at its end. Decisions on no
        # event (scheduled rules) keep one by patient, which ingestion never writes.
        indexes = [models.Index(fields=["event_id"], name="decision_event_idx", condition=Q(event_id__isnull=False)),
                   models.Index(fields=["patient", "decided_at"], name="decision_unprompted_idx",
                                condition=Q(event_id__isnull=True)),
                   models.Index(fields=["program", "decided_at"], name="decision_program_idx")]

    def __str__(self) -> str:
        return f"{self.rule_key} → {self.patient_id}"


class DialogueState(models.Model):
    """What rules remember about a patient: flags they set and the content level they unlocked."""

    patient = models.OneToOneField("people.Patient", on_delete=models.CASCADE, related_name="dialogue_state")
    flags = models.JSONField(default=list)
    content_level = models.PositiveSmallIntegerField(default=1)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"dialogue state of {self.patient_id}"


class SchedulePlan(models.Model):
    """A scheduled rule was planned for everyone in one time zone on one local day (so never twice)."""

    version = models.ForeignKey(RuleSetVersion, on_delete=models.CASCADE, related_name="+")
    rule_key = models.CharField(max_length=60)
    time_zone = models.CharField(max_length=64)
    local_date = models.DateField()
    planned = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "rule_key", "time_zone", "local_date"],
                                               name="schedule_plan_once")]

    def __str__(self) -> str:
        return f"{self.rule_key} {self.time_zone} {self.local_date}"
