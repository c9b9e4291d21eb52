"""sojourn questionnaire import --program SLUG FILE.json
sojourn questionnaire import-responses --program SLUG FILE.json

`import` takes a FHIR R4 Questionnaire (a new draft version), a ValueSet, or a Bundle of a
Questionnaire and its ValueSets; `import-responses` a QuestionnaireResponse or a Bundle of them,
answered elsewhere (services/response_imports.py). Every problem is printed with its field
(item[linkId], entry[n].…), and nothing is imported from a file that has one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from sojourn.core.actors import Actor
from sojourn.core.management.base import SojournCommand
from sojourn.core.models import Program
from sojourn.questionnaires.definition import load_json
from sojourn.questionnaires.services.definitions import import_questionnaire
from sojourn.questionnaires.services.response_imports import import_responses
from sojourn.questionnaires.services.value_sets import import_value_set


class Command(SojournCommand):
    help = "Import a FHIR Questionnaire, ValueSet, or Bundle of both (JSON) into a program."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("import", help="import a Questionnaire, a ValueSet or a Bundle (JSON)")
        run.add_argument("--program", required=True, help="program slug")
        run.add_argument("file", type=Path)
        answers = sub.add_parser("import-responses",
                                 help="import QuestionnaireResponses answered elsewhere (one, or a Bundle; JSON)")
        answers.add_argument("--program", required=True, help="program slug")
        answers.add_argument("file", type=Path)

    def handle(self, *args: Any, **o: Any) -> None:
        program = Program.objects.filter(slug=o["program"]).first()
        if program is None:
            raise CommandError(f"no program with the slug {o['program']!r}")
        self.source = o["file"].name
        try:
            content = o["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {error.filename}: {error.strerror}") from None
        if o["action"] == "import-responses":
            result = import_responses(actor=Actor.system("cli: questionnaire import-responses"), program=program,
                                      resource=content)
            self.stdout.write(f"Imported {len(result.imported):,} responses; {result.already:,} were imported "
                              "before and are unchanged.")
            for m in result.mismatches:
                self.stdout.write(f"{m.entry or 'the response'}: {m.what} was {m.stored} in the file; "
                                  f"Sojourn's is {m.recomputed} and is kept.")
            return
        actor = Actor.system("cli: questionnaire import")
        data = load_json(content)
        if isinstance(data, dict) and data.get("resourceType") == "ValueSet":
            value_set = import_value_set(actor=actor, program=program, resource=data)
            self.stdout.write(f"Value set {value_set} is in {program.slug}.")
            return
        questionnaire = import_questionnaire(actor=actor, program=program, resource=data)
        pinned = [str(v) for v in questionnaire.value_sets.order_by("url", "version")]
        self.stdout.write(f"Imported {questionnaire.name} v{questionnaire.version} as a draft"
                          + (f", with the value sets {', '.join(pinned)}." if pinned else ".")
                          + " Submit it for review when it is ready.")
