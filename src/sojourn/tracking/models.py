"""Needs and profiles: the program's need taxonomy and journey stages, the evidence about each
patient's needs (stated in a needs analysis, inferred from behaviour), and the profile built from it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sojourn.core.constraints import dotted_code


class Need(models.Model):
    """One need of the program's taxonomy (itch, injection confidence, …)."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="needs")
    code = models.SlugField(max_length=60)
    labels = models.JSONField(default=dict)  # {"en": "Itch", "de": "Juckreiz", …}
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="need_code_once")]

    def __str__(self) -> str:
        return self.code

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.code


class Stage(models.Model):
    """A stage of the program's patient journey (diagnosis, treatment initiation, …)."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="stages")
    code = models.SlugField(max_length=60)
    labels = models.JSONField(default=dict)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "position"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="stage_code_once")]

    def __str__(self) -> str:
        return self.code

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.code


class NeedMapping(models.Model):
    """Declared: a questionnaire scale measures a need; its value over `scale_max` is the explicit score."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="mappings")
    questionnaire_url = models.CharField(max_length=255)
    scale = models.CharField(max_length=60)
    scale_max = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["need", "questionnaire_url", "scale"], name="need_mapping_once"),
            models.CheckConstraint(condition=Q(scale_max__gt=0), name="need_mapping_max_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_url}#{self.scale} → {self.need_id}"


class NeedSignal(models.Model):
    """Behaviour that says something about a need: content tagged with it viewed, clicked or rated,
    a call note filed under it. Weights decay with age when the profile is computed."""

    class Kind(models.TextChoices):
        CONTENT_VIEWED = "content_viewed", "content viewed"
        CONTENT_CLICKED = "content_clicked", "content clicked"
        CONTENT_RATED = "content_rated", "content rated helpful"
        CALL_NOTE = "call_note", "call note"

    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="need_signals",
                                db_index=False)  # need_signal_idx leads with it
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    weight = models.FloatField()
    occurred_at = models.DateTimeField()
    detail = models.JSONField(default=dict)  # content id, call category: never personal data

    class Meta:
        indexes = [models.Index(fields=["patient", "need", "occurred_at"], name="need_signal_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["content_viewed", "content_clicked", "content_rated",
                                                         "call_note"]), name="need_signal_kind_valid"),
            models.CheckConstraint(condition=Q(weight__gte=-1) & Q(weight__lte=1), name="need_signal_weight_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.need_id}"


class PatientNeed(models.Model):
    """The computed score of one need for one patient, with how it was reached."""

    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="needs",
                                db_index=False)  # patient_need_once leads with it
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="patient_scores")
    explicit = models.FloatField(null=True)  # from the latest needs analysis, 0–1
    implicit = models.FloatField(default=0)  # from behaviour, decayed, −0.5…0.5
    combined = models.FloatField()  # 0–1
    confidence = models.FloatField()  # 0–1
    explanation = models.JSONField(default=list)  # [{"source", "detail", "value"}]
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "need"], name="patient_need_once"),
            models.CheckConstraint(condition=Q(combined__gte=0) & Q(combined__lte=1), name="patient_need_combined_0_1"),
            models.CheckConstraint(condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                                   name="patient_need_confidence_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.need_id}={self.combined:.2f}"


class PatientProfile(models.Model):
    class Engagement(models.TextChoices):
        NEW = "new", "new"
        HIGH = "high", "high"
        MEDIUM = "medium", "medium"
        LOW = "low", "low"
        LAPSED = "lapsed", "lapsed"

    patient = models.OneToOneField("people.Patient", on_delete=models.CASCADE, related_name="profile")
    stage = models.ForeignKey(Stage, null=True, on_delete=models.PROTECT, related_name="+")
    stage_since = models.DateTimeField(null=True)
    engagement = models.CharField(max_length=8, choices=Engagement.choices, default=Engagement.NEW)
    last_meaningful_at = models.DateTimeField(null=True)
    interactions_30d = models.PositiveIntegerField(default=0)
    # The combined score of every need by code, kept with PatientNeed: the rules read one row per patient.
    needs = models.JSONField(default=dict)
    updated_at = models.DateTimeField()
    # Raised by every transaction that changes what the rules read about the patient (this row, need
    # scores, flags and content level, capped messages): a batch of events decided outside the write
    # transaction is decided again for a patient whose revision moved meanwhile (services/ingestion.py).
    revision = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(engagement__in=["new", "high", "medium", "low", "lapsed"]),
                                              name="profile_engagement_valid")]

    def __str__(self) -> str:
        return f"profile of {self.patient_id}"


class EventType(models.Model):
    """An event type a program defines beside the built-in ones (tracking/event_types.py)."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="event_types")
    code = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    fields = models.JSONField(default=dict)  # {"name": {"type", "required", "choices", "max_length"}}
    meaningful = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="event_type_code_once"),
            models.CheckConstraint(condition=dotted_code("code"),
                                   name="event_type_code_dotted"),
        ]

    def __str__(self) -> str:
        return self.code


class Event(models.Model):
    """One touchpoint, append-only. `client_id` is the sender's id for it: sending it again is a no-op."""

    # Both found by event_client_id_once and event_patient_time_idx, which lead with them: each index
    # is kept up on every event written.
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=60)
    client_id = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    source = models.CharField(max_length=20)  # api, portal, worker, sms, console, simulator
    data = models.JSONField(default=dict)  # checked against the type; ids and codes, never personal data

    class Meta:
        indexes = [
            models.Index(fields=["patient", "occurred_at"], name="event_patient_time_idx"),
            models.Index(fields=["program", "type", "occurred_at"], name="event_type_time_idx"),
            models.Index(fields=["occurred_at"], name="event_time_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["program", "client_id"], name="event_client_id_once"),
            models.CheckConstraint(condition=~Q(client_id=""), name="event_client_id_present"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.client_id}"
