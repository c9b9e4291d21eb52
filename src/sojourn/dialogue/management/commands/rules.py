"""`sojourn rules check FILE --program P` and `sojourn rules dry-run --program P --rule-set NAME`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.core.safe_yaml import load_yaml
from sojourn.dialogue.models import RuleSetVersion
from sojourn.dialogue.services.dry_run import dry_run
from sojourn.dialogue.services.rulesets import check_rules


class Command(SojournCommand):
    help = "Check a rule set file, or replay a rule-set version over recent events (writes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="report every problem of a rule set (a JSON or YAML file: the list of "
                                             "rules, or a program folder's rules.yaml)")
        check.add_argument("path")
        check.add_argument("--program", required=True)
        replay = sub.add_parser("dry-run", help="what a version would have done over the last days")
        replay.add_argument("--program", required=True)
        replay.add_argument("--rule-set", required=True)
        replay.add_argument("--version", type=int, help="default: the newest version")
        replay.add_argument("--days", type=int, default=30)
        replay.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(slug=options["program"]).first()
        if program is None:
            raise CommandError(f"no program {options['program']}")
        if options["action"] == "check":
            try:  # YAML reads JSON too
                rules = load_yaml(Path(options["path"]).read_text(encoding="utf-8"))
            except yaml.MarkedYAMLError as error:
                mark = error.problem_mark or error.context_mark
                line = f":{mark.line + 1}" if mark else ""
                raise CommandError(f"{options['path']}{line}: not valid JSON or YAML: {error.problem}") from None
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                raise CommandError(f"{options['path']}: {error}") from None
            if isinstance(rules, dict) and "rules" in rules:  # a program folder's rules.yaml
                rules = rules["rules"]
            problems = check_rules(program, rules)
            for problem in problems:
                self.stdout.write(str(problem))
            if problems:
                raise CommandError(f"{len(problems)} problem(s)")
            self.stdout.write(f"{len(rules)} rules: no problems")
            return
        versions = RuleSetVersion.objects.filter(rule_set__program=program, rule_set__name=options["rule_set"])
        if options["version"]:
            versions = versions.filter(number=options["version"])
        version = versions.select_related("rule_set").order_by("-number").first()
        if version is None:
            raise CommandError(f"no such rule-set version in {program.slug}")
        report = dry_run(actor=Actor.system("cli"), version=version, days=options["days"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
            return
        self.stdout.write(f"{options['rule_set']} v{version.number} over {report.days} days: {report.events} events, "
                          f"{report.fired} decisions (nothing was written)")
        for title, counts in (("per rule", report.by_rule), ("per action", report.by_action),
                              ("per channel", report.by_channel), ("per market", report.by_market),
                              ("skipped because", report.skipped_because)):
            if counts:
                self.stdout.write(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
