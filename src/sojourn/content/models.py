"""The content library: items tagged for needs, stages, levels, channels and markets; versions that
medical, legal and regulatory review approves with a code and an expiry date; a variant per locale.

Only an approved, unexpired version's variant in the patient's own locale ever reaches a patient
(`content.queries.resolve`); the database refuses an approval without code, expiry and approver,
and a second approved version of one item.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sojourn.core.constraints import only


class ContentItem(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        TIP = "tip", _("Tip")
        CHECKLIST = "checklist", _("Checklist")
        VIDEO = "video", _("Video link")
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")
        PRINT_BLOCK = "print_block", _("Print block")
        CALL_SCRIPT = "call_script", _("Call script")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="content_items")
    code = models.SlugField(max_length=60)  # what rules and events name: "itch-tips"
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)  # the team's name for it, never shown to patients
    needs = models.JSONField(default=list)  # need codes of the program
    stages = models.JSONField(default=list)  # stage codes; empty: every stage
    level = models.PositiveSmallIntegerField(default=1)  # content level the patient must have unlocked
    channels = models.JSONField(default=list)  # where it may be used, within what its kind allows
    markets = models.JSONField(default=list)  # country codes; empty: every market of the program
    segment_budget = models.PositiveSmallIntegerField(default=2)  # text messages: most segments allowed
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="content_item_code_once"),
            models.CheckConstraint(condition=Q(kind__in=["article", "tip", "checklist", "video", "email", "sms",
                                                         "print_block", "call_script"]),
                                   name="content_item_kind_valid"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=9), name="content_item_level_1_to_9"),
            models.CheckConstraint(condition=Q(segment_budget__gte=1, segment_budget__lte=10),
                                   name="content_item_segment_budget_1_to_10"),
            models.CheckConstraint(condition=only("code", "[a-z0-9]", "[a-z0-9-]"), name="content_item_code_slug"),
        ]

    def __str__(self) -> str:
        return self.code


class ContentVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    item = models.ForeignKey(ContentItem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField()
    created_by_id = models.BigIntegerField(null=True)
    submitted_at = models.DateTimeField(null=True)
    submitted_by_id = models.BigIntegerField(null=True)
    approval_code = models.CharField(max_length=60, blank=True)  # the MLR job code printed on material
    expires_on = models.DateField(null=True)  # last day of use
    approved_at = models.DateTimeField(null=True)
    approved_by_id = models.BigIntegerField(null=True)
    ended_at = models.DateTimeField(null=True)  # superseded, expired or withdrawn
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="content_version_number_once"),
            models.UniqueConstraint(fields=["item"], condition=Q(status="approved"),
                                    name="content_one_approved_version"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review", "approved", "superseded", "expired",
                                                           "withdrawn"]), name="content_version_status_valid"),
            # Whatever was approved keeps its code, expiry and approver, whatever happened to it since.
            models.CheckConstraint(
                condition=Q(status__in=["draft", "in_review"]) | Q(status="withdrawn", approved_at__isnull=True)
                | (~Q(approval_code="") & Q(expires_on__isnull=False) & Q(approved_by_id__isnull=False)
                   & Q(approved_at__isnull=False)),
                name="content_approval_complete"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.number}"


class ContentVariant(models.Model):
    """The words of one version in one locale. Text may hold variables such as {given_name}."""

    version = models.ForeignKey(ContentVersion, on_delete=models.CASCADE, related_name="variants")
    locale = models.CharField(max_length=10)  # de-DE, ja-JP, fr-CA…
    title = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=200, blank=True)  # email
    summary = models.CharField(max_length=400, blank=True)  # the card's teaser on the personal page
    body = models.TextField()
    url = models.URLField(max_length=500, blank=True)  # video link

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "locale"], name="content_variant_locale_once"),
            models.CheckConstraint(condition=~Q(body=""), name="content_variant_body_present"),
        ]


class ReviewComment(models.Model):
    version = models.ForeignKey(ContentVersion, on_delete=models.CASCADE, related_name="comments")
    author_id = models.BigIntegerField(null=True)
    author_name = models.CharField(max_length=200)
    locale = models.CharField(max_length=10, blank=True)  # the variant it is about, if one
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="review_comment_text_present")]
