"""Staff with their roles per program and market, API tokens, and patients.

A patient is two things kept apart: the pseudonymous record (what analytics and most staff see)
and the identity, sealed field by field with the patient's own data key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from sojourn.core.permissions import Role


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    display_name = models.CharField(_("display name"), max_length=120)
    language = models.CharField(_("language"), max_length=8, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Set for a service account: an integration's own account in one program, managed by its staff
    # managers, which signs in with API tokens only (its password is unusable).
    service_program = models.ForeignKey("core.Program", null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="service_accounts")

    def __str__(self) -> str:
        return self.display_name


class Membership(models.Model):
    """A staff member's role in one program, in some of its markets or in all of them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    program = models.ForeignKey("core.Program", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    all_markets = models.BooleanField(default=False)
    markets = models.ManyToManyField("core.Market", blank=True, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "program", "role"], name="membership_role_once"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.program_id}"


class ApiToken(models.Model):
    """A bearer token of a staff member or a service account; only its hash is stored.

    Its scope narrows what its owner may do, never widens it: one program (or all of the owner's),
    some markets, some permissions. It stops at its expiry or when revoked; a rotation issues its
    successor and leaves both valid for an overlap, so an integration can switch without a gap.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    program = models.ForeignKey("core.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    markets = models.JSONField(null=True, blank=True)  # country codes; None: every market the owner has
    permissions = models.JSONField(null=True, blank=True)  # permission names; None: all the owner's
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True)
    revoked_at = models.DateTimeField(null=True)
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="api_token_owner_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"


class Patient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ERASED = "erased", _("Erased")

    # Pseudonymous record -------------------------------------------------------------------
    pseudonym = models.CharField(max_length=16, unique=True)
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="patients")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="patients")
    locale = models.CharField(max_length=10)
    time_zone = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the patient proved the email address or phone number by a one-time code.
    verified_at = models.DateTimeField(null=True)
    referred_by = models.ForeignKey("people.Hcp", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="referred_patients")

    # Identity, sealed with the patient's data key ---------------------------------------------
    data_key = models.OneToOneField("core.DataKey", on_delete=models.PROTECT, related_name="+")
    given_name_sealed = models.BinaryField(null=True)
    family_name_sealed = models.BinaryField(null=True)
    email_sealed = models.BinaryField(null=True)
    phone_sealed = models.BinaryField(null=True)
    birth_date_sealed = models.BinaryField(null=True)
    postal_address_sealed = models.BinaryField(null=True)
    # Blind indexes: keyed hashes of the normalized email and phone, for lookups and duplicates.
    email_index = models.CharField(max_length=64, blank=True)
    phone_index = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["program", "market", "status"], name="patient_scope_idx"),
            models.Index(fields=["email_index"], name="patient_email_idx"),
            models.Index(fields=["phone_index"], name="patient_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "active", "withdrawn", "erased"]),
                                   name="patient_status_valid"),
            models.UniqueConstraint(fields=["program", "email_index"], condition=~Q(email_index=""),
                                    name="patient_email_once_per_program"),
            models.UniqueConstraint(fields=["program", "phone_index"], condition=~Q(phone_index=""),
                                    name="patient_phone_once_per_program"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class Hcp(models.Model):
    """A healthcare professional enrolled in the program's awareness track; refers patients by code."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ERASED = "erased", _("Erased")

    pseudonym = models.CharField(max_length=16, unique=True)
    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="hcps")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="hcps")
    locale = models.CharField(max_length=10)
    time_zone = models.CharField(max_length=64)
    specialty = models.CharField(max_length=60)
    referral_code = models.CharField(max_length=12, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True)

    data_key = models.OneToOneField("core.DataKey", on_delete=models.PROTECT, related_name="+")
    given_name_sealed = models.BinaryField(null=True)
    family_name_sealed = models.BinaryField(null=True)
    email_sealed = models.BinaryField(null=True)
    phone_sealed = models.BinaryField(null=True)
    professional_id_sealed = models.BinaryField(null=True)
    practice_address_sealed = models.BinaryField(null=True)
    email_index = models.CharField(max_length=64, blank=True)
    professional_id_index = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["program", "market", "status"], name="hcp_scope_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "active", "withdrawn", "erased"]),
                                   name="hcp_status_valid"),
            models.UniqueConstraint(fields=["program", "email_index"], condition=~Q(email_index=""),
                                    name="hcp_email_once_per_program"),
            models.UniqueConstraint(fields=["program", "professional_id_index"],
                                    condition=~Q(professional_id_index=""), name="hcp_professional_id_once"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class Invitation(models.Model):
    """A single-use code a dermatologist hands a patient (on a printed card) to join the program. It
    holds no identity: who handed it out, where, when, and whether it was used to enroll. The
    enrollment funnel starts here."""

    program = models.ForeignKey("core.Program", on_delete=models.PROTECT, related_name="invitations")
    market = models.ForeignKey("core.Market", on_delete=models.PROTECT, related_name="invitations")
    hcp = models.ForeignKey(Hcp, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")
    code = models.CharField(max_length=12, unique=True)
    batch = models.CharField(max_length=80, blank=True)  # the print run it came in, for the print house
    issued_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True)
    patient = models.OneToOneField(Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation")

    class Meta:
        indexes = [models.Index(fields=["program", "market", "issued_at", "accepted_at"], name="invitation_funnel_idx"),
                   models.Index(fields=["program", "batch"], name="invitation_batch_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(patient__isnull=True) | Q(accepted_at__isnull=False),
                                   name="invitation_used_has_time"),
            models.CheckConstraint(condition=Q(accepted_at__isnull=True) | Q(accepted_at__gte=F("issued_at")),
                                   name="invitation_used_after_issued"),
        ]

    def __str__(self) -> str:
        return self.code


class RateCounter(models.Model):
    """How often one client or one identifier did something limited (asked for a code, failed to sign
    in) in one fixed window. Kept in the database so that every web process counts the same hits; the
    key is a keyed hash, never the address itself."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key", "window_start"], name="rate_counter_once")]
        indexes = [models.Index(fields=["scope", "window_start"], name="rate_counter_age_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.window_start:%Y-%m-%d %H:%M} {self.hits}"


class RetainedIdentity(models.Model):
    """The part of an erased patient's identity that a legal duty outlives the erasure with: the reporter
    of an open adverse-event report stays reachable for pharmacovigilance follow-up. Sealed under its own
    data key (the patient's is destroyed), readable only with the permission named here, and released
    (its key destroyed in turn) when the duty ends. See docs/privacy.md."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="retained_identities")
    data_key = models.OneToOneField("core.DataKey", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=60)  # what it is kept for, such as safety-referral:12
    legal_basis = models.CharField(max_length=200)
    permission = models.CharField(max_length=40)  # who may read it (a core.permissions.Permission)
    fields = models.JSONField(default=list)  # names of the fields kept, never their values
    sealed = models.BinaryField()  # the kept fields as JSON, sealed with data_key
    kept_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "reference"], name="retained_identity_once")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.patient_id})"
