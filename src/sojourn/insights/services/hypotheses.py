"""Journey hypotheses: proposed by the team (journeys.edit), checked against the program when saved,
retired when no longer held. A hypothesis is never edited: its history is what it claimed; a changed
belief is a new hypothesis."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.core.actors import Actor
from sojourn.core.errors import ErrorDetail, InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.core.services.audit import record_audit
from sojourn.insights.metrics import parse_metric
from sojourn.insights.models import Hypothesis
from sojourn.tracking.models import Stage

CLAIMS = [c.value for c in Hypothesis.Claim]


def propose_hypothesis(*, actor: Actor, program: Program, stage: str, statement: str, metric: Any, claim: str,
                       threshold: float | None = None, smallest_difference: float | None = None,
                       alpha: float = 0.05, now: datetime | None = None) -> Hypothesis:
    """Record a hypothesis about a stage of the program's journey; every problem is reported with its
    field, and nothing is saved unless all of it holds."""
    actor.require(Permission.JOURNEYS_EDIT, program.pk)
    problems: list[ErrorDetail] = []
    stage_row = Stage.objects.filter(program=program, code=stage).first()
    if stage_row is None:
        problems.append(ErrorDetail(_("The program's journey has no stage %(stage)s.") % {"stage": stage},
                                    field="stage"))
    statement = (statement or "").strip()
    if not statement or len(statement) > 500:
        problems.append(ErrorDetail(_("State the hypothesis in 1 to 500 characters."), field="statement"))
    parsed = None
    try:
        parsed = parse_metric(program, metric)
    except InvalidInput as error:
        problems.extend(error.details or [ErrorDetail(error.message, field=error.field)])
    if claim not in CLAIMS:
        problems.append(ErrorDetail(_("Choose the claim among %(claims)s.") % {"claims": ", ".join(CLAIMS)},
                                    field="claim"))
    comparing = claim in (Hypothesis.Claim.HIGHER, Hypothesis.Claim.LOWER)
    if claim in CLAIMS and not comparing:
        if not _number(threshold):
            problems.append(ErrorDetail(_("Give the threshold the claim is about as a number."), field="threshold"))
        elif parsed is not None and parsed.is_share and not 0 < threshold < 1:  # type: ignore[operator]
            problems.append(ErrorDetail(_("A share's threshold lies between 0 and 1 (0.5 for half)."),
                                        field="threshold"))
    elif comparing and threshold is not None:
        problems.append(ErrorDetail(_("A comparison between markets has no threshold."), field="threshold"))
    if smallest_difference is None and parsed is not None and parsed.is_share:
        smallest_difference = 0.1
    if smallest_difference is None and parsed is None:
        pass  # whether it may be left out depends on the metric, which is wrong already
    elif not _number(smallest_difference) or smallest_difference <= 0:  # type: ignore[operator]
        problems.append(ErrorDetail(_("Give the smallest difference that would matter, above zero."),
                                    field="smallest_difference"))
    elif parsed is not None and parsed.is_share and smallest_difference >= 1:  # type: ignore[operator]
        problems.append(ErrorDetail(_("For a share, the smallest difference lies between 0 and 1 (0.1 for ten "
                                      "points)."), field="smallest_difference"))
    if not _number(alpha) or not 0 < alpha <= 0.2:
        problems.append(ErrorDetail(_("The significance level lies above 0 and at most 0.2."), field="alpha"))
    if problems:
        raise InvalidInput(problems[0].message, field=problems[0].field, details=problems)
    now = now or timezone.now()
    with transaction.atomic():
        hypothesis = Hypothesis.objects.create(
            program=program, stage=stage_row, statement=statement, metric=parsed.as_dict(),  # type: ignore[union-attr]
            claim=claim, threshold=None if comparing else float(threshold),  # type: ignore[arg-type]
            smallest_difference=float(smallest_difference), alpha=float(alpha),  # type: ignore[arg-type]
            created_by_id=actor.user_id, created_at=now)
        record_audit(actor=actor, action="hypothesis.proposed", subject_type="hypothesis", subject_id=hypothesis.pk,
                     program_id=program.pk, after={"stage": stage, "claim": claim, "metric": parsed.kind})  # type: ignore[union-attr]
    return hypothesis


def retire_hypothesis(*, actor: Actor, hypothesis: Hypothesis, now: datetime | None = None) -> Hypothesis:
    actor.require(Permission.JOURNEYS_EDIT, hypothesis.program_id)
    if hypothesis.retired_at is not None:
        raise InvalidInput(_("This hypothesis was already retired."))
    with transaction.atomic():
        hypothesis.retired_at = now or timezone.now()
        hypothesis.save(update_fields=["retired_at"])
        record_audit(actor=actor, action="hypothesis.retired", subject_type="hypothesis", subject_id=hypothesis.pk,
                     program_id=hypothesis.program_id)
    return hypothesis


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
