"""Questionnaires (FHIR R4 resources, versioned and reviewed) and the responses patients give."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Questionnaire(models.Model):
    """One version of an instrument in a program. The FHIR JSON is the source of truth."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        RETIRED = "retired", _("Retired")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="questionnaires")
    url = models.CharField(max_length=255)  # the canonical URL: one instrument across its versions
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    resource = models.JSONField()
    scoring = models.JSONField(default=dict)
    languages = models.JSONField(default=list)
    sha256 = models.CharField(max_length=64)
    created_by_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True)
    approved_by_id = models.BigIntegerField(null=True)
    approved_at = models.DateTimeField(null=True)
    retired_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["program", "url", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["program", "url", "version"], name="questionnaire_version_once"),
            models.UniqueConstraint(fields=["program", "url"], condition=Q(status="approved"),
                                    name="questionnaire_one_approved_version"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review", "approved", "retired"]),
                                   name="questionnaire_status_valid"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review"]) | Q(approved_at__isnull=False),
                                   name="questionnaire_approved_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class QuestionnaireResponse(models.Model):
    """A patient's answers, as a FHIR QuestionnaireResponse item tree, with the scores of a completed one."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in-progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Patient portal")
        SMS = "sms", _("Text message")
        NURSE = "nurse", _("Nurse call")
        API = "api", _("Partner system")
        IMPORT = "import", _("Imported")

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="responses")
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    source = models.CharField(max_length=8, choices=Source.choices)
    items = models.JSONField(default=list)  # FHIR QuestionnaireResponse.item
    scores = models.JSONField(default=list)  # [{"scale", "value", "band", "answered", "missing", "reason"}]
    flags = models.JSONField(default=list)  # the codes of the clinical flags the answers raise (scoring.py)
    # An imported response: its identifier in the file (system|value) or its content's digest, so
    # that importing it again changes nothing.
    source_key = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=10)
    entered_by_id = models.BigIntegerField(null=True)  # the nurse who typed the answers, if any
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "questionnaire", "status"], name="response_patient_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["in-progress", "completed"]), name="response_status_valid"),
            models.CheckConstraint(condition=Q(status="in-progress") | Q(completed_at__isnull=False),
                                   name="response_completed_has_time"),
            models.CheckConstraint(condition=Q(source__in=["portal", "sms", "nurse", "api", "import"]),
                                   name="response_source_valid"),
            models.UniqueConstraint(fields=["patient", "source_key"], condition=~Q(source_key=""),
                                    name="response_imported_once"),
            # One response in progress per patient and questionnaire: resuming finds it.
            models.UniqueConstraint(fields=["patient", "questionnaire"], condition=Q(status="in-progress"),
                                    name="response_one_in_progress"),
        ]

    def __str__(self) -> str:
        return f"response {self.pk} to {self.questionnaire_id}"


class ValueSet(models.Model):
    """A FHIR R4 ValueSet a program imported for its questionnaires' answerValueSet. A version never
    changes once imported (new content is a new FHIR version), so a questionnaire resolved against it
    reads the same options for as long as it is answered."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="value_sets")
    url = models.CharField(max_length=255)  # the canonical URL answerValueSet names
    version = models.CharField(max_length=64, blank=True, default="")  # FHIR's ValueSet.version, may be empty
    resource = models.JSONField()
    sha256 = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by_id = models.BigIntegerField(null=True)
    # The questionnaire versions whose answerValueSet resolved to this one at their import: pinned, so that
    # importing a newer version of the value set never changes a form already reviewed.
    questionnaires = models.ManyToManyField(Questionnaire, related_name="value_sets", blank=True)

    class Meta:
        ordering = ["program", "url", "version"]
        constraints = [
            models.UniqueConstraint(fields=["program", "url", "version"], name="value_set_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.url}|{self.version}" if self.version else self.url
