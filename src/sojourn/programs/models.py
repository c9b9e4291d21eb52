"""Versions of a program's definition, reviewed like rule sets: the approved one is what the program is."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class DefinitionVersion(models.Model):
    """The definition as written (its YAML text, kept verbatim for the diff and the audit) and as read.
    A version that left draft never changes; approving one applies it and retires the previous."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        IN_REVIEW = "in_review", "in review"
        APPROVED = "approved", "approved"
        RETIRED = "retired", "retired"

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="definitions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    text = models.TextField()
    document = models.JSONField()  # the text as read: what applying it writes
    sha256 = models.CharField(max_length=64)  # of the text
    author_id = models.BigIntegerField(null=True)
    reviewer_id = models.BigIntegerField(null=True)
    review_comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True)
    approved_at = models.DateTimeField(null=True)
    retired_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["program", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="definition_version_once"),
            models.UniqueConstraint(fields=["program"], condition=Q(status="approved"),
                                    name="definition_one_approved"),
            models.UniqueConstraint(fields=["program"], condition=Q(status="draft"), name="definition_one_draft"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review", "approved", "retired"]),
                                   name="definition_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} definition v{self.number}"
