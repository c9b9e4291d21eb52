"""A demo program as a folder of files: what the builder loads, read and checked here. Nothing of a
program is in Python: a second program is a second folder (docs/programs.md, "Program folders").

    program.yaml               the definition (`sojourn program validate`)
    consents.yaml              patient and doctors' consent texts per language
    questionnaires/*.json      the program's own FHIR Questionnaires (shipped instruments come too)
    library.yaml               content items, their tags and words per language
    rules.yaml                 the rule set (`sojourn rules check`)
    cohort.yaml                who the simulated patients are (`sojourn simulate --cohort`)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.safe_yaml import load_yaml
from sojourn.demo.library_item import Item
from sojourn.programs.definition import ProgramDefinition
from sojourn.programs.services import read
from sojourn.simulation.population import Population, read_population_file

PROGRAMS = Path(__file__).parent / "programs"
ITEM_FIELDS = {f.name for f in fields(Item)}


def _refused(path: Path, message: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(f"{path}: {message}", details=[ErrorDetail(message=message, field=field)])


@dataclass(frozen=True)
class ProgramFolder:
    path: Path

    @property
    def slug(self) -> str:
        return self.path.name

    def _yaml(self, name: str) -> Any:
        try:
            return load_yaml((self.path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise _refused(self.path / name, str(error)) from None

    @cached_property
    def definition_text(self) -> str:
        return (self.path / "program.yaml").read_text(encoding="utf-8")

    @cached_property
    def definition(self) -> ProgramDefinition:
        return read(self.definition_text, str(self.path / "program.yaml"))

    @cached_property
    def population(self) -> Population:
        reading = read_population_file(str(self.path / "cohort.yaml"))
        if not reading.ok:
            raise InvalidInput(f"{reading.path}: " + "; ".join(str(p) for p in reading.problems),
                               details=[p.as_detail() for p in reading.problems])
        return reading.document

    def consents(self) -> dict[str, dict[str, dict[str, Any]]]:
        """{audience: {language: {title, body, purposes: {code: text}}}}."""
        texts = self._yaml("consents.yaml")
        if not isinstance(texts, dict) or set(texts) != {"patient", "hcp"}:
            raise _refused(self.path / "consents.yaml", "holds the texts of two audiences: patient and hcp")
        return texts

    def library(self) -> list[Item]:
        entries = self._yaml("library.yaml")
        if not isinstance(entries, list):
            raise _refused(self.path / "library.yaml", "is a list of content items")
        items = []
        for n, entry in enumerate(entries):
            unknown = sorted(set(entry) - ITEM_FIELDS) if isinstance(entry, dict) else ["(not a mapping)"]
            if unknown:
                raise _refused(self.path / "library.yaml",
                               f"item {n + 1}: not a field of an item: {', '.join(unknown)}", field=f"[{n}]")
            items.append(Item(**entry))
        return items

    def rules(self) -> tuple[str, list[dict[str, Any]]]:
        """The rule set's name and its rules."""
        document = self._yaml("rules.yaml")
        if not isinstance(document, dict) or not isinstance(document.get("rules"), list) \
                or not isinstance(document.get("rule_set"), str):
            raise _refused(self.path / "rules.yaml", "holds rule_set (its name) and rules (a list)")
        return document["rule_set"], document["rules"]

    def questionnaires(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted((self.path / "questionnaires").glob("*.json")):
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as error:
                raise _refused(path, str(error)) from None
        return out


PSORIASIS = ProgramFolder(PROGRAMS / "psoriasis-companion")
ECZEMA = ProgramFolder(PROGRAMS / "eczema-companion")
DEMO_PROGRAMS = (PSORIASIS, ECZEMA)  # the first is the demo's main program, with its story
