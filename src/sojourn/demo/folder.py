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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.safe_yaml import load_yaml
from sojourn.core.yaml_documents import Loc, read_yaml_file
from sojourn.demo.library_item import Item, Library
from sojourn.programs.definition import ProgramDefinition
from sojourn.programs.services import read
from sojourn.simulation.population import Population, read_population_file

PROGRAMS = Path(__file__).parent / "programs"


def _refused(path: Path, message: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(f"{path}: {message}", details=[ErrorDetail(message=message, field=field)])


def _twice(codes: list[str]) -> Iterator[tuple[Loc, str]]:
    for n, code in enumerate(codes):
        if code in codes[:n]:
            yield (n, "code"), f"{code} is an item already (item {codes.index(code) + 1})"


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
        reading = read_yaml_file(self.path / "library.yaml", Library, "a content library",
                                 lambda library: _twice([item.code for item in library.root]))
        if not reading.ok or reading.document is None:
            raise InvalidInput(f"{reading.path}: " + "; ".join(str(p) for p in reading.problems[:5]),
                               details=[p.as_detail() for p in reading.problems])
        return reading.document.root

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
