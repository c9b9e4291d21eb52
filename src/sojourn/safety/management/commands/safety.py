"""`sojourn safety list|reconcile|decide|assess|forward|nullify`: the safety officer's queue from a terminal.

Listing and the reconciliation are the machine operator's (as every command run on the server is); a
decision is a person's, so `decide`, `assess`, `forward` and `nullify` name the safety officer with
`--by EMAIL` and are checked against that person's role, as in the console."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.people.queries import actor_for_user
from sojourn.safety.models import Case, Intake
from sojourn.safety.queries import safety_queue
from sojourn.safety.services import (
    assess_seriousness,
    decide_intake,
    export_reconciliation,
    forward_case,
    nullify_case,
)

KINDS = {"adverse-event": "adverse_event", "special-situation": "special_situation",
         "product-complaint": "product_complaint", "not-ae": None}


class Command(SojournCommand):
    help = ("The safety queue: list what awaits a decision or forwarding; a month's reconciliation; decide, "
            "assess, forward, nullify.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="open intakes and cases, soonest deadline first")
        listing.add_argument("--program", required=True)
        listing.add_argument("--market", help="a country code, such as DE")
        listing.add_argument("--json", action="store_true")
        reconcile = sub.add_parser("reconcile", help="a month's reconciliation per market, as CSV or PDF")
        reconcile.add_argument("--program", required=True)
        reconcile.add_argument("--month", required=True, help="YYYY-MM, in each market's own time zone")
        reconcile.add_argument("--market", help="a country code, such as DE; default: every market")
        reconcile.add_argument("--format", choices=["csv", "pdf"], default="csv")
        reconcile.add_argument("--language", default="en", help="of the PDF: de, en, fr or ja")
        reconcile.add_argument("--out", required=True, help="the file to write")
        decide = sub.add_parser("decide", help="decide an intake: a case, a follow-up, or not an adverse event")
        decide.add_argument("intake", type=int)
        decide.add_argument("--kind", required=True, choices=sorted(KINDS))
        decide.add_argument("--reason", default="")
        decide.add_argument("--follow-up-of", metavar="CASE", help="the case number this adds to")
        for name, text in (("assess", "record whether the case is serious"), ("forward", "drug safety has it"),
                           ("nullify", "a case opened in error")):
            command = sub.add_parser(name, help=text)
            command.add_argument("case", help="the case number, such as DE-2026-00001")
            if name == "assess":
                command.add_argument("--serious", choices=["yes", "no"], required=True)
            if name == "nullify":
                command.add_argument("--reason", required=True)
        for command in (decide, *(sub.choices[n] for n in ("assess", "forward", "nullify"))):
            command.add_argument("--by", required=True, metavar="EMAIL", help="the safety officer deciding")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list(options)
            return
        if options["action"] == "reconcile":
            self._reconcile(options)
            return
        actor, now = self._person(options["by"]), timezone.now()
        if options["action"] == "decide":
            intake = Intake.objects.select_related("patient__market").filter(pk=options["intake"]).first()
            if intake is None:
                raise CommandError(f"no intake {options['intake']}")
            follow_up = self._case(options["follow_up_of"]) if options["follow_up_of"] else None
            decided = decide_intake(actor=actor, intake=intake, kind=KINDS[options["kind"]], reason=options["reason"],
                                    at=now, follow_up_of=follow_up)
            self.stdout.write(f"intake {decided.pk}: " + (f"case {decided.case.number} version {decided.case.version}"
                                                          if decided.case else "not an adverse event"))
            return
        case = self._case(options["case"])
        if options["action"] == "assess":
            case = assess_seriousness(actor=actor, case=case, serious=options["serious"] == "yes", at=now)
            due = case.authority_due_at.isoformat() if case.authority_due_at else "periodic report only"
            self.stdout.write(f"case {case.number}: {'serious' if case.serious else 'not serious'}, authority {due}")
        elif options["action"] == "forward":
            case = forward_case(actor=actor, case=case, at=now)
            late = "on time" if case.forwarded_at <= case.forward_due_at else "LATE"
            self.stdout.write(f"case {case.number}: forwarded {late}")
        else:
            case = nullify_case(actor=actor, case=case, reason=options["reason"], at=now)
            self.stdout.write(f"case {case.number}: nullified")

    def _reconcile(self, options: dict[str, Any]) -> None:
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"no program {options['program']}")
        try:
            month = datetime.strptime(options["month"], "%Y-%m").date()
        except ValueError as exc:
            raise CommandError(f"--month: {options['month']!r} is not YYYY-MM") from exc
        market = (options["market"] or "").upper() or None
        if market and not program.program_markets.filter(market__country=market).exists():
            raise CommandError(f"--market: the program has no market {market}")
        content, _name, _media = export_reconciliation(
            actor=Actor.system("sojourn safety reconcile"), program=program, month=month, fmt=options["format"],
            language=options["language"], at=timezone.now(), market=market)
        Path(options["out"]).write_bytes(content)
        self.stdout.write(f"wrote {options['out']} ({len(content):,} bytes)")

    def _list(self, options: dict[str, Any]) -> None:
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"no program {options['program']}")
        now = timezone.now()
        items = safety_queue(Actor.system("cli"), program, market=(options["market"] or "").upper() or None)
        if options["json"]:
            self.stdout.write(json.dumps([{
                "kind": i.kind, "reference": i.reference, "market": i.market, "patient": i.patient, "what": i.what,
                "day_zero": i.day_zero.isoformat(), "due_at": i.due_at.isoformat(), "state": i.state(now),
                "serious": i.serious, "version": i.version} for i in items], indent=1))
            return
        for i in items:
            self.stdout.write(f"{i.state(now):8} {i.due_at:%Y-%m-%d %H:%M} {i.market} {i.kind:6} {i.reference:14} "
                              f"{i.patient} {i.what}")
        self.stdout.write(f"{len(items)} open, {sum(i.state(now) == 'overdue' for i in items)} overdue")

    def _person(self, email: str) -> Actor:
        user = get_user_model().objects.filter(username__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"no active staff member {email}")
        return actor_for_user(user)

    def _case(self, number: str) -> Case:
        case = Case.objects.select_related("market", "patient__market").filter(number=number.strip().upper()).first()
        if case is None:
            raise CommandError(f"no case {number}")
        return case
