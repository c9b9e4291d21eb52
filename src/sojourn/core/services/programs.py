"""Sponsors and programs."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import Program, Sponsor
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit


def create_sponsor(*, actor: Actor, slug: str, name: str) -> Sponsor:
    if not actor.is_privileged:
        raise AccessDenied()
    if not name.strip():
        raise InvalidInput("A sponsor needs a name.", field="name")
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                sponsor = Sponsor.objects.create(slug=slug, name=name.strip())
        except IntegrityError as exc:
            raise Conflict(f"A sponsor with the slug {slug!r} exists.", field="slug") from exc
        record_audit(actor=actor, action="sponsor.created", subject_type="sponsor", subject_id=sponsor.pk,
                     after={"slug": slug, "name": sponsor.name})
        return sponsor


def create_program(*, actor: Actor, sponsor: Sponsor, slug: str, name: str, indication: str) -> Program:
    if not actor.is_privileged:
        raise AccessDenied()
    if not name.strip():
        raise InvalidInput("A program needs a name.", field="name")
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                program = Program.objects.create(
                    sponsor=sponsor, slug=slug, name=name.strip(), indication=indication.strip()
                )
        except IntegrityError as exc:
            raise Conflict(f"A program with the slug {slug!r} exists.", field="slug") from exc
        record_audit(actor=actor, action="program.created", subject_type="program", subject_id=program.pk,
                     program_id=program.pk, after={"slug": slug, "name": program.name, "sponsor": sponsor.slug})
        return program


def launch_program(*, actor: Actor, program: Program) -> Program:
    """Take a program from set-up (draft) to live: it is running in at least one market. Launching a
    live program again changes nothing; a closed program stays closed."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    with transaction.atomic(durable=True):
        locked = Program.objects.select_for_update().get(pk=program.pk)
        if locked.status == Program.Status.LIVE:
            return locked
        if locked.status == Program.Status.CLOSED:
            raise Conflict(_("A closed program cannot be launched again."), field="status")
        if not locked.program_markets.exists():
            raise InvalidInput(_("Activate at least one market before launching the program."), field="markets")
        locked.status = Program.Status.LIVE
        locked.save(update_fields=["status"])
        record_audit(actor=actor, action="program.launched", subject_type="program", subject_id=locked.pk,
                     program_id=locked.pk, before={"status": "draft"}, after={"status": "live"})
        return locked
