"""`sojourn safety list|reconcile|decide|assess|follow-up|close-follow-up|forward|nullify|export|import-ack|
import-terms`: the safety officer's desk from a terminal.

Listing, the reconciliation, the exports and the imports of acknowledgements and term lists are the
machine operator's (as every command run on the server is); a decision is a person's, so `decide`,
`assess`, `follow-up`, `close-follow-up`, `forward` and `nullify` name the safety officer with `--by EMAIL`
and are checked against that person's role, as in the console."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.people.queries import actor_for_user
from sojourn.safety.models import Case, FollowUp, Intake
from sojourn.safety.queries import safety_queue
from sojourn.safety.services import (
    assess_case,
    assessment_input,
    close_follow_up,
    decide_intake,
    export_reconciliation,
    export_versions,
    forward_case,
    import_ack,
    import_terms,
    mark_duplicate,
    nullify_case,
    request_follow_up,
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
        decide = sub.add_parser("decide", help="decide an intake: a case, a follow-up, a duplicate, or not an AE")
        decide.add_argument("intake", type=int)
        decide.add_argument("--kind", choices=sorted(KINDS), help="required unless --duplicate-of")
        decide.add_argument("--reason", default="")
        decide.add_argument("--follow-up-of", metavar="CASE", help="the case number this adds to")
        decide.add_argument("--duplicate-of", metavar="CASE", help="the case already holding this same report")
        export = sub.add_parser("export", help="forwarded case versions: one E2B(R3) file each, or the CSV line list")
        export.add_argument("--program", required=True)
        export.add_argument("--format", choices=["e2b", "csv"], required=True)
        which = export.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="every forwarded version")
        which.add_argument("--case", action="append", metavar="NUMBER", help="this case's versions (repeatable)")
        export.add_argument("--out", required=True, metavar="DIR", help="the directory to write the files to")
        ack = sub.add_parser("import-ack", help="drug safety's E2B(R3) acknowledgement: accepted or rejected")
        ack.add_argument("--program", required=True)
        ack.add_argument("file")
        terms = sub.add_parser("import-terms", help="the sponsor's MedDRA term list (CSV: code, term)")
        terms.add_argument("--program", required=True)
        terms.add_argument("--meddra-version", required=True, help="such as 27.1")
        terms.add_argument("file")
        follow = sub.add_parser("follow-up",
                                help="ask for a follow-up: a nurse's call, the patient's page or the doctor")
        follow.add_argument("case", help="the case number, such as DE-2026-00001")
        follow.add_argument("--question", required=True)
        follow.add_argument("--channel", choices=["call", "portal", "doctor"], default="call",
                            help="call: a nurse calls; portal: asked on the patient's page, an approved notice "
                                 "tells them; doctor: asked on the reporting doctor's page, the doctor emailed")
        follow.add_argument("--due", required=True, help="YYYY-MM-DD: by the end of that day, where the patient lives")
        follow.add_argument("--by", required=True, metavar="EMAIL", help="the safety officer asking")
        close = sub.add_parser("close-follow-up", help="close a follow-up question unanswered (lost to follow-up)")
        close.add_argument("follow_up", type=int, help="the question's number, as the case lists it")
        close.add_argument("--reason", required=True)
        close.add_argument("--by", required=True, metavar="EMAIL", help="the safety officer closing it")
        for name, text in (("assess", "the assessment, from a JSON file (docs/safety.md)"),
                           ("forward", "drug safety has it"),
                           ("nullify", "a case opened in error")):
            command = sub.add_parser(name, help=text)
            command.add_argument("case", help="the case number, such as DE-2026-00001")
            if name == "assess":
                command.add_argument("--file", required=True, help="the assessment as JSON; - reads standard input")
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
        if options["action"] in ("export", "import-ack", "import-terms"):
            self._exchange(options)
            return
        actor, now = self._person(options["by"]), timezone.now()
        if options["action"] == "decide":
            if not options["kind"] and not options["duplicate_of"]:
                raise CommandError("give --kind, or --duplicate-of CASE")
            intake = Intake.objects.select_related("market", "patient", "hcp").filter(pk=options["intake"]).first()
            if intake is None:
                raise CommandError(f"no intake {options['intake']}")
            if options["duplicate_of"]:
                decided = mark_duplicate(actor=actor, intake=intake, case=self._case(options["duplicate_of"]),
                                         reason=options["reason"], at=now)
                self.stdout.write(f"intake {decided.pk}: the same report as case {decided.case.number}")
                return
            follow_up = self._case(options["follow_up_of"]) if options["follow_up_of"] else None
            decided = decide_intake(actor=actor, intake=intake, kind=KINDS[options["kind"]], reason=options["reason"],
                                    at=now, follow_up_of=follow_up)
            self.stdout.write(f"intake {decided.pk}: " + (f"case {decided.case.number} version {decided.case.version}"
                                                          if decided.case else "not an adverse event"))
            return
        if options["action"] == "close-follow-up":
            question = FollowUp.objects.select_related("case__market", "case__patient", "case__hcp").filter(
                pk=options["follow_up"]).first()
            if question is None:
                raise CommandError(f"no follow-up question {options['follow_up']}")
            close_follow_up(actor=actor, follow_up=question, reason=options["reason"], at=now)
            self.stdout.write(f"case {question.case.number}: follow-up {question.pk} closed unanswered")
            return
        case = self._case(options["case"])
        if options["action"] == "follow-up":
            try:
                due = datetime.combine(date.fromisoformat(options["due"]) + timedelta(days=1), time(0),
                                       tzinfo=ZoneInfo(case.subject.time_zone))
            except (ValueError, OverflowError) as exc:
                raise CommandError(f"--due: {options['due']!r} is not YYYY-MM-DD") from exc
            asked = request_follow_up(actor=actor, case=case, question=options["question"], due_at=due, at=now,
                                      channel=options["channel"])
            self.stdout.write(f"case {case.number}: follow-up {asked.pk} due {asked.due_at.isoformat()}")
            return
        if options["action"] == "assess":
            case = assess_case(actor=actor, case=case, at=now, **assessment_input(self._json(options["file"])))
            due = case.authority_due_at.isoformat() if case.authority_due_at else "periodic report only"
            amendment = f", version {case.version} to send as an amendment" if case.amendment_reason else ""
            self.stdout.write(f"case {case.number}: {'serious' if case.serious else 'not serious'}, authority {due}"
                              f"{amendment}")
        elif options["action"] == "forward":
            case = forward_case(actor=actor, case=case, at=now)
            late = "on time" if case.forwarded_at <= case.forward_due_at else "LATE"
            self.stdout.write(f"case {case.number}: forwarded {late}")
        else:
            case = nullify_case(actor=actor, case=case, reason=options["reason"], at=now)
            sent = f", the nullification sent to drug safety as version {case.version}" if case.forwarded_at else ""
            self.stdout.write(f"case {case.number}: nullified{sent}")

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

    def _exchange(self, options: dict[str, Any]) -> None:
        program = self._program(options["program"])
        actor, now = Actor.system(f"sojourn safety {options['action']}"), timezone.now()
        if options["action"] == "export":
            out = Path(options["out"])
            if out.exists() and not out.is_dir():
                raise CommandError(f"--out: {out} is not a directory")
            files = export_versions(actor=actor, program=program, fmt=options["format"],
                                    numbers=None if options["all"] else options["case"], at=now)
            out.mkdir(parents=True, exist_ok=True)
            for name, content in files:
                (out / name).write_bytes(content)
            self.stdout.write(f"wrote {len(files)} file{'s' * (len(files) != 1)} to {out}")
            return
        data = self._read(options["file"])
        if options["action"] == "import-ack":
            acked = import_ack(actor=actor, program=program, data=data, at=now)
            for forwarding in acked:
                self.stdout.write(f"case {forwarding.case.number} version {forwarding.version}: {forwarding.ack}"
                                  + "".join(f"\n  {detail}" for detail in forwarding.ack_details))
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{options['file']}: not UTF-8 text") from exc
        count = import_terms(actor=actor, program=program, version=options["meddra_version"], text=text, at=now)
        self.stdout.write(f"imported {count:,} terms of MedDRA {options['meddra_version']} for {program.slug}")

    def _program(self, slug: str) -> Program:
        program = Program.objects.filter(slug=slug).first()
        if program is None:
            raise CommandError(f"no program {slug}")
        return program

    def _read(self, name: str) -> bytes:
        try:
            return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror}") from exc

    def _json(self, name: str) -> Any:
        try:
            return json.loads(self._read(name))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{name}: not JSON ({exc})") from exc

    def _list(self, options: dict[str, Any]) -> None:
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"no program {options['program']}")
        now = timezone.now()
        items = safety_queue(Actor.system("cli"), program, market=(options["market"] or "").upper() or None)
        if options["json"]:
            self.stdout.write(json.dumps([{
                "kind": i.kind, "reference": i.reference, "market": i.market,
                "patient": None if i.by_doctor else i.patient, "doctor": i.patient if i.by_doctor else None,
                "what": i.what,
                "day_zero": i.day_zero.isoformat(), "due_at": i.due_at.isoformat(), "state": i.state(now),
                "serious": i.serious, "version": i.version} for i in items], indent=1))
            return
        for i in items:
            self.stdout.write(f"{i.state(now):8} {i.due_at:%Y-%m-%d %H:%M} {i.market} {i.kind:6} {i.reference:14} "
                              f"{'doctor ' if i.by_doctor else ''}{i.patient} {i.what}")
        self.stdout.write(f"{len(items)} open, {sum(i.state(now) == 'overdue' for i in items)} overdue")

    def _person(self, email: str) -> Actor:
        user = get_user_model().objects.filter(username__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"no active staff member {email}")
        return actor_for_user(user)

    def _case(self, number: str) -> Case:
        case = (Case.objects.select_related("market", "patient__market", "hcp__market")
                .filter(number=number.strip().upper()).first())
        if case is None:
            raise CommandError(f"no case {number}")
        return case
