"""Console pages of the content library: the list with expiry warnings, and an item's page where
editors write a draft per language and reviewers comment, approve, return or withdraw."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sojourn.content import queries
from sojourn.content.kinds import KINDS, VARIABLES
from sojourn.content.models import ContentItem, ContentVersion
from sojourn.content.services.library import (
    VARIANT_FIELDS,
    change_tags,
    create_item,
    program_locales,
    save_draft,
    variants_of,
)
from sojourn.content.services.review import (
    approve,
    comment,
    return_to_author,
    start_revision,
    submit_for_review,
    withdraw,
)
from sojourn.core.errors import ErrorDetail, NotFound
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope
from sojourn.tracking.models import Need, Stage

FIELDS_SHOWN = {"title": True, "subject": "email", "summary": True, "body": True, "url": "video"}


def _rights(request: HttpRequest, program_id: int) -> tuple[bool, bool]:
    actor = request.actor  # type: ignore[attr-defined]
    return actor.can(Permission.CONTENT_EDIT, program_id), actor.can(Permission.CONTENT_REVIEW, program_id)


def _whole(text: str) -> int | str:
    """A whole number as typed, or the text itself for the service to refuse with its message."""
    return int(text) if text.strip().isdigit() else text


def _list_of(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@login_required
def library(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None:
        raise NotFound()
    may_edit, may_review = _rights(request, scope.program.pk)
    if not (may_edit or may_review):
        raise NotFound()
    problems: list[ErrorDetail] = []
    if request.method == "POST":
        with shown_on_page() as refusal:
            item = create_item(actor=request.actor, program=scope.program, code=request.POST.get("code", "").strip(),
                               kind=request.POST.get("kind", ""), title=request.POST.get("title", ""),
                               tags={"needs": request.POST.getlist("needs")})
            return redirect("content-console:item", code=item.code)
        problems = refusal.problems
    wanted = {k: request.GET.get(k, "")[:60] for k in ("status", "kind", "need", "q")}
    items = queries.library(scope.program, status=wanted["status"], kind=wanted["kind"], need=wanted["need"],
                            query=wanted["q"])
    rows = []
    for item in items:
        versions = sorted(item.versions.all(), key=lambda v: -v.number)
        live = next((v for v in versions if v.status == "approved"), None)
        rows.append({"item": item, "latest": versions[0] if versions else None, "live": live})
    return render(request, "content/library.html", {
        "rows": rows, "wanted": wanted, "expiring": queries.expiring(scope.program), "problems": problems,
        "kinds": ContentItem.Kind.choices, "statuses": ContentVersion.Status.choices, "may_edit": may_edit,
        "needs": list(Need.objects.filter(program=scope.program).order_by("position").values_list("code", flat=True))},
        status=422 if problems else 200)


def _form_variants(request: HttpRequest, locales: list[str]) -> dict[str, dict[str, str]]:
    """Variant fields posted as <locale>:<field>; a language left empty is not part of the draft."""
    out: dict[str, dict[str, str]] = {}
    for locale in locales:
        fields = {name: request.POST.get(f"{locale}:{name}", "") for name in VARIANT_FIELDS}
        if any(value.strip() for value in fields.values()):
            out[locale] = {k: v for k, v in fields.items() if v.strip()}
    return out


def _diff(versions: list[ContentVersion], number: int) -> str:
    newer = next((v for v in versions if v.number == number), None)
    older = next((v for v in versions if v.number < number), None)
    if newer is None:
        return ""

    def lines(version: ContentVersion | None) -> list[str]:
        out = []
        for locale, fields in sorted(variants_of(version).items()) if version else []:
            for name in VARIANT_FIELDS:
                for line in str(fields.get(name, "")).splitlines() or ([""] if name in fields else []):
                    out.append(f"[{locale}] {name}: {line}")
        return out

    return "\n".join(difflib.unified_diff(lines(older), lines(newer), f"v{older.number}" if older else "(none)",
                                          f"v{newer.number}", lineterm=""))


@login_required
def item_page(request: HttpRequest, code: str) -> HttpResponse:
    scope = console_scope(request)
    item = ContentItem.objects.filter(program=scope.program, code=code).select_related("program").first() \
        if scope.program else None
    if item is None:
        raise NotFound()
    may_edit, may_review = _rights(request, item.program_id)
    if not (may_edit or may_review):
        raise NotFound()
    locales = sorted(program_locales(item.program, item.markets or None))
    language = (get_language() or "en").split("-")[0]
    versions = list(item.versions.prefetch_related("variants", "comments").order_by("-number"))
    draft = next((v for v in versions if v.status == "draft"), None)
    shown = draft or (versions[0] if versions else None)
    current = variants_of(shown) if shown else {}
    problems: list[ErrorDetail] = []
    if request.method == "POST" and may_edit:
        current = _form_variants(request, locales)
        with shown_on_page() as refusal:
            save_draft(actor=request.actor, item=item, variants=current)
            messages.success(request, _("The draft is saved."))
            return redirect("content-console:item", code=code)
        problems = refusal.problems
    wanted = request.GET.get("diff", "")
    editors = [{"locale": locale, "fields": [
        {"name": name, "value": current.get(locale, {}).get(name, ""),
         "problem": next((p.message for p in problems if p.field == f"variants.{locale}.{name}"), "")}
        for name, shown_for in FIELDS_SHOWN.items() if shown_for is True or shown_for == item.kind],
        "problem": next((p.message for p in problems if p.field == f"variants.{locale}"), "")} for locale in locales]
    use = queries.use_by_market(item.program, [item.code], countries=[m.country for m in scope.markets]
                                ).get(item.code, {})
    return render(request, "content/item.html", {
        "item": item, "versions": versions, "draft": draft, "editors": editors, "problems": problems,
        "diff": _diff(versions, int(wanted)) if wanted.isdigit() else "", "may_edit": may_edit,
        "may_review": may_review, "use": sorted(use.items()), "variables": list(VARIABLES),
        "kind_channels": KINDS[item.kind].channels,
        # Offered by their names in the reader's language; the codes are what the form sends.
        "all_needs": [(n.code, n.label(language)) for n in Need.objects.filter(program=item.program)],
        "all_stages": [(s.code, s.label(language)) for s in Stage.objects.filter(program=item.program)],
        "all_levels": item.program.level_names(language)},
        status=422 if problems else 200)


@login_required
@require_POST
def step(request: HttpRequest, code: str) -> HttpResponse:
    """Review steps and tag changes; each calls one service and comes back to the item's page."""
    scope = console_scope(request)
    item = ContentItem.objects.filter(program=scope.program, code=code).select_related("program").first() \
        if scope.program else None
    if item is None or not any(_rights(request, item.program_id)):
        raise NotFound()
    action = request.POST.get("step", "")
    number = request.POST.get("version", "")
    version = item.versions.filter(number=int(number)).select_related("item__program").first() \
        if number.isdigit() else None
    author = getattr(request.user, "get_full_name", lambda: "")() or str(request.user)
    done: dict[str, Any] = {
        "submit": _("Submitted for review."), "approve": _("Approved: patients can now receive it."),
        "return": _("Returned to the author."), "withdraw": _("Withdrawn: it reaches no patient any more."),
        "comment": _("Comment added."), "revise": _("A new draft holds the latest words."),
        "tags": _("The tags are saved.")}
    with shown_on_page(request=request):
        if action == "tags":
            change_tags(actor=request.actor, item=item, tags={
                "needs": request.POST.getlist("needs"), "stages": request.POST.getlist("stages"),
                "channels": request.POST.getlist("channels"), "markets": _list_of(request.POST.get("markets", "")),
                "level": _whole(request.POST.get("level", ""))})
        elif action == "revise":
            start_revision(actor=request.actor, item=item)
        elif version is None or action not in done:
            raise NotFound()
        elif action == "submit":
            submit_for_review(actor=request.actor, version=version)
        elif action == "approve":
            raw = request.POST.get("expires_on", "")
            try:
                expires = date.fromisoformat(raw)
            except ValueError:
                expires = None
            approve(actor=request.actor, version=version, approval_code=request.POST.get("approval_code", ""),
                    expires_on=expires)
        elif action == "return":
            return_to_author(actor=request.actor, version=version, text=request.POST.get("text", ""),
                             author_name=author)
        elif action == "withdraw":
            withdraw(actor=request.actor, version=version, reason=request.POST.get("reason", ""))
        else:
            comment(actor=request.actor, version=version, text=request.POST.get("text", ""),
                    locale=request.POST.get("locale", ""), author_name=author)
        messages.success(request, done[action])
    return redirect("content-console:item", code=code)
