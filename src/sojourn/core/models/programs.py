"""Sponsors run programs; a program runs in markets described by market packs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sojourn.core.constraints import hex_digest


class Sponsor(models.Model):
    """The pharmaceutical company that owns one or more support programs."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Program(models.Model):
    """One support program: one indication or therapy for one sponsor, in several markets."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LIVE = "live", _("Live")
        CLOSED = "closed", _("Closed")

    sponsor = models.ForeignKey(Sponsor, on_delete=models.PROTECT, related_name="programs")
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    indication = models.CharField(_("indication"), max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    # The KPIs' targets from the program's approved definition ({kpi: {target, amber, stages: {code:
    # {…}}, markets: {country: {…}}}}); a KPI not named keeps its default (insights/kpis.py).
    kpi_targets = models.JSONField(default=dict, blank=True)
    # The names of its content levels ([{level, labels}], level 1 first); empty: levels are numbers only.
    content_levels = models.JSONField(default=list, blank=True)
    # The forward deadline agreed with the sponsor's drug safety department ({forward_deadline: {hours |
    # business_days}, markets: {country: {…}}}); where it says nothing, the market pack's (safety/clocks.py).
    safety_deadlines = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["draft", "live", "closed"]), name="program_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def level_names(self, language: str) -> list[tuple[int, str]]:
        """The content levels the definition names, in the reader's language (else English)."""
        return [(part["level"], part["labels"].get(language) or part["labels"]["en"])
                for part in self.content_levels or []]


class Product(models.Model):
    """A medicinal product the program supports, as its definition names it (safety reports, adherence)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="products")
    code = models.CharField(max_length=60)
    name = models.CharField(max_length=200)
    strength = models.CharField(max_length=100, blank=True)  # "150 mg/mL"
    form = models.CharField(max_length=100, blank=True)  # "solution for injection in pre-filled pen"
    route = models.CharField(max_length=60, blank=True)  # "subcutaneous"
    atc = models.CharField(max_length=7, blank=True)  # WHO ATC code, "L04AC10"
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="product_code_once")]

    def __str__(self) -> str:
        return self.name


class Market(models.Model):
    """A country with its locales, time zones and regulatory profile, as its market pack says.

    The whole validated pack is kept in ``pack``; the columns beside it are what queries filter on.
    """

    country = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=100)
    default_locale = models.CharField(max_length=10)
    locales = models.JSONField()
    time_zones = models.JSONField()
    minimum_age = models.PositiveSmallIntegerField()
    channels = models.JSONField()
    pack = models.JSONField()
    pack_sha256 = models.CharField(max_length=64)
    activated_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(condition=Q(country__glob="[A-Z][A-Z]"), name="market_country_iso_alpha2"),
            models.CheckConstraint(condition=Q(minimum_age__lte=25), name="market_minimum_age_plausible"),
            models.CheckConstraint(condition=hex_digest("pack_sha256"), name="market_pack_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class ProgramMarket(models.Model):
    """A market a program runs in: in set-up from its activation, live once its checklist was
    complete (programs/activation.py)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="program_markets")
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="program_markets")
    activated_at = models.DateTimeField()
    live_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["market__country"]
        constraints = [
            models.UniqueConstraint(fields=["program", "market"], name="program_market_once"),
        ]

    def __str__(self) -> str:
        return f"{self.program.slug}/{self.market.country}"
