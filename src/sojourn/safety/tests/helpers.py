"""Test helpers for the safety record: a case assessed as a safety officer would, so it may be forwarded."""

from __future__ import annotations

from datetime import datetime

from sojourn.core.actors import Actor
from sojourn.safety.models import Case
from sojourn.safety.services import ReactionIn, assess_case

PRODUCT = "Demoxumab 150 mg pen"


def assessed(officer: Actor, case: Case, at: datetime, *, serious: bool = False, code: str = "",
             expectedness: str = "unknown", verbatim: str = "itchy rash on both arms", reason: str = "") -> Case:
    """The case with one event (coded when `code` is given), serious as asked (hospitalisation); `reason`
    is an amendment's, for a case drug safety has."""
    event = ReactionIn(verbatim=verbatim, meddra_code=code, outcome="recovering",
                       seriousness=("hospitalisation",) if serious else (), causality="related")
    return assess_case(actor=officer, case=case, reactions=[event], suspect_product=PRODUCT,
                       expectedness=expectedness, narrative=f"The patient reported {verbatim} on a call.", at=at,
                       reason=reason)
