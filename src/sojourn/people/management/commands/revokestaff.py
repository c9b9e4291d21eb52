"""sojourn revokestaff --email E --program SLUG: take a staff member's role in a program away."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.errors import SojournError
from sojourn.core.management.base import SojournCommand
from sojourn.people.models import Membership
from sojourn.people.services.staff import revoke_membership


class Command(SojournCommand):
    help = "Take a staff member's role in a program away (the account stays; the audit trail says who had what)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--program", required=True, help="the program's slug")

    def handle(self, *args: Any, **o: Any) -> None:
        user = get_user_model().objects.filter(username__iexact=o["email"].strip()).first()
        membership = Membership.objects.filter(user=user, program__slug=o["program"]).first() if user else None
        if membership is None:
            raise CommandError(f"{o['email']} has no role in a program with the slug {o['program']!r}")
        try:
            revoke_membership(actor=Actor.system("cli: revokestaff"), membership_id=membership.pk)
        except SojournError as exc:
            raise self.fail(exc) from exc
        self.stdout.write(f"revoked the {membership.role} role of {user.get_username()} in {o['program']}")
