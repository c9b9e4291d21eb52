"""What the KPIs need to know of each patient's journey, derived from their events, answers and
messages by `services.facts.refresh_journey_facts` and never written by hand. The dashboard is
aggregates over these rows: one row a patient instead of reading every event again on each view.
And the journey hypotheses the team tests against the data.

No identity is held here: a pseudonymous patient's key, their market and dates, and derived figures."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JourneyFacts(models.Model):
    patient = models.OneToOneField("people.Patient", primary_key=True, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey("core.Program", on_delete=models.CASCADE, related_name="+")
    market = models.ForeignKey("core.Market", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10)
    stage = models.ForeignKey("tracking.Stage", null=True, on_delete=models.SET_NULL, related_name="+")
    consented_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True)
    # A meaningful interaction in days 16–30 after confirming, not having withdrawn by day 30.
    active_at_30_days = models.BooleanField(default=False)
    last_meaningful_at = models.DateTimeField(null=True)
    # The first needs analysis, the need it scored highest, and whether content for that need was
    # delivered within 14 days of it.
    needs_done_at = models.DateTimeField(null=True)
    top_need = models.CharField(max_length=60, blank=True)
    top_need_served = models.BooleanField(default=False)
    reached_web_at = models.DateTimeField(null=True)
    reached_email_at = models.DateTimeField(null=True)
    reached_sms_at = models.DateTimeField(null=True)
    reached_print_at = models.DateTimeField(null=True)  # the last magazine the print house delivered
    who5_change = models.FloatField(null=True)  # first WHO-5 to the first one 10–14 weeks later
    # Refills as day numbers (days since 1970, UTC) so that days covered as of any moment is
    # arithmetic in SQL: covered within 180 days of the first fill, up to the end of the last stretch.
    first_refill_day = models.FloatField(null=True)
    covered_days = models.FloatField(null=True)
    covered_until_day = models.FloatField(null=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["program", "market", "status", "confirmed_at"],
                                name="journey_facts_market_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(covered_days__isnull=True) | Q(covered_days__gte=0)
                                   & Q(covered_days__lte=180), name="journey_facts_covered_days_range"),
            models.CheckConstraint(condition=Q(top_need_served=False) | ~Q(top_need=""),
                                   name="journey_facts_served_needs_a_top_need"),
        ]


class StageStay(models.Model):
    """A finished stay in a journey stage: from the change into it to the change out of it."""

    patient = models.ForeignKey("people.Patient", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey("core.Program", on_delete=models.CASCADE, related_name="+")
    market = models.ForeignKey("core.Market", on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=60)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField()
    days = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["program", "market", "stage", "days"], name="stage_stay_median_idx")]
        constraints = [models.CheckConstraint(condition=Q(days__gte=0), name="stage_stay_days_not_negative")]


class FactsMark(models.Model):
    """How far `refresh_journey_facts` has read, so that the next refresh reads only what is new."""

    program = models.OneToOneField("core.Program", primary_key=True, on_delete=models.CASCADE, related_name="+")
    last_event_id = models.BigIntegerField(default=0)
    last_patient_id = models.BigIntegerField(default=0)
    # Erasures change a patient's status without an event: they are found in the audit trail.
    last_audit_seq = models.BigIntegerField(default=0)
    outbox_since = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)


class Hypothesis(models.Model):
    """A statement the team believes about a stage of the journey, with the metric that tests it, a
    claim about its value and the smallest difference that would matter. Verdicts are computed from
    the data when asked (`insights.verdicts`), never stored by hand."""

    class Claim(models.TextChoices):
        AT_LEAST = "at_least", _("at least the threshold")
        AT_MOST = "at_most", _("at most the threshold")
        HIGHER = "higher", _("higher than in the other markets")
        LOWER = "lower", _("lower than in the other markets")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="hypotheses")
    stage = models.ForeignKey("tracking.Stage", on_delete=models.PROTECT, related_name="hypotheses")
    statement = models.CharField(max_length=500)
    metric = models.JSONField()  # see insights.metrics
    claim = models.CharField(max_length=10, choices=Claim.choices)
    threshold = models.FloatField(null=True)
    # The smallest difference from the threshold (or between markets) that would change a decision:
    # how many patients a conclusive answer needs is worked out for it.
    smallest_difference = models.FloatField()
    alpha = models.FloatField(default=0.05)
    created_by_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["program", "stage__position", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(claim__in=["at_least", "at_most", "higher", "lower"]),
                                   name="hypothesis_claim_valid"),
            models.CheckConstraint(condition=Q(claim__in=["at_least", "at_most"], threshold__isnull=False)
                                   | Q(claim__in=["higher", "lower"], threshold__isnull=True),
                                   name="hypothesis_threshold_with_its_claim"),
            models.CheckConstraint(condition=Q(smallest_difference__gt=0), name="hypothesis_difference_positive"),
            models.CheckConstraint(condition=Q(alpha__gt=0) & Q(alpha__lte=0.2), name="hypothesis_alpha_range"),
            models.CheckConstraint(condition=~Q(statement=""), name="hypothesis_statement_present"),
        ]

    def __str__(self) -> str:
        return self.statement


class SurveyImport(models.Model):
    """An outside survey export (patient community, market research) imported with a column mapping.
    The file's hash makes importing the same file again a no-op."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="survey_imports")
    source = models.CharField(max_length=200)  # who ran the survey, e.g. "Psoriasis community panel 2026"
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    mapping = models.JSONField()
    rows = models.PositiveIntegerField()
    answers = models.PositiveIntegerField()
    imported_by_id = models.BigIntegerField(null=True)
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "-imported_at"]
        constraints = [models.UniqueConstraint(fields=["program", "sha256"], name="survey_import_file_once")]

    def __str__(self) -> str:
        return f"{self.source} ({self.filename})"


class SurveyAnswer(models.Model):
    """One answer of one pseudonymous respondent to one mapped question."""

    survey = models.ForeignKey(SurveyImport, on_delete=models.CASCADE, related_name="answer_rows")
    program = models.ForeignKey("core.Program", on_delete=models.CASCADE, related_name="+")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=60)
    respondent = models.CharField(max_length=64)
    row = models.PositiveIntegerField()
    answered_on = models.DateField(null=True)
    question = models.CharField(max_length=60)
    value = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["program", "question", "stage"], name="survey_answer_question_idx")]
        constraints = [
            models.UniqueConstraint(fields=["survey", "respondent", "question"], name="survey_answer_once"),
            models.CheckConstraint(condition=~Q(respondent=""), name="survey_answer_respondent_present"),
        ]
