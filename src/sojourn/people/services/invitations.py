"""Invitation codes that dermatologists hand their patients: issued in print runs by the program team,
used once to enroll (see `consent.services.enrollment.enroll_patient`)."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.queries import markets_for
from sojourn.core.services.audit import record_audit
from sojourn.people.models import Hcp, Invitation

# No 0/O, 1/I/L or U/V: codes are typed from a card.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
MAX_RUN = 10_000


def new_invitation_code() -> str:
    """Like `AB3D-7KQ9`: 29⁸ (about 500 billion) codes, so guessing one that was printed is hopeless."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_invitation_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else code.strip().upper()


def issue_invitations(*, actor: Actor, program: Program, market: str, count: int, hcp: Hcp | None = None,
                      batch: str = "", now: datetime | None = None) -> list[Invitation]:
    """A print run of `count` invitation codes for a market, handed out by `hcp` if given; unnamed, it
    is named after the market and the time."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk, market)
    market_row = markets_for(Actor.system("lookup"), program).filter(country=market).first()
    if market_row is None:
        raise InvalidInput(_("The program does not run in market %(market)s.") % {"market": market}, field="market")
    if not 1 <= count <= MAX_RUN:
        raise InvalidInput(_("Issue from 1 to %(n)d invitations at a time.") % {"n": MAX_RUN}, field="count")
    if hcp is not None and (hcp.program_id != program.pk or hcp.market_id != market_row.pk
                            or hcp.status != Hcp.Status.ACTIVE):
        raise InvalidInput(_("Choose an active professional of this program in %(market)s.") % {"market": market},
                           field="hcp")
    if len(batch) > 80:
        raise InvalidInput(_("Name the print run in at most 80 characters."), field="batch")
    # The name goes into file names and the print house's spreadsheet (no formulas, no odd characters).
    if batch.strip() and not (batch.strip()[0].isalnum()
                              and all(c.isalnum() or c in " ._-/" for c in batch.strip())):
        raise InvalidInput(_("Name the print run with letters, digits, spaces, dots, hyphens and slashes, "
                             "starting with a letter or digit."), field="batch")
    now = now or timezone.now()
    batch = batch.strip() or f"{market}-{now:%Y%m%d-%H%M%S}"  # a run is found again by its name
    with transaction.atomic():
        for attempt in range(3):  # a code drawn twice (about one run in fifty million) is drawn again
            try:
                with transaction.atomic():
                    made = Invitation.objects.bulk_create([
                        Invitation(program=program, market=market_row, hcp=hcp, code=new_invitation_code(),
                                   batch=batch, issued_at=now) for _ in range(count)])
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        record_audit(actor=actor, action="invitations.issued", subject_type="program", subject_id=program.slug,
                     program_id=program.pk, market=market,
                     after={"count": count, "hcp": hcp.pseudonym if hcp else None, "batch": batch})
    return made
