"""`consent withdrawn`: what the rest of the platform must stop, in the withdrawal's own transaction.

Apps above consent (dialogue, channels) connect with @consent_withdrawn.connect (core/hooks.py); each
effect runs inside the transaction that records the withdrawal, so either everything stops or nothing
changed. The same holds for an erasure: @patient_erased effects run in the erasure's transaction, and
@erasure_held names what a legal duty keeps through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sojourn.core.actors import Actor
from sojourn.core.hooks import Hook
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


# A consent was withdrawn (or taking part ended): apps above consent stop what it allowed.
consent_withdrawn: Hook[[ConsentWithdrawn], None] = Hook("consent withdrawn")

# Data-subject access: apps above consent add what they hold about a patient to the export, one
# section per effect, named after the effect's function.
patient_export: Hook[[Patient], Any] = Hook("patient export")

# A patient became active (enrolled and verified): apps above consent start the dialogue, in the
# same transaction, so a crash cannot leave an active patient whom the program never greets.
patient_activated: Hook[[Patient], None] = Hook("patient activated")

# Erasure: apps above consent remove, in the erasure's transaction and before the key is destroyed,
# what they wrote about the patient outside the sealed fields (the mail spool, printed copies).
patient_erased: Hook[[Patient], None] = Hook("patient erased")

# What a legal duty keeps through an erasure (pharmacovigilance: the reporter of an open adverse-event
# report): apps above consent name each part, and the certificate lists it.
erasure_held: Hook[[Patient], list[Retention]] = Hook("erasure held")


def export_sections(patient: Patient) -> dict[str, Any]:
    sections = {name.rpartition(".")[2]: part for name, part in patient_export.results(patient).items()}
    return dict(sorted(sections.items()))


def erasure_holds(patient: Patient) -> list[Retention]:
    return [retention for held in erasure_held.results(patient).values() for retention in held]
