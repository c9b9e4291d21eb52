"""Medical, legal and regulatory review: a draft is submitted, a reviewer who wrote none of it
approves it with the job code and expiry date, or returns it with comments; an approved version is
superseded by the next, withdrawn by a reviewer, or expires on its date."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.content.models import ContentItem, ContentVariant, ContentVersion, ReviewComment
from sojourn.content.services.library import check_variants, variants_of
from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, ErrorDetail, InvalidInput
from sojourn.core.permissions import Permission
from sojourn.core.review import State, Step, Workflow, comment_text
from sojourn.core.services.audit import record_audit

APPROVAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._ -]{2,59}$")
LONGEST_APPROVAL = timedelta(days=3 * 366)
Status = ContentVersion.Status


WORKFLOW: Workflow[ContentVersion] = Workflow(
    model=ContentVersion, subject_type="content_item", edit=Permission.CONTENT_EDIT, review=Permission.CONTENT_REVIEW,
    scope=lambda v: (v.item.program_id, None), subject_id=lambda v: v.item.code, number=lambda v: v.number,
    authors=lambda v: {v.created_by_id, v.submitted_by_id},
    states={Status.SUPERSEDED: State.RETIRED, Status.EXPIRED: State.RETIRED, Status.WITHDRAWN: State.RETIRED},
    stored={Step.RETIRE: Status.WITHDRAWN},
    actions={Step.SUBMIT: "content.submitted", Step.RETURN: "content.returned", Step.APPROVE: "content.approved",
             Step.RETIRE: "content.withdrawn"},
    editors_abandon=True, related=("item",))


def submit_for_review(*, actor: Actor, version: ContentVersion) -> ContentVersion:
    WORKFLOW.check(actor, version, Step.SUBMIT)
    variants = variants_of(version)
    if not variants:
        raise InvalidInput(_("Write the text in at least one language before submitting."), field="variants")
    problems = check_variants(version.item, variants)  # the program may have changed since it was saved
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, version, Step.SUBMIT, submitted_at=timezone.now(),
                             submitted_by_id=actor.user_id)


def approve(*, actor: Actor, version: ContentVersion, approval_code: str, expires_on: date | None,
            today: date | None = None) -> ContentVersion:
    """Four eyes: whoever wrote or submitted the words cannot approve them."""
    WORKFLOW.check(actor, version, Step.APPROVE)
    today = today or timezone.localdate()
    problems = []
    code = approval_code.strip()
    if not APPROVAL_CODE.match(code):
        problems.append(ErrorDetail(_("Give the approval (job) code: 3 to 60 letters, digits and / . _ -."),
                                    field="approval_code"))
    if expires_on is None or expires_on <= today:
        problems.append(ErrorDetail(_("The expiry date must be after today."), field="expires_on"))
    elif expires_on - today > LONGEST_APPROVAL:
        problems.append(ErrorDetail(_("An approval lasts at most three years."), field="expires_on"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    now = timezone.now()
    with transaction.atomic(durable=True):
        ContentItem.objects.select_for_update().filter(pk=version.item_id).first()
        for older in ContentVersion.objects.filter(item_id=version.item_id, status=Status.APPROVED):
            WORKFLOW.move(actor, older, Step.RETIRE, to=Status.SUPERSEDED, action="content.superseded",
                          ended_at=now, end_reason=f"superseded by v{version.number}")
        return WORKFLOW.move(actor, version, Step.APPROVE,
                             after={"approval_code": code,
                                    "expires_on": expires_on.isoformat()},  # type: ignore[union-attr]
                             approval_code=code, expires_on=expires_on, approved_at=now, approved_by_id=actor.user_id)


def comment(*, actor: Actor, version: ContentVersion, text: str, locale: str = "",
            author_name: str = "") -> ReviewComment:
    if not (actor.can(Permission.CONTENT_REVIEW, version.item.program_id)
            or actor.can(Permission.CONTENT_EDIT, version.item.program_id)):
        raise AccessDenied()
    text = text.strip()
    if not text:
        raise InvalidInput(_("Write the comment."), field="text")
    if len(text) > 4000:
        raise InvalidInput(_("A comment has at most 4,000 characters."), field="text")
    if locale and not version.variants.filter(locale=locale).exists():
        raise InvalidInput(_("This version has no %(locale)s text.") % {"locale": locale}, field="locale")
    with transaction.atomic(durable=True):
        made = ReviewComment.objects.create(version=version, author_id=actor.user_id,
                                            author_name=(author_name or actor.label)[:200], locale=locale,
                                            text=text, created_at=timezone.now())
        record_audit(actor=actor, action="content.commented", subject_type="content_item",
                     subject_id=version.item.code, program_id=version.item.program_id,
                     after={"version": version.number, "locale": locale})
    return made


def return_to_author(*, actor: Actor, version: ContentVersion, text: str, author_name: str = "") -> ContentVersion:
    WORKFLOW.check(actor, version, Step.RETURN, comment=text)
    with transaction.atomic(durable=True):
        returned = WORKFLOW.move(actor, version, Step.RETURN, after={"comment": comment_text(text)})
        ReviewComment.objects.create(version=version, author_id=actor.user_id,
                                     author_name=(author_name or actor.label)[:200], text=text.strip()[:4000],
                                     created_at=timezone.now())
    return returned


def withdraw(*, actor: Actor, version: ContentVersion, reason: str) -> ContentVersion:
    """Stop using an approved version at once (or abandon a draft): nothing resolves to it any more."""
    WORKFLOW.check(actor, version, Step.RETIRE)
    if not reason.strip():
        raise InvalidInput(_("Say why it is withdrawn."), field="reason")
    with transaction.atomic(durable=True):
        return WORKFLOW.move(actor, version, Step.RETIRE, after={"reason": reason.strip()[:300]},
                             ended_at=timezone.now(), end_reason=reason.strip()[:300])


def start_revision(*, actor: Actor, item: ContentItem) -> ContentVersion:
    """A new draft holding the words of the latest version, to change and review again."""
    actor.require(Permission.CONTENT_EDIT, item.program_id)
    now = timezone.now()
    with transaction.atomic(durable=True):
        ContentItem.objects.select_for_update().filter(pk=item.pk).first()
        if item.versions.filter(status__in=[Status.DRAFT, Status.IN_REVIEW]).exists():
            raise Conflict(_("This item already has a version being written or reviewed."), field="status")
        latest = item.versions.order_by("-number").first()
        number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = ContentVersion.objects.create(item=item, number=number, created_at=now, created_by_id=actor.user_id)
        if latest is not None:
            ContentVariant.objects.bulk_create([
                ContentVariant(version=draft, locale=v.locale, title=v.title, subject=v.subject, summary=v.summary,
                               body=v.body, url=v.url) for v in latest.variants.all()])
        record_audit(actor=actor, action="content.revision_started", subject_type="content_item",
                     subject_id=item.code, program_id=item.program_id, after={"version": number})
    return draft


def expire_due(*, actor: Actor, now: datetime | None = None) -> int:
    """Mark approved versions past their last day as expired (run by the worker). What is expired
    never reached a patient anyway: resolving content checks the date itself."""
    today = timezone.localdate(now or timezone.now())
    count = 0
    with transaction.atomic(durable=True):
        for version in ContentVersion.objects.filter(status=Status.APPROVED, expires_on__lt=today):
            WORKFLOW.move(actor, version, Step.RETIRE, to=Status.EXPIRED, action="content.expired",
                          ended_at=now or timezone.now(), end_reason=f"expired after {version.expires_on}")
            count += 1
    return count
