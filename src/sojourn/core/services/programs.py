"""Sponsors and programs."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import AccessDenied, Conflict, InvalidInput
from sojourn.core.models import Product, Program, Sponsor
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit


def create_sponsor(*, actor: Actor, slug: str, name: str) -> Sponsor:
    if not actor.is_privileged:
        raise AccessDenied()
    if not name.strip():
        raise InvalidInput("A sponsor needs a name.", field="name")
    with transaction.atomic(durable=True):
        return new_sponsor(actor=actor, slug=slug, name=name)


def new_sponsor(*, actor: Actor, slug: str, name: str) -> Sponsor:
    """What create_sponsor writes, inside the caller's transaction (a program definition's apply)."""
    if not actor.is_privileged:
        raise AccessDenied()
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
        return new_program(actor=actor, sponsor=sponsor, slug=slug, name=name, indication=indication)


def new_program(*, actor: Actor, sponsor: Sponsor, slug: str, name: str, indication: str) -> Program:
    """What create_program writes, inside the caller's transaction (a program definition's apply)."""
    if not actor.is_privileged:
        raise AccessDenied()
    try:
        with transaction.atomic():
            program = Program.objects.create(sponsor=sponsor, slug=slug, name=name.strip(),
                                             indication=indication.strip())
    except IntegrityError as exc:
        raise Conflict(f"A program with the slug {slug!r} exists.", field="slug") from exc
    record_audit(actor=actor, action="program.created", subject_type="program", subject_id=program.pk,
                 program_id=program.pk, after={"slug": slug, "name": program.name, "sponsor": sponsor.slug})
    return program


def describe_program(*, actor: Actor, program: Program, name: str, indication: str) -> Program:
    """Rename the program or restate its indication (inside the caller's transaction)."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    before = {"name": program.name, "indication": program.indication}
    after = {"name": name.strip(), "indication": indication.strip()}
    if before != after:
        program.name, program.indication = after["name"], after["indication"]
        program.save(update_fields=["name", "indication"])
        record_audit(actor=actor, action="program.described", subject_type="program", subject_id=program.pk,
                     program_id=program.pk, before=before, after=after)
    return program


PRODUCT_FIELDS = ("name", "strength", "form", "route", "atc")


def define_product(*, actor: Actor, program: Program, code: str, position: int, **details: str) -> Product:
    """Add a product to the program or change how it is described (inside the caller's transaction)."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    values = {name: (details.get(name) or "").strip() for name in PRODUCT_FIELDS}
    product = Product.objects.filter(program=program, code=code).first()
    before = None if product is None else {name: getattr(product, name) for name in PRODUCT_FIELDS}
    if before == values and product is not None and product.position == position:
        return product
    product, created = Product.objects.update_or_create(program=program, code=code,
                                                        defaults={**values, "position": position})
    record_audit(actor=actor, action="product.defined" if created else "product.changed", subject_type="product",
                 subject_id=code, program_id=program.pk, before=before, after=values)
    return product


# What a program's definition states that lives on the program itself, each audited as its own change.
DEFINITION_PARTS = ("kpi_targets", "content_levels", "safety_deadlines")


def set_definition_parts(*, actor: Actor, program: Program, **parts: Any) -> Program:
    """The KPIs' targets per stage and market, the names of the content levels and the sponsor's
    forward deadlines, as the program's definition states them."""
    actor.require(Permission.PROGRAM_MANAGE, program.pk)
    for name, value in parts.items():
        if name not in DEFINITION_PARTS:
            raise TypeError(f"{name} is not a part of a program's definition kept on the program")
        before = getattr(program, name)
        if value != before:
            setattr(program, name, value)
            program.save(update_fields=[name])
            record_audit(actor=actor, action=f"program.{name}_set", subject_type="program", subject_id=program.pk,
                         program_id=program.pk, before=before, after=value)
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
        if not locked.program_markets.filter(live_at__isnull=False).exists():
            raise InvalidInput(_("Take at least one market live before launching the program: its checklist says "
                                 "what it still needs (sojourn program check)."), field="markets")
        locked.status = Program.Status.LIVE
        locked.save(update_fields=["status"])
        record_audit(actor=actor, action="program.launched", subject_type="program", subject_id=locked.pk,
                     program_id=locked.pk, before={"status": "draft"}, after={"status": "live"})
        return locked
