"""One-time codes that prove an email address before a person becomes active."""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from sojourn.consent.errors import VerificationFailed
from sojourn.consent.models import Verification
from sojourn.people.models import Hcp, Patient

log = logging.getLogger(__name__)
CODE_LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5


def _hash(subject: str, code: str) -> str:
    return salted_hmac("sojourn-one-time-code", f"{subject}:{code}").hexdigest()


def _subject(verification_or_subject: Patient | Hcp) -> str:
    return verification_or_subject.pseudonym


def issue_code(*, subject: Patient | Hcp, email: str, locale: str) -> Verification:
    """Create a code, cancel earlier ones, and mail it once the transaction commits."""
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    owner = {"patient": subject} if isinstance(subject, Patient) else {"hcp": subject}
    with transaction.atomic():
        Verification.objects.filter(consumed_at__isnull=True, cancelled_at__isnull=True, **owner).update(
            cancelled_at=now)
        verification = Verification.objects.create(
            channel=Verification.Channel.EMAIL, code_hash=_hash(_subject(subject), code), created_at=now,
            expires_at=now + CODE_LIFETIME, **owner)

        # A lost code is not lost work: the person asks for another, so after-commit delivery is enough,
        # and a mail server that is down changes nothing in the answer (which must read the same for an
        # address that is not enrolled, to whom nothing is sent).
        def deliver() -> None:
            with translation.override(locale.split("-")[0]):
                subject_line = _("Your Sojourn code: %(code)s") % {"code": code}
                body = render_to_string("consent/email_code.txt", {"code": code, "minutes": 15})
            try:
                send_mail(subject_line, body, settings.DEFAULT_FROM_EMAIL, [email])
            except (OSError, smtplib.SMTPException) as error:  # its text may name the address: not logged
                log.warning("a one-time code could not be mailed to %s: %s", _subject(subject),
                            type(error).__name__)

        transaction.on_commit(deliver)
    return verification


def check_code(*, subject: Patient | Hcp, code: str) -> Verification:
    """Consume the subject's live code if it matches; count a wrong guess even though we refuse.

    Call it outside any transaction: a wrong guess must be counted even though the caller fails.
    """
    owner = {"patient": subject} if isinstance(subject, Patient) else {"hcp": subject}
    now = timezone.now()
    with transaction.atomic():
        verification = (Verification.objects.select_for_update()
                        .filter(cancelled_at__isnull=True, **owner).order_by("-created_at").first())
        if verification is None:
            raise VerificationFailed(_("There is no code to check; ask for a new one."), field="code")
        if verification.consumed_at is not None:
            raise VerificationFailed(_("This code was already used."), field="code")
        if verification.expires_at <= now:
            raise VerificationFailed(_("This code has expired; ask for a new one."), field="code")
        if verification.attempts >= MAX_ATTEMPTS:
            raise VerificationFailed(_("Too many wrong codes; ask for a new one."), field="code")
        matches = constant_time_compare(verification.code_hash, _hash(_subject(subject), code.strip()))
        if matches:
            verification.consumed_at = now
            verification.save(update_fields=["consumed_at"])
        else:
            verification.attempts += 1
            verification.save(update_fields=["attempts"])
    # Refuse only after the block, so that the counted attempt is committed.
    if not matches:
        raise VerificationFailed(_("This code is not right."), field="code")
    return verification
