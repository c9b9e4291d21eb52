"""Reads of the content library. `resolve` is the one door through which words reach a patient:
every channel (personal page, email, text message, print, call script) asks it, and it answers
only with an approved, unexpired version's variant in the patient's own locale."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from sojourn.content.models import ContentItem, ContentVariant, ContentVersion
from sojourn.core.models import Program
from sojourn.tracking.models import Event

EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class ResolvedContent:
    code: str
    kind: str
    version: int
    approval_code: str
    expires_on: date
    locale: str
    title: str
    subject: str
    summary: str
    body: str
    url: str
    needs: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    level: int = 1


@dataclass(frozen=True)
class Resolution:
    content: ResolvedContent | None
    reason: str = ""  # why nothing may be used, for the decision record and the console


def usable_on(version: ContentVersion, day: date) -> bool:
    return version.status == ContentVersion.Status.APPROVED and version.expires_on is not None \
        and day <= version.expires_on


def resolve(program_id: int, code: str, *, locale: str, country: str, channel: str,
            at: datetime | None = None) -> Resolution:
    found = resolve_many(program_id, [code], locale=locale, country=country, channel=channel, at=at)
    return found[code]


def resolve_many(program_id: int, codes: list[str], *, locale: str, country: str, channel: str,
                 at: datetime | None = None) -> dict[str, Resolution]:
    """The same for several items in three queries (a page of cards, a magazine of blocks)."""
    day = timezone.localdate(at or timezone.now(), timezone=timezone.get_fixed_timezone(0))
    items = {i.code: i for i in ContentItem.objects.filter(program_id=program_id, code__in=codes)}
    versions = {v.item_id: v for v in ContentVersion.objects.filter(item__in=items.values(),
                                                                   status=ContentVersion.Status.APPROVED)}
    variants = {v.version_id: v for v in ContentVariant.objects.filter(version__in=versions.values(), locale=locale)}
    out: dict[str, Resolution] = {}
    for code in codes:
        item = items.get(code)
        if item is None:
            out[code] = Resolution(None, f"no content item {code}")
            continue
        if channel not in item.channels:
            out[code] = Resolution(None, f"{code} is not for the {channel} channel")
            continue
        if item.markets and country not in item.markets:
            out[code] = Resolution(None, f"{code} is not for {country}")
            continue
        version = versions.get(item.pk)
        if version is None:
            out[code] = Resolution(None, f"{code} has no approved version")
            continue
        if not usable_on(version, day):
            out[code] = Resolution(None, f"{code} v{version.number} expired on {version.expires_on}")
            continue
        variant = variants.get(version.pk)
        if variant is None:
            out[code] = Resolution(None, f"{code} v{version.number} has no approved {locale} text")
            continue
        out[code] = Resolution(ResolvedContent(
            code=code, kind=item.kind, version=version.number, approval_code=version.approval_code,
            expires_on=version.expires_on, locale=locale, title=variant.title,  # type: ignore[arg-type]
            subject=variant.subject, summary=variant.summary, body=variant.body, url=variant.url,
            needs=list(item.needs), stages=list(item.stages), level=item.level))
    return out


def usable_codes(program_id: int, day: date | None = None) -> dict[str, tuple[str, ...]]:
    """Items with an approved version usable today → the channels they may go on (what rules may name)."""
    day = day or timezone.localdate()
    return {code: tuple(channels) for code, channels in ContentItem.objects.filter(
        program_id=program_id, versions__status=ContentVersion.Status.APPROVED, versions__expires_on__gte=day)
        .values_list("code", "channels")}


def library(program: Program, *, status: str = "", kind: str = "", need: str = "", query: str = ""
            ) -> QuerySet[ContentItem]:
    items = ContentItem.objects.filter(program=program).prefetch_related("versions").order_by("code")
    if kind:
        items = items.filter(kind=kind)
    if query:
        items = items.filter(Q(code__icontains=query) | Q(title__icontains=query))
    if status:
        items = items.filter(versions__status=status).distinct()
    if need:
        items = [i for i in items if need in i.needs]  # type: ignore[assignment]
    return items


def expiring(program: Program, *, today: date | None = None, within: timedelta = EXPIRY_WARNING
             ) -> list[ContentVersion]:
    """Approved versions whose last day falls within the warning window, soonest first."""
    today = today or timezone.localdate()
    return list(ContentVersion.objects.filter(item__program=program, status=ContentVersion.Status.APPROVED,
                                              expires_on__gte=today, expires_on__lte=today + within)
                .select_related("item").order_by("expires_on", "item__code"))


@dataclass
class ItemUse:
    views: int = 0
    completions: int = 0
    helpful: int = 0
    unhelpful: int = 0

    @property
    def completion_rate(self) -> float | None:
        return round(self.completions / self.views, 3) if self.views else None

    @property
    def helpful_share(self) -> float | None:
        rated = self.helpful + self.unhelpful
        return round(self.helpful / rated, 3) if rated else None


def use_by_market(program: Program, codes: list[str] | None = None) -> dict[str, dict[str, ItemUse]]:
    """Views, completions and helpful ratings of each item in each market, from the events."""
    events = (Event.objects.filter(program=program, type__in=["content.viewed", "content.completed", "content.rated"])
              .annotate(code=KT("data__content"), helpful=KT("data__helpful")))
    if codes is not None:
        events = events.filter(code__in=codes)
    out: dict[str, dict[str, ItemUse]] = defaultdict(dict)
    for row in events.values("code", "type", "helpful", "patient__market__country").annotate(n=Count("id")):
        use = out[row["code"]].setdefault(row["patient__market__country"], ItemUse())
        if row["type"] == "content.viewed":
            use.views += row["n"]
        elif row["type"] == "content.completed":
            use.completions += row["n"]
        elif str(row["helpful"]).lower() in {"true", "1"}:
            use.helpful += row["n"]
        else:
            use.unhelpful += row["n"]
    return dict(out)
