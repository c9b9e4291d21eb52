"""sojourn token issue | list | rotate | revoke | service-account: API tokens from the command line.

    sojourn token service-account "Veeva CRM" --program psoriasis --role program_manager --markets DE
    sojourn token issue --name crm --service-account "Veeva CRM" --program psoriasis --permissions events.write
    sojourn token issue --name reports --user ana@sponsor.example --program psoriasis --days 30
    sojourn token list [--program SLUG]
    sojourn token rotate sjn_AbCdEfGh [--overlap-hours 24]
    sojourn token revoke sjn_AbCdEfGh

The token is printed once, alone on standard output (so `TOKEN=$(sojourn token issue …)` works); what
it is for goes to standard error.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils.text import slugify

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.permissions import Role
from sojourn.people.models import ApiToken
from sojourn.people.services import staff, tokens


def _list(value: str | None) -> list[str] | None:
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


class Command(SojournCommand):
    help = "Issue, list, rotate and revoke API tokens; create service accounts for integrations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a token and print it once")
        issue.add_argument("--name", required=True, help="after the system that will use it")
        owner = issue.add_mutually_exclusive_group(required=True)
        owner.add_argument("--user", help="a staff member's email")
        owner.add_argument("--service-account", help="a service account's name (with --program)")
        issue.add_argument("--program", help="the program's slug; omit for every program of the owner")
        issue.add_argument("--markets", help="comma-separated country codes; omit for every market")
        issue.add_argument("--permissions", help="comma-separated permission names; omit for all the owner's")
        issue.add_argument("--days", type=int, default=tokens.DEFAULT_DAYS, help="how long it runs (1-365)")
        listing = sub.add_parser("list", help="every token: scope, expiry, state, last use (never the token)")
        listing.add_argument("--program", help="only tokens scoped to this program")
        rotate = sub.add_parser("rotate", help="issue a token's successor; the old one works for the overlap")
        rotate.add_argument("prefix", help="the token's first 12 characters, as listed")
        rotate.add_argument("--overlap-hours", type=int, default=tokens.DEFAULT_OVERLAP_HOURS)
        revoke = sub.add_parser("revoke", help="stop a token at once")
        revoke.add_argument("prefix", help="the token's first 12 characters, as listed")
        account = sub.add_parser("service-account", help="create an integration's own account with one role")
        account.add_argument("name")
        account.add_argument("--program", required=True)
        account.add_argument("--role", required=True, choices=Role.values)
        account.add_argument("--markets", help="comma-separated country codes; omit for every market")

    def handle(self, *args: Any, action: str, **o: Any) -> None:
        actor = Actor.system(f"cli: token {action}")
        getattr(self, f"_{action.replace('-', '_')}")(actor, o)

    def _program(self, slug: str | None) -> Program | None:
        if slug is None:
            return None
        program = Program.objects.filter(slug=slug).first()
        if program is None:
            raise CommandError(f"no program with the slug {slug!r}")
        return program

    def _by_prefix(self, prefix: str) -> ApiToken:
        rows = list(ApiToken.objects.filter(prefix=prefix.strip())[:2])
        if len(rows) != 1:
            raise CommandError(f"no token starts {prefix!r}: give the 12 characters `sojourn token list` shows"
                               if not rows else f"several tokens start {prefix!r}; revoke them by the API")
        return rows[0]

    def _issue(self, actor: Actor, o: dict[str, Any]) -> None:
        program = self._program(o["program"])
        users = get_user_model().objects
        if o["user"]:
            owner = users.filter(username__iexact=o["user"].strip(),
                                 staff_profile__service_program__isnull=True).first()
            if owner is None:
                raise CommandError(f"no staff member with the email {o['user']!r}")
        else:
            if program is None:
                raise CommandError("--service-account needs --program")
            owner = users.filter(username=f"service:{program.slug}:{slugify(' '.join(o['service_account'].split()))}",
                                 staff_profile__service_program=program).first()
            if owner is None:
                raise CommandError(f"{o['program']} has no service account named {o['service_account']!r}")
        row, token = tokens.issue_api_token(actor=actor, user=owner, name=o["name"], program=program,
                                            markets=_list(o["markets"]), permissions=_list(o["permissions"]),
                                            days=o["days"])
        self.stderr.write(f"issued {row.prefix}… ({row.name}) to {owner.get_username()}, until "
                          f"{row.expires_at:%Y-%m-%d %H:%M} UTC; it is shown this once")
        self.stdout.write(token)

    def _list(self, actor: Actor, o: dict[str, Any]) -> None:
        rows = ApiToken.objects.select_related("user", "program").order_by("-created_at", "-pk")
        if o["program"]:
            rows = rows.filter(program=self._program(o["program"]))
        for row in rows:
            scope = " ".join(part for part in (
                row.program.slug if row.program_id else "all-programs",
                ",".join(row.markets) if row.markets else "all-markets",
                ",".join(row.permissions) if row.permissions else "all-permissions") if part)
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            self.stdout.write(f"{row.prefix}  {tokens.token_state(row):8}  until {row.expires_at:%Y-%m-%d}  "
                              f"used {used}  {row.user.get_username()}  {row.name}  [{scope}]")

    def _rotate(self, actor: Actor, o: dict[str, Any]) -> None:
        old = self._by_prefix(o["prefix"])
        row, token = tokens.rotate_api_token(actor=actor, token_id=old.pk, overlap_hours=o["overlap_hours"])
        old.refresh_from_db()
        self.stderr.write(f"{row.prefix}… replaces {old.prefix}…, which works until "
                          f"{old.expires_at:%Y-%m-%d %H:%M} UTC; the new one runs until {row.expires_at:%Y-%m-%d}")
        self.stdout.write(token)

    def _revoke(self, actor: Actor, o: dict[str, Any]) -> None:
        row = tokens.revoke_api_token(actor=actor, token_id=self._by_prefix(o["prefix"]).pk)
        self.stdout.write(f"revoked {row.prefix}… ({row.name})")

    def _service_account(self, actor: Actor, o: dict[str, Any]) -> None:
        program = self._program(o["program"])
        user = staff.create_service_account(actor=actor, program=program, name=o["name"], role=Role(o["role"]),
                                            markets=_list(o["markets"]))
        self.stdout.write(f"created the service account {user.get_username()} as {o['role']}; issue it a token "
                          f"with: sojourn token issue --name NAME --service-account {o['name']!r} "
                          f"--program {program.slug}")
