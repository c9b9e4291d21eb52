"""Journey maps, personas and the atlas that links them.

A journey (patient, caregiver or prescriber) has numbered versions: the first is usually the team's
hypothesis, later ones are revisions made on evidence, each saying what changed and which verdicts
led to it. A version's map is one JSON document (`documents.JourneyMap`), written once and never
changed, so that any two versions can be compared and the history stays what it was."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

KINDS = [("patient", _("Patient")), ("caregiver", _("Caregiver")), ("hcp", _("Prescriber (HCP)"))]
KIND_CODES = [code for code, _label in KINDS]


class Persona(models.Model):
    """Who a journey is about: goals, needs, frustrations, literacy, support and digital habits. A
    patient persona's `needs` (need code → 0–1) place it among the program's patients."""

    class Literacy(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="personas")
    code = models.SlugField(max_length=60)
    kind = models.CharField(max_length=10, choices=KINDS)
    name = models.CharField(max_length=120)
    summary = models.CharField(max_length=500, blank=True)
    goals = models.JSONField(default=list)
    needs = models.JSONField(default=dict)
    frustrations = models.JSONField(default=list)
    health_literacy = models.CharField(max_length=6, choices=Literacy.choices, default=Literacy.MEDIUM)
    support = models.CharField(max_length=300, blank=True)
    digital_habits = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="persona_code_once"),
            models.CheckConstraint(condition=Q(kind__in=KIND_CODES), name="persona_kind_valid"),
            models.CheckConstraint(condition=Q(health_literacy__in=["low", "medium", "high"]),
                                   name="persona_literacy_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class Journey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_USE = "in_use", _("In use")
        ARCHIVED = "archived", _("Archived")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="journeys")
    code = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KINDS)
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="journeys")
    markets = models.JSONField(default=list)  # country codes; empty: every market of the program
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "kind", "title"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="journey_code_once"),
            models.CheckConstraint(condition=Q(kind__in=KIND_CODES), name="journey_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_use", "archived"]),
                                   name="journey_status_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class JourneyVersion(models.Model):
    class Basis(models.TextChoices):
        HYPOTHESIS = "hypothesis", _("Hypothesis")
        EVIDENCE = "evidence", _("Evidence")

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    basis = models.CharField(max_length=10, choices=Basis.choices)
    map = models.JSONField()  # documents.JourneyMap, as validated when saved
    note = models.CharField(max_length=2000, blank=True)  # what changed and why
    # The verdicts that led to this revision.
    evidence = models.ManyToManyField("insights.Hypothesis", blank=True, related_name="journey_versions")
    created_by_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["journey", "number"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "number"], name="journey_version_once"),
            models.CheckConstraint(condition=Q(basis__in=["hypothesis", "evidence"]),
                                   name="journey_version_basis_valid"),
            models.CheckConstraint(condition=Q(number__gte=1), name="journey_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.journey} v{self.number}"


class JourneyLink(models.Model):
    """The atlas: a patient's journey linked with their caregiver's and their prescriber's."""

    source = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="links_in")
    relation = models.CharField(max_length=120)  # "cared for by", "prescribed by", …

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="journey_link_once"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="journey_link_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"
