"""Items and their drafts: tags checked against the program, every variant checked against its kind,
its variables and (text messages) its segment budget, all problems reported at once, nothing saved
when one is found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.content.kinds import KINDS, TEXT_FIELDS, TemplateProblem, longest_fill, sms_segments, variables_in
from sojourn.content.models import ContentItem, ContentVariant, ContentVersion
from sojourn.core.actors import Actor
from sojourn.core.errors import Conflict, ErrorDetail, InvalidInput
from sojourn.core.models import Market, Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.tracking.models import Need, Stage

VARIANT_FIELDS = ("title", "subject", "summary", "body", "url")
MAX_BODY = 20_000


def _fail(problems: list[ErrorDetail]) -> None:
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)


def program_locales(program: Program, markets: list[str] | None = None) -> dict[str, list[str]]:
    """Locale → the program's markets that speak it (restricted to `markets` when given)."""
    out: dict[str, list[str]] = {}
    for market in Market.objects.filter(program_markets__program=program).order_by("country"):
        if markets and market.country not in markets:
            continue
        for locale in market.locales:
            out.setdefault(locale, []).append(market.country)
    return out


def _check_tags(program: Program, kind: str, tags: Mapping[str, Any]) -> tuple[dict[str, Any], list[ErrorDetail]]:
    problems: list[ErrorDetail] = []
    clean: dict[str, Any] = {}
    known = {
        "needs": set(Need.objects.filter(program=program).values_list("code", flat=True)),
        "stages": set(Stage.objects.filter(program=program).values_list("code", flat=True)),
        "channels": set(KINDS[kind].channels),
        "markets": set(Market.objects.filter(program_markets__program=program).values_list("country", flat=True)),
    }
    for name, allowed in known.items():
        value = tags.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(ErrorDetail(_("Give a list of codes."), field=name))
            continue
        unknown = sorted(set(value) - allowed)
        if unknown:
            problems.append(ErrorDetail(_("Not known here: %(codes)s. Choose from %(allowed)s.")
                                        % {"codes": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))},
                                        field=name))
        clean[name] = sorted(set(value), key=value.index)
    if not clean.get("channels") and "channels" not in {p.field for p in problems}:
        clean["channels"] = list(KINDS[kind].channels)
    level = tags.get("level", 1)
    top = len(program.content_levels) or 9  # a program that names its levels has only those
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= top:
        problems.append(ErrorDetail(_("The content level is a whole number from 1 to %(top)d.") % {"top": top},
                                    field="level"))
    clean["level"] = level
    budget = tags.get("segment_budget", 2)
    if not isinstance(budget, int) or isinstance(budget, bool) or not 1 <= budget <= 10:
        problems.append(ErrorDetail(_("The segment budget is a whole number from 1 to 10."), field="segment_budget"))
    clean["segment_budget"] = budget
    return clean, problems


def create_item(*, actor: Actor, program: Program, code: str, kind: str, title: str,
                tags: Mapping[str, Any] | None = None) -> ContentItem:
    """A new item with an empty first draft."""
    actor.require(Permission.CONTENT_EDIT, program.pk)
    problems: list[ErrorDetail] = []
    if not code or len(code) > 60 or not all(c.islower() or c.isdigit() or c == "-" for c in code) \
            or not code[0].isalnum():
        problems.append(ErrorDetail(_("Use lower-case letters, digits and hyphens (such as itch-tips)."),
                                    field="code"))
    if kind not in KINDS:
        problems.append(ErrorDetail(_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(KINDS)}, field="kind"))
    if not title.strip() or len(title) > 200:
        problems.append(ErrorDetail(_("Give the item a name of 1 to 200 characters."), field="title"))
    _fail(problems)
    clean, problems = _check_tags(program, kind, tags or {})
    _fail(problems)
    now = timezone.now()
    with transaction.atomic(durable=True):
        if ContentItem.objects.filter(program=program, code=code).exists():
            raise Conflict(_("%(code)s is already an item of this program.") % {"code": code}, field="code")
        item = ContentItem.objects.create(program=program, code=code, kind=kind, title=title.strip(),
                                          created_at=now, created_by_id=actor.user_id, **clean)
        ContentVersion.objects.create(item=item, number=1, created_at=now, created_by_id=actor.user_id)
        record_audit(actor=actor, action="content.created", subject_type="content_item", subject_id=code,
                     program_id=program.pk, after={"kind": kind, **clean})
    return item


def change_tags(*, actor: Actor, item: ContentItem, tags: Mapping[str, Any]) -> ContentItem:
    """Tags say where an item fits; they are not reviewed words, so they change without a new version."""
    actor.require(Permission.CONTENT_EDIT, item.program_id)
    clean, problems = _check_tags(item.program, item.kind, {**_tags_of(item), **tags})
    _fail(problems)
    with transaction.atomic(durable=True):
        before = _tags_of(item)
        ContentItem.objects.filter(pk=item.pk).update(**clean)
        record_audit(actor=actor, action="content.tagged", subject_type="content_item", subject_id=item.code,
                     program_id=item.program_id, before=before, after=clean)
    item.refresh_from_db()
    return item


def _tags_of(item: ContentItem) -> dict[str, Any]:
    return {"needs": item.needs, "stages": item.stages, "channels": item.channels, "markets": item.markets,
            "level": item.level, "segment_budget": item.segment_budget}


def check_variants(item: ContentItem, variants: Mapping[str, Mapping[str, Any]]) -> list[ErrorDetail]:
    """Every problem of a set of variants (locale → fields), each with the field it is in."""
    problems: list[ErrorDetail] = []
    locales = program_locales(item.program, item.markets or None)
    rules = KINDS[item.kind]
    used: dict[str, set[str]] = {}
    if not isinstance(variants, Mapping):
        return [ErrorDetail(_("Give the variants as locale → fields."), field="variants")]
    for locale, fields in variants.items():
        where = f"variants.{locale}"
        if locale not in locales:
            problems.append(ErrorDetail(_("%(locale)s is not a language of this item's markets (%(known)s).")
                                        % {"locale": locale, "known": ", ".join(sorted(locales))}, field=where))
            continue
        if not isinstance(fields, Mapping):
            problems.append(ErrorDetail(_("Give the fields of the variant."), field=where))
            continue
        unknown = sorted(set(fields) - set(VARIANT_FIELDS))
        if unknown:
            problems.append(ErrorDetail(_("This field is not part of a variant."), field=f"{where}.{unknown[0]}"))
        for name in ("body", *rules.fields):
            if not str(fields.get(name) or "").strip():
                problems.append(ErrorDetail(_("Fill this in: a %(kind)s needs it.")
                                            % {"kind": ContentItem.Kind(item.kind).label}, field=f"{where}.{name}"))
        if len(str(fields.get("body") or "")) > MAX_BODY:
            problems.append(ErrorDetail(_("The text is longer than %(n)d characters.") % {"n": MAX_BODY},
                                        field=f"{where}.body"))
        url = str(fields.get("url") or "")
        if url and not url.startswith("https://"):
            problems.append(ErrorDetail(_("Links start with https://."), field=f"{where}.url"))
        names: set[str] = set()
        for name in TEXT_FIELDS:
            try:
                names |= variables_in(str(fields.get(name) or ""))
            except TemplateProblem as error:
                problems.append(ErrorDetail(str(error), field=f"{where}.{name}"))
        used[locale] = names
        if item.kind == "sms" and fields.get("body"):
            try:
                segments = sms_segments(longest_fill(str(fields["body"]), item.program.name))
            except (TemplateProblem, KeyError, ValueError):
                segments = None
            if segments is not None and segments.count > item.segment_budget:
                problems.append(ErrorDetail(
                    _("At its longest this message takes %(count)d %(encoding)s segments (%(units)d characters); "
                      "the budget is %(budget)d.") % {"count": segments.count, "encoding": segments.encoding,
                                                     "units": segments.units, "budget": item.segment_budget},
                    field=f"{where}.body"))
    everywhere = set().union(*used.values()) if used else set()
    for locale, names in sorted(used.items()):
        for missing in sorted(everywhere - names):
            others = sorted(loc for loc, n in used.items() if missing in n)
            problems.append(ErrorDetail(_("{%(name)s} is missing here but used in %(others)s: every language "
                                          "must say the same.") % {"name": missing, "others": ", ".join(others)},
                                        field=f"variants.{locale}"))
    return problems


def save_draft(*, actor: Actor, item: ContentItem, variants: Mapping[str, Mapping[str, Any]]) -> ContentVersion:
    """Replace the words of the item's draft (a new draft after the last reviewed version if none)."""
    actor.require(Permission.CONTENT_EDIT, item.program_id)
    problems = check_variants(item, variants)
    _fail(problems)
    now = timezone.now()
    with transaction.atomic(durable=True):
        ContentItem.objects.select_for_update().filter(pk=item.pk).first()
        draft = item.versions.filter(status=ContentVersion.Status.DRAFT).order_by("-number").first()
        if draft is None:
            if item.versions.filter(status=ContentVersion.Status.IN_REVIEW).exists():
                raise Conflict(_("A version is in review: wait for the review or ask for it back."), field="status")
            latest = item.versions.aggregate(n=Max("number"))["n"] or 0
            draft = ContentVersion.objects.create(item=item, number=latest + 1, created_at=now,
                                                  created_by_id=actor.user_id)
        draft.variants.all().delete()
        ContentVariant.objects.bulk_create([
            ContentVariant(version=draft, locale=locale, body=str(fields.get("body", "")).strip(),
                           **{name: str(fields.get(name) or "").strip() for name in VARIANT_FIELDS if name != "body"})
            for locale, fields in sorted(variants.items())])
        ContentVersion.objects.filter(pk=draft.pk).update(created_by_id=actor.user_id)
        record_audit(actor=actor, action="content.draft_saved", subject_type="content_item", subject_id=item.code,
                     program_id=item.program_id, after={"version": draft.number, "locales": sorted(variants)})
    draft.refresh_from_db()
    return draft


def variants_of(version: ContentVersion) -> dict[str, dict[str, str]]:
    return {v.locale: {name: getattr(v, name) for name in VARIANT_FIELDS if getattr(v, name)}
            for v in version.variants.order_by("locale")}
