"""Console pages for consent documents: every market's versions, a version's texts with its review
history and the changes from the version before, writing a draft, and the four-eyes review."""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sojourn.consent.console_forms import ConsentDraftForm, ReturnForm
from sojourn.consent.forms import service_field
from sojourn.consent.models import ConsentDocument, ConsentVersion
from sojourn.consent.services.documents import (
    TextDraft,
    access_consent_version,
    approve_consent_version,
    draft_consent_version,
    retire_consent_version,
    return_consent_version,
    revise_draft_consent_version,
    submit_consent_version,
)
from sojourn.core.errors import InvalidInput, NotFound
from sojourn.core.models import AuditEntry
from sojourn.core.permissions import Permission
from sojourn.core.views import shown_on_page
from sojourn.people.console import console_scope


def _purposes_for(market: object, audience: str) -> list[dict]:
    """The purposes a new document offers: the market pack's for patients, the HCP track's own."""
    if audience == ConsentDocument.Audience.HCP:
        return [{"code": "program_participation", "required": True}, {"code": "contact_email", "required": False}]
    pack = market.pack["regulatory"]["consent_purposes"]  # type: ignore[attr-defined]
    return ([{"code": c, "required": True} for c in pack["required"]]
            + [{"code": c, "required": False} for c in pack["optional"]])


@login_required
def documents(request: HttpRequest) -> HttpResponse:
    scope = console_scope(request)
    if scope.program is None:
        raise NotFound()
    markets = [m for m in scope.markets if scope.market in (None, m)]
    rows = []
    for market in markets:
        for audience in ConsentDocument.Audience:
            versions = list(ConsentVersion.objects.filter(
                document__program=scope.program, document__market=market, document__audience=audience)
                .order_by("-number"))
            rows.append({"market": market, "audience": audience, "versions": versions,
                         "may_edit": request.actor.can(Permission.CONTENT_EDIT, scope.program.pk, market.country)})
    return render(request, "consent/console/documents.html", {"rows": rows})


def _history(version: ConsentVersion) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(subject_type="consent_version", subject_id=str(version.pk))
                .order_by("seq"))


def _changes(version: ConsentVersion) -> list[tuple[str, str]]:
    """Per locale, a unified diff of what the signer sees, against the version before."""
    previous = (ConsentVersion.objects.filter(document=version.document, number__lt=version.number)
                .prefetch_related("texts").order_by("-number").first())
    if previous is None:
        return []
    before = {t.locale: t for t in previous.texts.all()}

    def shown(text: object) -> list[str]:
        if text is None:
            return []
        labels = [f"[{code}] {label}" for code, label in text.purpose_texts.items()]  # type: ignore[attr-defined]
        return [text.title, "", *text.body.splitlines(), "", *labels]  # type: ignore[attr-defined]

    diffs = []
    for text in version.texts.all():
        lines = list(difflib.unified_diff(shown(before.get(text.locale)), shown(text),
                                          f"v{previous.number}", f"v{version.number}", lineterm="", n=1))
        diffs.append((text.locale, "\n".join(lines)))
    return diffs


@login_required
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    version = access_consent_version(request.actor, version_id, Permission.PROGRAM_VIEW)
    return render(request, "consent/console/version.html", _version_context(request, version))


def _version_context(request: HttpRequest, version: ConsentVersion, **extra: object) -> dict[str, object]:
    document = version.document
    actor = request.actor
    is_author = actor.user_id is not None and actor.user_id == version.created_by_id
    return {
        "version": version, "texts": list(version.texts.order_by("locale")), "history": _history(version),
        "changes": _changes(version),
        "may_edit": actor.can(Permission.CONTENT_EDIT, document.program_id, document.market.country),
        "may_review": actor.can(Permission.CONTENT_REVIEW, document.program_id, document.market.country),
        "is_author": is_author, "signed": version.records.exists(),
        "return_form": extra.get("return_form") or ReturnForm(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def new_version(request: HttpRequest, country: str, audience: str) -> HttpResponse:
    """Write the next version of a market's document, starting from the latest one's words."""
    scope = console_scope(request)
    market = next((m for m in scope.markets if m.country == country), None)
    if scope.program is None or market is None or audience not in ConsentDocument.Audience.values or \
            not request.actor.can(Permission.CONTENT_EDIT, scope.program.pk, country):
        raise NotFound()
    latest = (ConsentVersion.objects.filter(document__program=scope.program, document__market=market,
                                            document__audience=audience)
              .prefetch_related("texts").order_by("-number").first())
    purposes = latest.purposes if latest else _purposes_for(market, audience)
    form = ConsentDraftForm(request.POST or None, locales=list(market.locales), purposes=purposes,
                            initial=ConsentDraftForm.initial_from(latest) if latest else {})
    if request.method == "POST" and form.is_valid():
        with shown_on_page(form=form, rename=_draft_field):
            version = draft_consent_version(
                actor=request.actor, program=scope.program, market=market, audience=audience,
                title=f"{scope.program.name} · {market.name} · {ConsentDocument.Audience(audience).label}",
                purposes=purposes, texts={loc: TextDraft(**d) for loc, d in form.drafts().items()},
                material_change=form.cleaned_data["material_change"],
                change_summary=form.cleaned_data["change_summary"])
            messages.success(request, _("Draft saved. Submit it for review when it is ready."))
            return redirect("console-consent:version", version_id=version.pk)
    return render(request, "consent/console/version_form.html", {
        "form": form, "market": market, "audience": ConsentDocument.Audience(audience), "latest": latest},
        status=400 if form.errors else 200)


def _draft_field(name: str) -> str:
    """Return the draft form's flat name for a service's texts.<locale>.purpose_texts.<code>."""
    return service_field(name.removeprefix("texts.").replace(".purpose_texts.", "__purpose__"))


@login_required
@require_http_methods(["GET", "POST"])
def revise_version(request: HttpRequest, version_id: int) -> HttpResponse:
    version = access_consent_version(request.actor, version_id, Permission.CONTENT_EDIT)
    market = version.document.market
    form = ConsentDraftForm(request.POST or None, locales=list(market.locales), purposes=version.purposes,
                            initial={**ConsentDraftForm.initial_from(version),
                                     "material_change": version.material_change,
                                     "change_summary": version.change_summary})
    if request.method == "POST" and form.is_valid():
        with shown_on_page(form=form, rename=_draft_field):
            revise_draft_consent_version(
                actor=request.actor, version=version,
                texts={loc: TextDraft(**d) for loc, d in form.drafts().items()},
                material_change=form.cleaned_data["material_change"],
                change_summary=form.cleaned_data["change_summary"])
            messages.success(request, _("Draft saved. Submit it for review when it is ready."))
            return redirect("console-consent:version", version_id=version.pk)
    return render(request, "consent/console/version_form.html", {
        "form": form, "market": market, "audience": version.document.get_audience_display(), "version": version},
        status=400 if form.errors else 200)


@login_required
@require_POST
def review_action(request: HttpRequest, version_id: int, action: str) -> HttpResponse:
    """submit (author), return with a comment, approve (another person), retire (reviewers)."""
    needed = Permission.CONTENT_EDIT if action == "submit" else Permission.CONTENT_REVIEW
    version = access_consent_version(request.actor, version_id, needed)
    if action not in {"submit", "approve", "retire", "return"}:
        raise NotFound()
    return_form = ReturnForm(request.POST if action == "return" else None)
    # A refused return is shown next to its comment field; any other refusal as a message.
    with shown_on_page(form=return_form if action == "return" else None,
                       request=None if action == "return" else request, rename=service_field) as refusal:
        if action == "submit":
            submit_consent_version(actor=request.actor, version=version)
            messages.success(request, _("Submitted for review."))
        elif action == "approve":
            approve_consent_version(actor=request.actor, version=version)
            messages.success(request, _("Approved: this version is now the one people sign."))
        elif action == "retire":
            retire_consent_version(actor=request.actor, version=version)
            messages.success(request, _("Retired: nobody can sign this version any more."))
        else:
            if not return_form.is_valid():
                raise InvalidInput(_("Say what must change."), field="comment")
            return_consent_version(actor=request.actor, version=version,
                                   comment=return_form.cleaned_data["comment"])
            messages.success(request, _("Returned to the author with your comment."))
    if refusal:
        version.refresh_from_db()
        return render(request, "consent/console/version.html",
                      _version_context(request, version, return_form=return_form), status=400)
    return redirect("console-consent:version", version_id=version.pk)

