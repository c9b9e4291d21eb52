"""Consent documents (versioned, localized, reviewed) and consent records (who agreed to what, how).

A version is written as a draft, reviewed, approved and then never changes: its texts carry their
SHA-256, and each record points at the exact version and locale the person saw.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sojourn.core.constraints import hex_digest

# A consent or a code belongs to a patient or to an HCP, never to both or neither.
ONE_SUBJECT = (Q(patient__isnull=False) & Q(hcp__isnull=True)) | (Q(patient__isnull=True) & Q(hcp__isnull=False))


class ConsentDocument(models.Model):
    class Audience(models.TextChoices):
        PATIENT = "patient", _("Patients")
        HCP = "hcp", _("Healthcare professionals")

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="consent_documents")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="consent_documents")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "market", "audience"], name="consent_document_once"),
            models.CheckConstraint(condition=Q(audience__in=["patient", "hcp"]), name="consent_audience_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class ConsentVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        RETIRED = "retired", _("Retired")

    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # [{"code": "contact_sms", "required": false}, …] in the order shown to the person.
    purposes = models.JSONField()
    # A material change asks everyone who agreed to an earlier version to consent again.
    material_change = models.BooleanField(default=False)
    change_summary = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by_id = models.BigIntegerField(null=True)
    submitted_at = models.DateTimeField(null=True)
    approved_by_id = models.BigIntegerField(null=True)
    approved_at = models.DateTimeField(null=True)
    retired_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="consent_version_number_once"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review", "approved", "retired"]),
                                   name="consent_version_status_valid"),
            models.CheckConstraint(condition=Q(status__in=["draft", "in_review"]) | (
                Q(approved_at__isnull=False) & hex_digest("sha256")),
                name="consent_version_approved_has_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    def purpose_codes(self, required: bool | None = None) -> list[str]:
        return [p["code"] for p in self.purposes if required is None or p["required"] is required]


class ConsentText(models.Model):
    """The words one locale sees, with a label and explanation for each purpose."""

    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="texts")
    locale = models.CharField(max_length=10)
    title = models.CharField(max_length=200)
    body = models.TextField()
    # {"contact_sms": "Text messages with reminders and tips", …}
    purpose_texts = models.JSONField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "locale"], name="consent_text_locale_once")]

    def __str__(self) -> str:
        return f"{self.version} {self.locale}"


class ConsentRecord(models.Model):
    """One signature: the exact text, each purpose's answer, and the evidence of who, when and how."""

    class Method(models.TextChoices):
        WEB = "web", _("Web form")
        PHONE = "phone", _("Phone (verbal)")
        PAPER = "paper", _("Paper")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUPERSEDED = "superseded", _("Superseded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    patient = models.ForeignKey("people.Patient", null=True, on_delete=models.PROTECT, related_name="consents")
    hcp = models.ForeignKey("people.Hcp", null=True, on_delete=models.PROTECT, related_name="consents")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="records")
    locale = models.CharField(max_length=10)
    text_sha256 = models.CharField(max_length=64)
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    signed_at = models.DateTimeField()
    signer_time_zone = models.CharField(max_length=64)
    by_guardian = models.BooleanField(default=False)
    # Sealed with the subject's data key: the typed name, the guardian, and the web evidence.
    signed_name_sealed = models.BinaryField()
    guardian_sealed = models.BinaryField(null=True)
    web_evidence_sealed = models.BinaryField(null=True)
    receipt_pdf_sealed = models.BinaryField(null=True)
    # Phone enrollment: which staff member took verbal consent, reading which script version.
    recorded_by_id = models.BigIntegerField(null=True)
    script_version = models.CharField(max_length=40, blank=True)
    withdrawn_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "status"], name="consent_record_patient_idx")]
        constraints = [
            models.CheckConstraint(condition=ONE_SUBJECT, name="consent_record_one_subject"),
            models.CheckConstraint(condition=Q(method__in=["web", "phone", "paper"]), name="consent_method_valid"),
            models.CheckConstraint(
                condition=~Q(method="phone") | (Q(recorded_by_id__isnull=False) & ~Q(script_version="")),
                name="consent_phone_has_recorder_and_script"),
            models.UniqueConstraint(fields=["patient"], condition=Q(status="active"),
                                    name="consent_one_active_record_per_patient"),
            models.UniqueConstraint(fields=["hcp"], condition=Q(status="active"),
                                    name="consent_one_active_record_per_hcp"),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk} ({self.version})"


class ConsentDecision(models.Model):
    record = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="decisions")
    purpose = models.CharField(max_length=40)
    granted = models.BooleanField()
    withdrawn_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "purpose"], name="consent_decision_once"),
            models.CheckConstraint(condition=Q(withdrawn_at__isnull=True) | Q(granted=True),
                                   name="consent_only_granted_is_withdrawn"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}={'yes' if self.granted else 'no'}"


class ReconsentRequest(models.Model):
    """A material change to a document the person signed: they are asked to consent again."""

    record = models.OneToOneField(ConsentRecord, on_delete=models.PROTECT, related_name="reconsent_request")
    new_version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="reconsent_requests")
    requested_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"reconsent {self.record_id} -> {self.new_version_id}"


class ContactPreferences(models.Model):
    """How the patient wants to be reached, always within what their consent covers."""

    patient = models.OneToOneField("people.Patient", on_delete=models.CASCADE, related_name="contact_preferences")
    channels = models.JSONField(default=list)  # subset of web, email, sms, print, phone
    quiet_start = models.TimeField(null=True)  # None: the market's quiet hours
    quiet_end = models.TimeField(null=True)
    contact_days = models.JSONField(default=list)  # ISO weekday numbers 1–7; empty: any day
    contact_from = models.TimeField(null=True)
    contact_until = models.TimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.patient_id}"


class Verification(models.Model):
    """A one-time code sent to prove an email address or phone number; only its hash is kept."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    patient = models.ForeignKey("people.Patient", null=True, on_delete=models.CASCADE, related_name="verifications")
    hcp = models.ForeignKey("people.Hcp", null=True, on_delete=models.CASCADE, related_name="verifications")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True)
    cancelled_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=ONE_SUBJECT, name="verification_one_subject"),
            models.CheckConstraint(condition=Q(attempts__lte=10), name="verification_attempts_bounded"),
        ]

    def __str__(self) -> str:
        return f"verification {self.pk}"


class DataSubjectRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        PORTABILITY = "portability", _("Portability")
        ERASURE = "erasure", _("Erasure")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    patient = models.ForeignKey("people.Patient", on_delete=models.PROTECT, related_name="data_subject_requests")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    law = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True)
    received_via = models.CharField(max_length=20)
    # The staff member who recorded the request (none when the patient asked in the portal): an erasure
    # is completed by someone else, so that one person alone never erases anyone.
    opened_by_id = models.BigIntegerField(null=True)
    # Erasure: a certificate (what was destroyed, when, under which audit entry); never PII.
    certificate = models.JSONField(null=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["access", "portability", "erasure"]), name="dsr_kind_valid"),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("received_at")), name="dsr_due_after_received"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request {self.pk}"
