"""The demo program's definition file: what the psoriasis companion is (psoriasis.yaml)."""

from __future__ import annotations

from pathlib import Path

from sojourn.programs.definition import ProgramDefinition
from sojourn.programs.services import read

DEFINITION = Path(__file__).parent / "psoriasis.yaml"


def demo_definition() -> ProgramDefinition:
    return read(DEFINITION.read_text(encoding="utf-8"), DEFINITION.name)


def demo_stages() -> list[tuple[str, dict[str, str]]]:
    """The demo's journey stages in order, with their labels (code, labels)."""
    return [(stage.code, dict(stage.labels)) for stage in demo_definition().stages]
