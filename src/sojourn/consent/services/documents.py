"""Write, review, approve and retire consent versions (MLR review: four eyes, then immutable)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.consent.errors import ConsentImmutable
from sojourn.consent.models import ConsentDocument, ConsentRecord, ConsentText, ConsentVersion, ReconsentRequest
from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput, NotFound
from sojourn.core.models import Market, Program
from sojourn.core.packs import PURPOSES
from sojourn.core.permissions import Permission
from sojourn.core.review import Step, Workflow, comment_text
from sojourn.core.services.audit import record_audit


@dataclass(frozen=True)
class TextDraft:
    title: str
    body: str
    purpose_texts: dict[str, str]


def text_sha256(title: str, body: str, purpose_texts: dict[str, str], purposes: list[dict]) -> str:
    """Hash exactly what the signer is shown: title, body, and each purpose with its label and weight."""
    shown = {"title": title, "body": body,
             "purposes": [{"code": p["code"], "required": p["required"], "label": purpose_texts[p["code"]]}
                          for p in purposes]}
    return hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _check_draft(market: Market, audience: str, purposes: list[dict], texts: dict[str, TextDraft]) -> list[dict]:
    problems: list[ErrorDetail] = []
    pack = market.pack["regulatory"]["consent_purposes"]
    required, optional = set(pack["required"]), set(pack["optional"])
    codes = [p.get("code") for p in purposes]
    normalized = []
    for i, purpose in enumerate(purposes):
        code = purpose.get("code")
        if code not in PURPOSES:
            problems.append(ErrorDetail(_("%(code)s is not a consent purpose.") % {"code": code},
                                        field=f"purposes[{i}]"))
            continue
        if audience == ConsentDocument.Audience.PATIENT and code not in required | optional:
            problems.append(ErrorDetail(_("The market pack does not offer %(code)s.") % {"code": code},
                                        field=f"purposes[{i}]"))
        want_required = code in required or code == "program_participation"
        if bool(purpose.get("required")) != want_required:
            problems.append(ErrorDetail(
                _("%(code)s must be required.") % {"code": code} if want_required
                else _("%(code)s must be optional in this market.") % {"code": code}, field=f"purposes[{i}]"))
        normalized.append({"code": code, "required": want_required})
    if len(set(codes)) != len(codes):
        problems.append(ErrorDetail(_("A purpose is listed twice."), field="purposes"))
    if "program_participation" not in codes:
        problems.append(ErrorDetail(_("Taking part in the program must be a required purpose."), field="purposes"))
    missing_locales = sorted(set(market.locales) - set(texts))
    for locale in missing_locales:
        problems.append(ErrorDetail(_("The text in %(locale)s is missing.") % {"locale": locale},
                                    field=f"texts.{locale}"))
    for locale, text in texts.items():
        if locale not in market.locales:
            problems.append(ErrorDetail(_("%(locale)s is not a language of this market.") % {"locale": locale},
                                        field=f"texts.{locale}"))
            continue
        if not text.title.strip() or not text.body.strip():
            problems.append(ErrorDetail(_("Give a title and a body."), field=f"texts.{locale}"))
        for code in codes:
            if not str(text.purpose_texts.get(code, "")).strip():
                problems.append(ErrorDetail(_("Explain the purpose %(code)s.") % {"code": code},
                                            field=f"texts.{locale}.purpose_texts.{code}"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    return normalized


def _write_texts(version: ConsentVersion, texts: dict[str, TextDraft], purposes: list[dict]) -> None:
    for locale, text in texts.items():
        title, body = text.title.strip(), text.body.strip()
        labels = {p["code"]: text.purpose_texts[p["code"]].strip() for p in purposes}
        ConsentText.objects.create(version=version, locale=locale, title=title, body=body, purpose_texts=labels,
                                   sha256=text_sha256(title, body, labels, purposes))


def draft_consent_version(*, actor: Actor, program: Program, market: Market, audience: str, title: str,
                          purposes: list[dict], texts: dict[str, TextDraft], material_change: bool = False,
                          change_summary: str = "") -> ConsentVersion:
    """Write a new draft version; the document is created with its first version."""
    actor.require(Permission.CONTENT_EDIT, program.pk, market.country)
    normalized = _check_draft(market, audience, purposes, texts)
    with transaction.atomic(durable=True):
        document, _created = ConsentDocument.objects.get_or_create(
            program=program, market=market, audience=audience, defaults={"title": title})
        ConsentDocument.objects.select_for_update().filter(pk=document.pk).first()
        number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ConsentVersion.objects.create(
            document=document, number=number, purposes=normalized, material_change=material_change,
            change_summary=change_summary, created_by_id=actor.user_id)
        _write_texts(version, texts, normalized)
        record_audit(actor=actor, action="consent_version.drafted", subject_type="consent_version",
                     subject_id=version.pk, program_id=program.pk, market=market.country,
                     after={"document": document.pk, "number": number, "locales": sorted(texts)})
        return version


def revise_draft_consent_version(*, actor: Actor, version: ConsentVersion, texts: dict[str, TextDraft],
                                 material_change: bool, change_summary: str) -> ConsentVersion:
    """Rewrite the texts of a draft (a new one, or one a reviewer returned); approved ones never change."""
    document = version.document
    actor.require(Permission.CONTENT_EDIT, document.program_id, document.market.country)
    normalized = _check_draft(document.market, document.audience, version.purposes, texts)
    with transaction.atomic(durable=True):
        locked = ConsentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != ConsentVersion.Status.DRAFT:
            raise ConsentImmutable(_("Only a draft can be rewritten; this version is %(status)s.")
                                   % {"status": locked.get_status_display()})
        locked.texts.all().delete()
        _write_texts(locked, texts, normalized)
        locked.material_change, locked.change_summary = material_change, change_summary.strip()
        locked.save(update_fields=["material_change", "change_summary"])
        record_audit(actor=actor, action="consent_version.revised", subject_type="consent_version",
                     subject_id=locked.pk, program_id=document.program_id, market=document.market.country,
                     after={"locales": sorted(texts), "material_change": material_change})
        return locked


def access_consent_version(actor: Actor, version_id: int, permission: Permission) -> ConsentVersion:
    version = (ConsentVersion.objects.select_related("document__program", "document__market")
               .filter(pk=version_id).first())
    if version is None or not actor.can(permission, version.document.program_id, version.document.market.country):
        raise NotFound()
    return version


WORKFLOW: Workflow[ConsentVersion] = Workflow(
    model=ConsentVersion, subject_type="consent_version", edit=Permission.CONTENT_EDIT,
    review=Permission.CONTENT_REVIEW, scope=lambda v: (v.document.program_id, v.document.market.country),
    subject_id=lambda v: v.pk, number=lambda v: v.number, authors=lambda v: {v.created_by_id},
    related=("document__market",))


def submit_consent_version(*, actor: Actor, version: ConsentVersion) -> ConsentVersion:
    WORKFLOW.check(actor, version, Step.SUBMIT)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, version, Step.SUBMIT, submitted_at=timezone.now())


def return_consent_version(*, actor: Actor, version: ConsentVersion, comment: str) -> ConsentVersion:
    """A reviewer sends the version back to its author with the reason."""
    WORKFLOW.check(actor, version, Step.RETURN, comment=comment)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, version, Step.RETURN, after={"comment": comment_text(comment)})


def approve_consent_version(*, actor: Actor, version: ConsentVersion) -> ConsentVersion:
    """Approve (a reviewer other than the author), retire the version it replaces, and ask for
    consent again wherever the change is material."""
    WORKFLOW.check(actor, version, Step.APPROVE)
    now = timezone.now()
    with transaction.atomic(durable=True):
        texts = list(version.texts.order_by("locale"))
        digest = hashlib.sha256("".join(t.sha256 for t in texts).encode()).hexdigest()
        approved = WORKFLOW.move(actor, version, Step.APPROVE, after={"sha256": digest},
                                 approved_by_id=actor.user_id, approved_at=now, sha256=digest)
        for older in ConsentVersion.objects.select_for_update().filter(
                document=version.document, status=ConsentVersion.Status.APPROVED).exclude(pk=version.pk):
            WORKFLOW.move(actor, older, Step.RETIRE, after={"replaced_by": approved.number}, retired_at=now)
        if approved.material_change:
            stale = ConsentRecord.objects.filter(version__document=version.document, status="active",
                                                 version__number__lt=approved.number)
            ReconsentRequest.objects.bulk_create(
                [ReconsentRequest(record=r, new_version=approved, requested_at=now) for r in stale],
                ignore_conflicts=True)
        return approved


def retire_consent_version(*, actor: Actor, version: ConsentVersion) -> ConsentVersion:
    WORKFLOW.check(actor, version, Step.RETIRE)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, version, Step.RETIRE, retired_at=timezone.now())
