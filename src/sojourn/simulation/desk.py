"""The simulated safety desk: a safety officer who works the program's safety queue through the safety
app's services, in office hours and with the delays of a real pharmacovigilance desk.

- **Office hours** are 08:00 to 18:00 on business days in the market's safety clock zone, weekends and
  the market's public holidays off: the days `safety.clocks` counts. The desk decides an intake a few
  working hours after it arrived (`DECIDE_AFTER`) and forwards its case a few working hours after deciding
  (`FORWARD_AFTER`), so what came in after the office closed waits for the next business day.
- **Last call**: nothing waits into the last `LAST_CALL` hours before its deadline. A business-day
  deadline is local midnight, so the officer clears what falls due today before leaving; a 24-hour
  clock (US, CA) runs through nights and weekends, and an officer on call works what would otherwise
  be late.
- **A case held for information**, about once a month: the officer asks drug safety's question first
  (`desk.yaml` `hold_for`) and waits for the nurse to bring back the answer, rather than forwarding what
  the program has and sending the answer as a follow-up. The case goes when the patient answers, or
  when the question falls due unanswered: late. The months are counted back from the run's end, so the
  last held case is still waiting when the run stops; it is the one overdue item on the queue when the
  demo opens, with drug safety's question open beside it.

The simulation acts at the ticks of its clock, six hours apart; the desk does at each tick what the
officer would have done since the last one. The run ends six hours after its last tick, so the items
left are those the officer had not reached by then: most on time, those falling due in the next hours
due soon.
"""

from __future__ import annotations

import contextlib
import functools
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Market, Program
from sojourn.safety.clocks import Clocks
from sojourn.safety.models import Case, FollowUp, Intake, Reaction, Screening, Term
from sojourn.safety.services import (
    ReactionIn,
    assess_case,
    clear_screenings,
    close_follow_up,
    decide_intake,
    forward_case,
    raise_intake,
    read_intake_words,
    read_screening_words,
    request_follow_up,
)
from sojourn.simulation.cohort import rng_for

OFFICE_HOURS = (8, 18)  # the desk's working day, local time
DECIDE_AFTER = (2, 14)  # office hours from day zero to the decision: the same or the next working day
FORWARD_AFTER = (1, 6)  # office hours from the decision to the forwarding
LAST_CALL = timedelta(hours=8)  # more than a tick of the clock (six hours) and the margin of the demo's start
FOLLOW_UP_DAYS = 7  # when drug safety wants the answer about a serious case
HOLD_EVERY = timedelta(days=30)  # about one case a month is held for information
HOLD_WINDOW = (timedelta(days=10), timedelta(days=1))  # the month's last days, counted back from the run's end
HOLD_DAYS = 14  # the officer gives a held case's question a fortnight: the nurses call the day before
NOT_AE = 0.08  # a rule's or a nurse's intake that is not an adverse event after all
LOST_AFTER = timedelta(days=3)  # a question still unanswered this long after it fell due is closed
LOST = "lost to follow-up: the patient was not reached by the due date"


class SafetyDesk:
    def __init__(self, program: Program, seed: int, ends_at: datetime, officer: Callable[[], Actor],
                 totals: Counter[str]) -> None:
        self.program, self.seed, self.ends_at, self.officer, self.totals = program, seed, ends_at, officer, totals
        self.clocks: dict[int, Clocks] = {}

    def work(self, at: datetime) -> None:
        """Read the messages the term lists did not flag, decide the intakes the officer has reached by
        `at`, forward the cases ready to go, and close the questions the patient was never reached for
        (lost to follow-up)."""
        self._screen(at)
        for intake in (Intake.objects.filter(program=self.program, status=Intake.Status.OPEN, day_zero__lte=at)
                       .select_related("market", "patient").order_by("due_at", "pk")):
            rng = rng_for(self.seed, "safety", intake.idempotency_key)
            if self.reached(intake.market, intake.day_zero, rng.uniform(*DECIDE_AFTER), intake.due_at) > at:
                continue
            self._decide(intake, rng, at)
        held = set(FollowUp.objects.filter(case__program=self.program, status=FollowUp.Status.OPEN, due_at__gt=at,
                                           question__in=hold_questions()).values_list("case_id", flat=True))
        for case in (Case.objects.filter(program=self.program, status=Case.Status.OPEN).exclude(pk__in=held)
                     .select_related("market").order_by("forward_due_at", "pk")):
            rng = rng_for(self.seed, "forward", case.number, case.version)
            if self.reached(case.market, case.updated_at, rng.uniform(*FORWARD_AFTER), case.forward_due_at) <= at:
                forward_case(actor=self.officer(), case=case, at=at)
                self.totals["safety_cases_forwarded"] += 1
        for question in (FollowUp.objects.filter(case__program=self.program, status=FollowUp.Status.OPEN,
                                                 due_at__lte=at - LOST_AFTER)
                         .select_related("case__market", "case__patient", "case__hcp").order_by("pk")):
            close_follow_up(actor=self.officer(), follow_up=question, reason=LOST, at=at)
            self.totals["safety_follow_ups_lost"] += 1

    def _screen(self, at: datetime) -> None:
        """The unflagged replies, read in office hours like intakes: one the term lists missed (the
        simulation knows the pool it came from) becomes an intake, the rest are cleared together."""
        clear = []
        for screening in (Screening.objects.filter(program=self.program, status=Screening.Status.OPEN,
                                                   received_at__lte=at)
                          .select_related("market", "patient").order_by("due_at", "pk")):
            rng = rng_for(self.seed, "screen", screening.idempotency_key)
            if self.reached(screening.market, screening.received_at, rng.uniform(*DECIDE_AFTER),
                            screening.due_at) > at:
                continue
            words = read_screening_words(actor=self.officer(), screening=screening) or ""
            if _meant(words) in ("side_effect", "special"):
                raise_intake(actor=self.officer(), screening=screening, at=at)
                self.totals["safety_screened_raised"] += 1
            else:
                clear.append(screening)
        if clear:
            self.totals["safety_screened_clear"] += clear_screenings(actor=self.officer(), screenings=clear, at=at)

    def reached(self, market: Market, since: datetime, hours: float, due_at: datetime) -> datetime:
        """When the officer gets to an item: `hours` of office time after `since`, and never in the last
        hours before its deadline."""
        clocks = self.clocks.get(market.pk)
        if clocks is None:
            clocks = self.clocks[market.pk] = Clocks.for_pack(market.pack, self.program.safety_deadlines)
        return min(office_time_after(clocks, since, hours), due_at - LAST_CALL)

    def _decide(self, intake: Intake, rng: random.Random, at: datetime) -> None:
        """Most intakes are adverse events, some special situations, a few not one; later reports of the
        same patient within a month are follow-ups of their case."""
        officer = self.officer()
        draw = rng.random()
        month = intake.day_zero - timedelta(days=30)
        earlier = (Case.objects.filter(number=intake.detail["case"]).first() if intake.detail.get("case") else
                   Case.objects.filter(patient_id=intake.patient_id, day_zero__gte=month)
                   .exclude(status=Case.Status.NULLIFIED).order_by("-day_zero").first())
        # The officer reads a flagged text as the patient meant it (the simulation knows which pool it
        # came from); a rule's or a nurse's intake is now and then not one after all.
        words = read_intake_words(actor=officer, intake=intake) or "" if intake.words_sealed else ""
        meant = _meant(words) if words else None
        if meant == "other" or (meant is None and draw < NOT_AE):
            decide_intake(actor=officer, intake=intake, kind=None, at=at,
                          reason="the patient asked about the program; no adverse event mentioned")
            return
        answers = set(intake.detail.get("answers") or ())  # a call's safety questions answered yes
        special = meant == "special" or (meant is None and draw < 0.14) or (
            bool(answers) and "side_effect" not in answers)
        kind = Case.Kind.SPECIAL_SITUATION if special else Case.Kind.ADVERSE_EVENT
        if answers == {"product_complaint"}:
            kind = Case.Kind.PRODUCT_COMPLAINT
        decided = decide_intake(actor=officer, intake=intake, kind=kind, reason="", at=at, follow_up_of=earlier)
        if decided.case is None:
            return
        if earlier is None:
            self._hold(decided.case, rng, at)
        self._assess(officer, decided.case, intake, words, rng, at)

    def _hold(self, case: Case, rng: random.Random, at: datetime) -> None:
        """The month's held case: the first new case of the month's last days whose deadline passes
        before the month ends, of a patient the nurses may call."""
        month_ends = self.ends_at - HOLD_EVERY * ((self.ends_at - at) // HOLD_EVERY)
        window = month_ends - HOLD_WINDOW[0]
        if not window <= at < month_ends - HOLD_WINDOW[1] or case.forward_due_at >= month_ends - timedelta(hours=1):
            return
        if FollowUp.objects.filter(case__program=self.program, question__in=hold_questions(),
                                   asked_at__gte=window).exists():
            return
        with contextlib.suppress(InvalidInput):  # the patient does not take the program's calls
            request_follow_up(actor=self.officer(), case=case, question=rng.choice(hold_questions()),
                              due_at=at + timedelta(days=HOLD_DAYS), at=at)
            self.totals["safety_cases_held"] += 1

    def _assess(self, officer: Actor, case: Case, intake: Intake, words: str, rng: random.Random,
                at: datetime) -> None:
        """The officer codes the report from the demo's term list (simulation/desk.yaml), with an onset a
        few days before day zero, an outcome, seriousness now and then, and a narrative in their words;
        a follow-up adds its event to those the case has."""
        desk = _desk()
        answers = [q for q in intake.detail.get("answers") or () if q in desk["answers"]]
        verbatim, term = desk["replies"].get(words) or rng.choice(desk["answers"][answers[0] if answers else
                                                                                  "side_effect"])
        code = self.terms.get(term, "")
        zone = ZoneInfo(intake.patient.time_zone) if intake.patient else Clocks.for_pack(intake.market.pack).zone
        onset = (intake.day_zero.astimezone(zone) - timedelta(days=rng.randint(0, 3))).date()
        outcome = rng.choices(["recovered", "recovering", "not_recovered", "unknown"], [3, 4, 2, 1])[0]
        criteria = ("hospitalisation",) if rng.random() < 0.03 else \
            ("other_medically_important",) if rng.random() < 0.07 else ()
        event = ReactionIn(verbatim=verbatim, meddra_code=code, onset=onset, outcome=outcome, seriousness=criteria,
                           causality=rng.choice(["related", "related", "unknown", "not_related"]))
        earlier = [ReactionIn(verbatim=r.verbatim, meddra_code=r.meddra_code, onset=r.onset,
                              outcome=Reaction.Outcome(r.outcome).name.lower(), seriousness=tuple(r.seriousness),
                              causality=r.causality) for r in case.reactions.all()]
        narrative = (f"{case.get_kind_display().capitalize()} reported through the support program "
                     f"({intake.source}) on {intake.day_zero.astimezone(zone):%Y-%m-%d}: {verbatim}, since "
                     f"{onset:%Y-%m-%d}. Outcome at the last contact: {outcome.replace('_', ' ')}.")
        assessed = assess_case(actor=officer, case=case, reactions=[*earlier, event][:20],
                               suspect_product=desk["product"], narrative=narrative, at=at,
                               expectedness=rng.choices(["expected", "unexpected", "unknown"], [6, 1, 1])[0])
        # Drug safety wants to know more about a serious case: a nurse calls, or, for a patient who does not
        # take the program's calls, the question waits on their page; a patient reachable neither way is not
        # asked (drug safety asks the doctor, outside the program).
        if assessed.serious and not case.follow_ups.exists():
            question = rng.choice(desk["follow_up_questions"])
            for channel in (FollowUp.Channel.CALL, FollowUp.Channel.PORTAL):
                with contextlib.suppress(InvalidInput):
                    request_follow_up(actor=officer, case=assessed, question=question, channel=channel,
                                      due_at=at + timedelta(days=FOLLOW_UP_DAYS), at=at)
                    break

    @functools.cached_property
    def terms(self) -> dict[str, str]:
        """The program's term list by name: what the officer codes with."""
        return dict(Term.objects.filter(program=self.program).values_list("name", "code"))


def office_time_after(clocks: Clocks, since: datetime, hours: float) -> datetime:
    """The moment `hours` of office time have passed after `since`, counting only office hours on the
    market's business days, in its time zone."""
    zone, left = clocks.zone, timedelta(hours=hours)
    moment = since.astimezone(zone)
    while True:
        day = moment.date()
        opens, closes = (datetime.combine(day, time(h), tzinfo=zone) for h in OFFICE_HOURS)
        if clocks.is_business_day(day) and moment < closes:
            moment = max(moment, opens)
            if left <= closes - moment:
                return (moment + left).astimezone(UTC)
            left -= closes - moment
        moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


@functools.cache
def replies() -> dict[str, dict[str, list[str]]]:
    return yaml.safe_load((Path(__file__).parent / "replies.yaml").read_text(encoding="utf-8"))


@functools.cache
def _desk() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).parent / "desk.yaml").read_text(encoding="utf-8"))


def hold_questions() -> list[str]:
    """What the officer waits for before forwarding a held case."""
    return _desk()["hold_for"]


def follow_up_answers() -> list[str]:
    """What a nurse writes down when the patient answers drug safety's question."""
    return _desk()["follow_up_answers"]


def _meant(words: str) -> str | None:
    """Which pool of replies.yaml a simulated patient's words came from."""
    return next((kind for pools in replies().values() for kind, texts in pools.items() if words in texts), None)
