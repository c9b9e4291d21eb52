"""Reads of the content library. `resolve` is the one door through which words reach a patient:
every channel (personal page, email, text message, print, call script) asks it, and it answers
only with an approved, unexpired version's variant in the patient's own locale."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from sojourn.content.models import ContentItem, ContentVariant, ContentVersion
from sojourn.core.db import as_date, as_json, rows_for_ids
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
    found = resolve_requests(program_id, {(locale, country, channel): codes}, at=at)
    return {code: found[(locale, country, channel, code)] for code in codes}


def resolve_requests(program_id: int, requests: Mapping[tuple[str, str, str], Iterable[str]],
                     at: datetime | None = None) -> dict[tuple[str, str, str, str], Resolution]:
    """Items for several (locale, country, channel) at once, still in three queries (a worker's batch
    goes to patients of every market): (locale, country, channel, code) → Resolution."""
    day = timezone.localdate(at or timezone.now(), timezone=timezone.get_fixed_timezone(0))
    wanted = {key: list(codes) for key, codes in requests.items()}
    codes = {code for group in wanted.values() for code in group}
    locales = {locale for locale, _country, _channel in wanted}
    # Plain SQL: every batch of the worker resolves its messages here, and building the three ORM
    # queries cost more than running them.
    items = {code: ContentItem(id=pk, program_id=program_id, code=code, kind=kind, needs=as_json(needs),
                               stages=as_json(stages), level=level, channels=as_json(channels),
                               markets=as_json(markets))
             for pk, code, kind, needs, stages, level, channels, markets in rows_for_ids(
                 "SELECT id, code, kind, needs, stages, level, channels, markets "
                 f"FROM {ContentItem._meta.db_table} WHERE program_id = %s AND code {{ids}}", codes, [program_id])}
    versions = {item_id: ContentVersion(id=pk, item_id=item_id, number=number, status=status,
                                        approval_code=approval_code, expires_on=as_date(expires_on))
                for pk, item_id, number, status, approval_code, expires_on in rows_for_ids(
                    "SELECT id, item_id, number, status, approval_code, expires_on "
                    f"FROM {ContentVersion._meta.db_table} WHERE status = %s AND item_id {{ids}}",
                    [i.pk for i in items.values()], [ContentVersion.Status.APPROVED.value])}
    marks = ", ".join(["%s"] * len(locales))
    variants = {(version_id, locale): ContentVariant(version_id=version_id, locale=locale, title=title,
                                                     subject=subject, summary=summary, body=body, url=url)
                for version_id, locale, title, subject, summary, body, url in rows_for_ids(
                    "SELECT version_id, locale, title, subject, summary, body, url "
                    f"FROM {ContentVariant._meta.db_table} WHERE locale IN ({marks}) AND version_id {{ids}}",
                    [v.pk for v in versions.values()], sorted(locales))}
    out: dict[tuple[str, str, str, str], Resolution] = {}
    for (locale, country, channel), group in wanted.items():
        for code in group:
            out[(locale, country, channel, code)] = _resolution(code, items.get(code), versions, variants,
                                                                locale=locale, country=country, channel=channel,
                                                                day=day)
    return out


def _resolution(code: str, item: ContentItem | None, versions: dict[int, ContentVersion],
                variants: dict[tuple[int, str], ContentVariant], *, locale: str, country: str, channel: str,
                day: date) -> Resolution:
    if item is None:
        return Resolution(None, f"no content item {code}")
    if channel not in item.channels:
        return Resolution(None, f"{code} is not for the {channel} channel")
    if item.markets and country not in item.markets:
        return Resolution(None, f"{code} is not for {country}")
    version = versions.get(item.pk)
    if version is None:
        return Resolution(None, f"{code} has no approved version")
    if not usable_on(version, day):
        return Resolution(None, f"{code} v{version.number} expired on {version.expires_on}")
    variant = variants.get((version.pk, locale))
    if variant is None:
        return Resolution(None, f"{code} v{version.number} has no approved {locale} text")
    return Resolution(ResolvedContent(
        code=code, kind=item.kind, version=version.number, approval_code=version.approval_code,
        expires_on=version.expires_on, locale=locale, title=variant.title,  # type: ignore[arg-type]
        subject=variant.subject, summary=variant.summary, body=variant.body, url=variant.url,
        needs=list(item.needs), stages=list(item.stages), level=item.level))


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


def use_by_market(program: Program, codes: list[str] | None = None, countries: Iterable[str] | None = None
                  ) -> dict[str, dict[str, ItemUse]]:
    """Views, completions and helpful ratings of each item in each market (all, or the countries
    given: those the reader may see), from the events."""
    events = Event.objects.filter(program=program, type__in=["content.viewed", "content.completed", "content.rated"])
    if codes is not None:
        # Matched as JSON values: `KT(...)__in` sends the bare code to SQLite's JSON_EXTRACT, which
        # refuses it ("malformed JSON") as soon as there is an event to compare.
        events = events.filter(data__content__in=codes)
    if countries is not None:
        events = events.filter(patient__market__country__in=list(countries))
    events = events.annotate(code=KT("data__content"), helpful=KT("data__helpful"))
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
