"""`consent withdrawn`: what the rest of the platform must stop, in the withdrawal's own transaction.

Apps above consent (dialogue, channels) subscribe with @on_consent_withdrawn; each effect runs
inside the transaction that records the withdrawal, so either everything stops or nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sojourn.core.actors import Actor
from sojourn.people.models import Patient


@dataclass(frozen=True)
class ConsentWithdrawn:
    patient: Patient
    purposes: frozenset[str]  # withdrawn now
    everything: bool  # taking part was withdrawn: the person has left the program
    actor: Actor
    at: datetime
    via: str


WithdrawalEffect = Callable[[ConsentWithdrawn], None]
_effects: dict[str, WithdrawalEffect] = {}


def on_consent_withdrawn(effect: WithdrawalEffect) -> WithdrawalEffect:
    """Register an effect once (by its qualified name, so a reload does not run it twice)."""
    _effects[f"{effect.__module__}.{effect.__qualname__}"] = effect
    return effect


def run_withdrawal_effects(event: ConsentWithdrawn) -> list[str]:
    names = []
    for name, effect in _effects.items():
        effect(event)
        names.append(name)
    return names


# Data-subject access: apps above consent add what they hold about a patient to the export.
ExportSection = Callable[[Patient], Any]
_export_sections: dict[str, ExportSection] = {}


def contributes_to_patient_export(name: str) -> Callable[[ExportSection], ExportSection]:
    def register(section: ExportSection) -> ExportSection:
        _export_sections[name] = section
        return section

    return register


def export_sections(patient: Patient) -> dict[str, Any]:
    return {name: section(patient) for name, section in sorted(_export_sections.items())}


# A patient became active (enrolled and verified): apps above consent start the dialogue, in the
# same transaction, so a crash cannot leave an active patient whom the program never greets.
ActivationEffect = Callable[[Patient], None]
_activation_effects: dict[str, ActivationEffect] = {}


def on_patient_activated(effect: ActivationEffect) -> ActivationEffect:
    _activation_effects[f"{effect.__module__}.{effect.__qualname__}"] = effect
    return effect


def run_activation_effects(patient: Patient) -> None:
    for effect in _activation_effects.values():
        effect(patient)
