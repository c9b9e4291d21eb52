"""`consent withdrawn`: what the rest of the platform must stop, in the withdrawal's own transaction.

Apps above consent (dialogue, channels) subscribe with @on_consent_withdrawn; each effect runs
inside the transaction that records the withdrawal, so either everything stops or nothing changed.
The same holds for an erasure: @on_patient_erased effects run in the erasure's transaction, and
@holds_erasure names what a legal duty keeps through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sojourn.core.actors import Actor
from sojourn.people.models import Patient
from sojourn.people.services.patients import Retention


@dataclass(frozen=True)
class ConsentWithdrawn:
    patient: Patient
    purposes: frozenset[str]  # withdrawn now
    everything: bool  # taking part was withdrawn: the person has left the program
    actor: Actor
    at: datetime
    via: str


Hook = TypeVar("Hook", bound=Callable[..., Any])


def _register(registry: dict[str, Any], hook: Hook) -> Hook:
    """Register a hook once (by its qualified name, so a reload does not run it twice)."""
    registry[f"{hook.__module__}.{hook.__qualname__}"] = hook
    return hook


def _run(registry: dict[str, Callable[..., None]], *args: Any) -> list[str]:
    names = []
    for name, effect in registry.items():
        effect(*args)
        names.append(name)
    return names


WithdrawalEffect = Callable[[ConsentWithdrawn], None]
_effects: dict[str, WithdrawalEffect] = {}


def on_consent_withdrawn(effect: WithdrawalEffect) -> WithdrawalEffect:
    return _register(_effects, effect)


def run_withdrawal_effects(event: ConsentWithdrawn) -> list[str]:
    return _run(_effects, event)


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
    return _register(_activation_effects, effect)


def run_activation_effects(patient: Patient) -> None:
    _run(_activation_effects, patient)


# Erasure: apps above consent remove, in the erasure's transaction and before the key is destroyed,
# what they wrote about the patient outside the sealed fields (the mail spool, printed copies).
ErasureEffect = Callable[[Patient], None]
_erasure_effects: dict[str, ErasureEffect] = {}


def on_patient_erased(effect: ErasureEffect) -> ErasureEffect:
    return _register(_erasure_effects, effect)


def run_erasure_effects(patient: Patient) -> list[str]:
    return _run(_erasure_effects, patient)


# What a legal duty keeps through an erasure (pharmacovigilance: the reporter of an open adverse-event
# report): apps above consent name each part, and the certificate lists it.
ErasureHold = Callable[[Patient], list[Retention]]
_erasure_holds: dict[str, ErasureHold] = {}


def holds_erasure(hold: ErasureHold) -> ErasureHold:
    return _register(_erasure_holds, hold)


def erasure_holds(patient: Patient) -> list[Retention]:
    return [retention for hold in _erasure_holds.values() for retention in hold(patient)]
