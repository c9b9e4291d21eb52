"""Pharmacovigilance in the program: every possible adverse event is an intake the moment the program
receives it (its day zero); a safety officer decides whether it is an adverse event, a special situation,
a product complaint or not one at all; what is becomes a case with a stable number, forwarded to the
sponsor's drug safety department within the market's deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from sojourn.people.models import Hcp, Patient


class Case(models.Model):
    """One adverse event, special situation or product complaint, as drug safety receives it. Later
    information about it (another intake) is a follow-up: the version goes up, the number stays."""

    class Kind(models.TextChoices):
        ADVERSE_EVENT = "adverse_event", "adverse event"
        SPECIAL_SITUATION = "special_situation", "special situation"
        PRODUCT_COMPLAINT = "product_complaint", "product complaint"

    class Status(models.TextChoices):
        OPEN = "open", "open"  # not yet forwarded to drug safety
        FORWARDED = "forwarded", "forwarded"
        NULLIFIED = "nullified", "nullified"  # opened in error; kept, with the reason, for the inspector

    number = models.CharField(max_length=30, unique=True)  # market, year of day zero, sequence
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="+")
    # Whose case: an enrolled patient's, or one a doctor reported about a patient of theirs, who may not be
    # enrolled (then the patient is known to drug safety by the age and sex the doctor gave).
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="safety_cases")
    hcp = models.ForeignKey("people.Hcp", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    patient_age = models.PositiveSmallIntegerField(null=True, blank=True)  # E2B D.2.2, years at onset
    patient_sex = models.CharField(max_length=1, blank=True)  # E2B D.5: 1 male, 2 female; "" unknown
    kind = models.CharField(max_length=20, choices=Kind.choices)
    day_zero = models.DateTimeField()  # of the first intake: every clock runs from it
    forward_due_at = models.DateTimeField()  # of what drug safety does not have yet (a follow-up's own)
    forwarded_at = models.DateTimeField(null=True, blank=True)  # the latest forwarding (all: forwardings)
    serious = models.BooleanField(null=True)  # None until assessed
    authority_due_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    nullified_reason = models.CharField(max_length=300, blank=True)
    # The assessment (assess_case); the events themselves are Reaction rows. The suspect product is
    # named as the reporter named it (E2B G.k.2.2); expectedness decides the US authority clock.
    suspect_product = models.CharField(max_length=250, blank=True)
    expectedness = models.CharField(max_length=10, blank=True)  # expected, unexpected, unknown; "" until assessed
    # The narrative (E2B H.1), sealed with the patient's key: an erasure takes it, the coded facts stay.
    narrative_sealed = models.BinaryField(null=True, blank=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    # Why a forwarded assessment was corrected without new information (E2B C.1.11.2): the next version
    # reaches drug safety as an amendment; new information (a follow-up) makes it an ordinary version.
    amendment_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["program", "status", "forward_due_at"], name="safety_case_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "forwarded", "nullified"]),
                                   name="safety_case_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=["adverse_event", "special_situation", "product_complaint"]),
                                   name="safety_case_kind_valid"),
            models.CheckConstraint(condition=~Q(status="forwarded") | Q(forwarded_at__isnull=False),
                                   name="safety_case_forwarded_has_time"),
            models.CheckConstraint(condition=~Q(status="nullified") | ~Q(nullified_reason=""),
                                   name="safety_case_nullified_has_reason"),
            models.CheckConstraint(condition=Q(patient__isnull=False) | Q(hcp__isnull=False),
                                   name="safety_case_has_subject"),
            models.CheckConstraint(condition=Q(patient_sex__in=["", "1", "2"]), name="safety_case_sex_valid"),
        ]

    def __str__(self) -> str:
        return f"safety case {self.number}"

    @property
    def subject(self) -> Patient | Hcp:
        """The enrolled patient, or the doctor who reported: whose key seals the case's words."""
        return self.patient if self.patient_id else self.hcp


class Reaction(models.Model):
    """One adverse event of a case as assessed (E2B E.i): the reporter's words for it, its coded term
    from the sponsor's term list when there is one, and what became of it."""

    class Outcome(models.TextChoices):  # E2B E.i.7
        UNKNOWN = "0", "unknown"
        RECOVERED = "1", "recovered"
        RECOVERING = "2", "recovering"
        NOT_RECOVERED = "3", "not recovered"
        RECOVERED_WITH_SEQUELAE = "4", "recovered with sequelae"
        FATAL = "5", "fatal"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reactions")
    position = models.PositiveSmallIntegerField()
    verbatim = models.CharField(max_length=250)  # E.i.1.1a
    language = models.CharField(max_length=3)  # E.i.1.1b, ISO 639-2
    meddra_code = models.CharField(max_length=8, blank=True)  # E.i.2.1b, from the program's term list
    meddra_version = models.CharField(max_length=5, blank=True)  # E.i.2.1a
    onset = models.DateField(null=True, blank=True)  # E.i.4, in the patient's own calendar
    outcome = models.CharField(max_length=1, choices=Outcome.choices, default=Outcome.UNKNOWN)
    seriousness = models.JSONField(default=list)  # ICH E2A criteria (safety.assessment.CRITERIA); none: not serious
    causality = models.CharField(max_length=12, default="unknown")  # the reporter's: related, not_related, unknown

    class Meta:
        ordering = ["case", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="safety_reaction_position_once"),
            models.CheckConstraint(condition=Q(outcome__in=["0", "1", "2", "3", "4", "5"]),
                                   name="safety_reaction_outcome_valid"),
            models.CheckConstraint(condition=Q(causality__in=["related", "not_related", "unknown"]),
                                   name="safety_reaction_causality_valid"),
        ]


class Term(models.Model):
    """A term of the sponsor's licensed MedDRA subset, imported for a program (Sojourn ships none:
    MedDRA is licensed). A reaction's code must be one of the program's terms."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    version = models.CharField(max_length=5)  # MedDRA version, e.g. 27.1
    code = models.CharField(max_length=8)  # lowest level term code
    name = models.CharField(max_length=250)
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "version", "code"], name="safety_term_once")]


class CaseForwarding(models.Model):
    """A version of a case as it reached drug safety. The first report and every follow-up each have
    their own deadline, from their own day zero: a follow-up of a forwarded case opens it again."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="forwardings")
    version = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    forwarded_at = models.DateTimeField()
    forwarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    # The coded facts as they were sent (safety.export.snapshot): each E2B file is exactly this version.
    # An amendment or a nullification (E2B C.1.11) says so in facts["correction"]: its kind and reason.
    facts = models.JSONField(default=dict)
    narrative_sealed = models.BinaryField(null=True, blank=True)  # as sent; sealed with the patient's key
    # Drug safety's acknowledgement of the ICSR (sojourn safety import-ack): accepted or rejected, and why.
    ack = models.CharField(max_length=10, blank=True)
    ack_details = models.JSONField(default=list)
    acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="safety_forwarding_once_per_version"),
            models.CheckConstraint(condition=Q(ack__in=["", "accepted", "rejected"]),
                                   name="safety_forwarding_ack_valid"),
        ]

    @property
    def on_time(self) -> bool:
        return self.forwarded_at <= self.due_at

    @property
    def correction(self) -> str:
        """"amendment", "nullification", or "" for a first report or a follow-up."""
        return (self.facts.get("correction") or {}).get("kind", "")


class Intake(models.Model):
    """Something the program received that may be an adverse event: from a rule, a nurse's call, a
    patient's message or form. Never dropped: it ends as (part of) a case, as a duplicate linked to the
    case that already holds the same report, or as a person's "not an adverse event" with the reason."""

    class Status(models.TextChoices):
        OPEN = "open", "open"  # awaiting a safety officer's decision
        CASE = "case", "case"
        NOT_AE = "not_ae", "not an adverse event"
        DUPLICATE = "duplicate", "duplicate"  # the same report as one a case already holds: linked, not counted

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="+")
    # From an enrolled patient (or about one), or from a doctor about a patient of theirs (`hcp`, the reporter).
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="safety_intakes")
    hcp = models.ForeignKey("people.Hcp", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source = models.CharField(max_length=40)  # rule, nurse call, sms, …
    reason = models.CharField(max_length=300)  # what was noticed, never free text from the patient
    detail = models.JSONField(default=dict)  # rule key, event id, flagged terms: no personal data
    # The patient's own words (a text message, a form), sealed with their key: only a safety officer
    # reads them, audited; an erasure makes them unreadable, the case keeps its coded facts.
    words_sealed = models.BinaryField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField()
    day_zero = models.DateTimeField()  # when the program first received it; the clock starts here
    due_at = models.DateTimeField()  # the forward deadline (safety/clocks.py)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="intakes")
    decision_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    case_version = models.PositiveIntegerField(null=True, blank=True)  # the version of the case it made

    class Meta:
        indexes = [models.Index(fields=["program", "status", "due_at"], name="safety_referral_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "case", "not_ae", "duplicate"]),
                                   name="safety_intake_status_valid"),
            models.CheckConstraint(condition=~Q(status__in=["case", "duplicate"]) | Q(case__isnull=False),
                                   name="safety_intake_case_named"),
            models.CheckConstraint(condition=~Q(status="not_ae") | ~Q(decision_reason=""),
                                   name="safety_intake_not_ae_has_reason"),
            models.CheckConstraint(condition=Q(patient__isnull=False) | Q(hcp__isnull=False),
                                   name="safety_intake_has_subject"),
        ]

    def __str__(self) -> str:
        return f"safety intake {self.pk}"

    @property
    def subject(self) -> Patient | Hcp:
        """The patient, or the doctor who reported: whose key seals the words."""
        return self.patient if self.patient_id else self.hcp


class FollowUp(models.Model):
    """Drug safety asks for missing information about a case: a nurse calls the patient by the due date
    (the patient's consent to calls allowing), and what the patient says comes back as an intake, for
    the safety officer to add to the case as its next version."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        ANSWERED = "answered", "answered"
        CANCELLED = "cancelled", "cancelled"  # the case was nullified, or the patient can no longer be called
        UNANSWERED = "unanswered", "closed unanswered"  # a safety officer closed it: lost to follow-up, and why

    class Channel(models.TextChoices):
        CALL = "call", "a nurse's call"
        # Shown on the patient's own page, where they answer; an approved notice by email or text tells them.
        PORTAL = "portal", "the patient's page"
        DOCTOR = "doctor", "the doctor"  # a doctor's report: asked on the doctor's page, the doctor emailed

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.CALL)
    question = models.CharField(max_length=180)  # what drug safety needs to know; the nurse reads it
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    asked_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=300, blank=True)  # why it was closed unanswered
    intake = models.OneToOneField(Intake, on_delete=models.PROTECT, null=True, blank=True, related_name="answering")

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="safety_follow_up_due_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "answered", "cancelled", "unanswered"]),
                                   name="safety_follow_up_status_valid"),
            models.CheckConstraint(condition=~Q(status="unanswered") | ~Q(closed_reason=""),
                                   name="safety_follow_up_closed_has_reason"),
            models.CheckConstraint(condition=~Q(status="answered") | Q(intake__isnull=False),
                                   name="safety_follow_up_answer_named"),
            models.CheckConstraint(condition=Q(channel__in=["call", "portal", "doctor"]),
                                   name="safety_follow_up_channel_valid"),
        ]


class Screening(models.Model):
    """A patient's free-text message (a text or email reply) the term lists did not flag. Term lists miss
    words they have not seen, so a person reads every such message by the forward deadline, counted from
    its arrival as for any intake: no adverse event (the words are then dropped: nothing to keep), or a
    possible one, which becomes an intake with the message's day zero."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        CLEAR = "clear", "no adverse event"
        RAISED = "raised", "intake raised"

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="+")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="safety_screenings")
    source = models.CharField(max_length=40)  # sms, email
    words_sealed = models.BinaryField(null=True, blank=True)  # sealed with the patient's key, as an intake's
    idempotency_key = models.CharField(max_length=120, unique=True)
    received_at = models.DateTimeField()  # the day zero, should it hold an adverse event
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    screened_at = models.DateTimeField(null=True, blank=True)
    intake = models.OneToOneField(Intake, on_delete=models.PROTECT, null=True, blank=True, related_name="screening")

    class Meta:
        indexes = [models.Index(fields=["program", "status", "due_at"], name="safety_screening_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "clear", "raised"]),
                                   name="safety_screening_status_valid"),
            models.CheckConstraint(condition=~Q(status="raised") | Q(intake__isnull=False),
                                   name="safety_screening_raised_names_intake"),
        ]
