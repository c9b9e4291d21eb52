"""The demo's main program's definition file: what the psoriasis companion is."""

from __future__ import annotations

from sojourn.demo.folder import PSORIASIS
from sojourn.programs.definition import ProgramDefinition

DEFINITION = PSORIASIS.path / "program.yaml"


def demo_definition() -> ProgramDefinition:
    return PSORIASIS.definition


def demo_stages() -> list[tuple[str, dict[str, str]]]:
    """The demo's journey stages in order, with their labels (code, labels)."""
    return [(stage.code, dict(stage.labels)) for stage in demo_definition().stages]
