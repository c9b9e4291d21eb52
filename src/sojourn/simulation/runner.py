"""`simulate()`: run a cohort through the real program, day by day on a simulated clock.

Four times a simulated day the clock moves on six hours (time-machine moves every clock the code
reads, so consent, audit, agenda and quiet hours all see the simulated time). At each tick the
patients whose turn it is enroll, refill, miss doses, visit their page and answer what they were
asked; their events go through the real ingestion and rules; the worker runs what is due through
the real channel adapters; patients react to what reached them (open, click, come back, STOP); a
nurse team works the call queue with a daily capacity; every `magazine_every` days an issue of the
printed magazine is composed from the blocks rules queued (its PDFs laid out on another core while
the run goes on, recorded when it stops), and the print house reports its delivery a few days
later. Only the outside world is replaced: email goes to an in-memory mailbox, text messages to
the local gateway's folder, magazine PDFs to a local drop folder (never to the print house's SFTP
server).

The cohort's state is saved after every day: an interrupted run resumes at the next day, and
anything it repeats (events with the same client id, enrollments of the same address) is a no-op.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from sojourn.channels.models import NurseTask, OutboxMessage, PortalCard, PrintIssue
from sojourn.channels.pdf import Press
from sojourn.channels.services.callbacks import ProviderCallback
from sojourn.channels.services.magazine import IssueReport, build_issue, lay_out_issue, record_delivery_manifest
from sojourn.channels.services.nurse import FOLLOW_UP, claim_task, complete_call
from sojourn.channels.services.sms_inbound import receive_sms
from sojourn.consent.portal import patient_actor
from sojourn.consent.services.withdrawal import withdraw_consent
from sojourn.content.models import ContentItem
from sojourn.core.actors import Actor
from sojourn.core.db import refresh_statistics
from sojourn.core.errors import InvalidInput
from sojourn.core.models import Program
from sojourn.core.permissions import Role
from sojourn.dialogue.worker import Worker
from sojourn.insights.services.facts import refresh_journey_facts
from sojourn.people.models import Invitation, Membership, Patient
from sojourn.people.queries import actor_for_user
from sojourn.people.services.invitations import issue_invitations
from sojourn.people.services.staff import create_staff, grant_membership
from sojourn.questionnaires.answers import response_items
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.services.definitions import definition
from sojourn.questionnaires.services.responses import save_response
from sojourn.safety.models import FollowUp
from sojourn.safety.queries import questions_for
from sojourn.safety.questions import QUESTIONS
from sojourn.safety.services import answer_in_writing, report_side_effect
from sojourn.simulation import behaviour as b
from sojourn.simulation.cohort import (
    PRINT_HOUSE,
    EnrollmentDesk,
    SimPatient,
    draw_cohort,
    enroll,
    optional_purposes,
    rng_for,
)
from sojourn.simulation.desk import SafetyDesk, follow_up_answers, replies
from sojourn.simulation.models import STATE_FIELDS, SimulationRun
from sojourn.simulation.population import Population, check_population, population_from
from sojourn.simulation.services import check_start, finish_run, save_progress, start_run
from sojourn.tracking.models import Need
from sojourn.tracking.services.events import record_events
from sojourn.tracking.services.profiles import set_journey_stage

TICKS = 4  # the clock moves on six hours at a time
SIMULATOR = Actor.system("simulation: the program team's rehearsal")
DEVICES = Actor.system("simulation: patients' devices and pharmacy feeds")
SMS_GATEWAY = Actor.system("simulation: SMS provider")
ENROLLMENT_FORM = Actor.system("simulation: enrollment form")
PRINT_HOUSE_REPORT = Actor.system("simulation: print house")
NURSE_TEAM = "nurses@simulation.sojourn.example"
SAFETY_DESK = "safety@simulation.sojourn.example"
CALL_AHEAD = timedelta(days=1)  # the simulated team calls a patient within a day of the call's deadline
MAGAZINE_EVERY = 91  # a quarterly magazine, as most patient magazines are
POST_DAYS = (2, 5)  # from the drop folder to the letterbox
RETURNED = 0.03  # copies the post brings back (moved, wrong address)
WITHDRAWAL_PER_DAY = 0.0004
STOP_CHANCE = 0.015
CALL_SAFETY_YES = {"side_effect": 0.04, "lack_of_effect": 0.01}  # the other questions: 1 call in 200
REPLY_CHANCE = 0.04  # a text message answered in the patient's own words
REPLY_SIDE_EFFECT, REPLY_SPECIAL = 0.3, 0.38  # of those replies: a side effect, then a special situation
PORTAL_REPORT = 0.01  # a visit to the portal that reports a side effect with its form
PORTAL_SPECIAL = 0.2  # of those reports: a special situation (pregnancy, a double dose, a faulty pen)
Progress = Callable[[SimulationRun], None]


def default_start(days: int) -> datetime:
    """Day 0 of a run that ends now (at the last full hour)."""
    return timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=days)


def simulate(*, program: Program, patients: int, days: int, seed: int, population: Population | None = None,
             nurse_calls_per_day: int = 30, magazine_every: int = MAGAZINE_EVERY, start: datetime | None = None,
             stop_after: int | None = None, progress: Progress | None = None) -> SimulationRun:
    """Run (or resume) the simulation with these parameters. Who the patients are is `population`
    (a program's cohort file); a run keeps the one it started with, so a resumed run needs none.
    Day 0 is `start` (by default, `days` before now): the same seed and start give the same history.
    An issue of the magazine goes out on every `magazine_every`th day (0: none). `stop_after` ends
    after that many days of this call (to test resuming)."""
    run = SimulationRun.objects.filter(program=program, seed=seed, patients=patients, days=days).first()
    if run is None:
        start = start or default_start(days)
        check_start(start, days)
        if population is None:
            raise InvalidInput(_("Name the cohort to simulate: its file says who the patients are."), field="cohort")
        check_population(population, program)
        needs = list(Need.objects.filter(program=program).order_by("position", "code").values_list("code", flat=True))
        cohort = draw_cohort(seed, patients, days, optional_purposes(program), population, needs)
        run = start_run(actor=SIMULATOR, program=program, patients=patients, days=days, seed=seed, start=start,
                        cohort=[s.as_json() for s in cohort], population=population.model_dump(mode="json"))
    elif start is not None and start != run.starts_at:
        raise InvalidInput(_("This run (seed, patients, days) began on %(day)s: resume it without another start, "
                             "or change the seed.") % {"day": run.starts_at.date().isoformat()}, field="start")
    if run.finished_at is not None:
        return run
    if run.population:
        population = population_from(run.population, program)
    elif population is None:  # a run from before runs kept their cohort file
        raise InvalidInput(_("Name the cohort this run started with: its file says who the patients are."),
                           field="cohort")
    world = _World(run, population, nurse_calls_per_day, magazine_every)
    gateway = Path(settings.SOJOURN_SMS_GATEWAY_DIR) / f"simulation-{run.pk}"
    world.drop = Path(settings.SOJOURN_PRINT_DIR) / f"simulation-{run.pk}"
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                           SOJOURN_SMS_GATEWAY_DIR=str(gateway), SOJOURN_PRINT_SFTP_URL=""), \
            time_machine.travel(run.starts_at + timedelta(days=run.days_done), tick=False) as clock:
        mail.outbox = []
        world.lay_out_unfinished()
        last = run.days if stop_after is None else min(run.days, run.days_done + stop_after)
        try:
            for day in range(run.days_done, last):
                for tick in range(TICKS):
                    at = run.starts_at + timedelta(days=day, hours=tick * 24 // TICKS)
                    clock.move_to(at)
                    world.tick(day, tick, at)
                world.save_day(day)
                if day & (day + 1) == 0:  # days 1, 2, 4, 8…: the planner's statistics follow the tables' growth
                    refresh_statistics()
                if progress:
                    progress(run)
            world.lay_out()
        finally:
            world.press.close(cancel=True)
        if run.days_done >= run.days:
            finish_run(run)
            refresh_statistics()
            refresh_journey_facts(program)  # the dashboard opens on the finished program at once
    return run


def _copied(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _issue_label(at: datetime) -> str:
    return f"sim-{at.date().isoformat()}"


class _World:
    def __init__(self, run: SimulationRun, population: Population, nurse_calls_per_day: int,
                 magazine_every: int) -> None:
        self.run, self.program, self.seed, self.population = run, run.program, run.seed, population
        self.cohort = [SimPatient.from_json(c) for c in run.cohort_now()]
        self.by_pseudonym = {s.pseudonym: s for s in self.cohort if s.pseudonym}
        self.patients: dict[str, Patient] = {}
        self.totals: Counter[str] = Counter(run.totals)
        self.desk = EnrollmentDesk(self.program, population)
        self.capacity = nurse_calls_per_day
        self.magazine_every = magazine_every
        self.drop = Path(settings.SOJOURN_PRINT_DIR)
        self.needs_of = dict(ContentItem.objects.filter(program=self.program).values_list("code", "needs"))
        self.instruments = {q.name: q for q in Questionnaire.objects.filter(program=self.program, status="approved")}
        self.parsed: dict[str, b.Instrument] = {}
        self.worker = Worker(batch=1000)
        self.nurse: Actor | None = None
        self.safety_officer: Actor | None = None
        self.safety_desk = SafetyDesk(self.program, self.seed, run.starts_at + timedelta(days=run.days),
                                      self._safety_officer, self.totals)
        # The magazine's PDFs are laid out on the second core while the simulation goes on; in
        # simulated time they exist on the issue day (nothing the program does reads them), and
        # their checksums, manifest and hand-over are recorded when the run stops.
        self.press = Press()
        self.printing: list[tuple[IssueReport, list[Future[list[str]]]]] = []

    # ---- a tick of the clock -------------------------------------------------------------------------

    def tick(self, day: int, tick: int, at: datetime) -> None:
        events: list[dict[str, Any]] = []
        if tick == 0:
            self._cards_not_used(day, at)
            self._magazine(day, at)
        turn = [s for s in self.cohort if s.index % TICKS == tick]
        for sim in turn:
            if sim.enroll_day == day and sim.status == "invited":
                self._enroll(sim, day, at)
        visiting = []
        for sim in turn:
            if sim.status != "active" or day < sim.enroll_day:
                continue
            rng = rng_for(self.seed, "day", sim.index, day)
            events += self._daily(sim, day, at, rng)
            if sim.status == "active" and b.visits_today(sim, day, rng, self.population):
                visiting.append(sim)
        events += self._visits(visiting, day, at)
        self._record(events)
        self._work()
        self._record(self._reactions(day, at))
        if tick == TICKS // 2:
            self._nurses(day, at)
        self.safety_desk.work(at)
        self._work()
        mail.outbox = []

    def _cards_not_used(self, day: int, at: datetime) -> None:
        """Cards handed out today that no one will use: as many, for each card a patient uses, as the
        market's uptake implies (the patients' own cards are issued when they enroll)."""
        for country, uptake in self.population.card_uptake().items():
            batch = f"simulation-{self.seed}-day-{day}-{country}"
            joining = sum(1 for s in self.cohort if s.enroll_day == day and s.country == country)
            rng = rng_for(self.seed, "cards", day, country)
            expected = joining * (1 - uptake) / uptake
            count = int(expected) + (rng.random() < expected - int(expected))
            if count and not Invitation.objects.filter(program=self.program, batch=batch).exists():
                issue_invitations(actor=PRINT_HOUSE, program=self.program, market=country, count=count, batch=batch,
                                  now=at)

    def _magazine(self, day: int, at: datetime) -> None:
        """On an issue day the program team builds the issue into the drop folder; the print house's
        report of that issue comes back `POST_DAYS[1]` days later, each copy delivered on its own day
        or returned."""
        every = self.magazine_every
        if every <= 0:
            return
        if day > 0 and day % every == 0:
            report = build_issue(actor=SIMULATOR, program=self.program, label=_issue_label(at), folder=self.drop,
                                 now=at, lay_out=False)
            self.printing.append((report, self.press.submit([(page.html, report.folder / page.file_name)
                                                             for page in report.pages])))
            self.totals["magazines"] += len(report.made)
            self.totals["magazines_skipped"] += len(report.skipped)
        built = day - POST_DAYS[1]
        if built > 0 and built % every == 0:
            label = _issue_label(at - timedelta(days=POST_DAYS[1]))
            issue = PrintIssue.objects.filter(program=self.program, label=label).first()
            if issue is None:
                return
            lines = ["file,status,date"]
            for copy in issue.copies.filter(delivered_at__isnull=True).select_related("patient").order_by("file_name"):
                sim = self.by_pseudonym.get(copy.patient.pseudonym)
                # Keyed by the simulated patient (pseudonyms differ from run to run); readers from outside
                # the cohort get theirs on the first post day.
                rng = rng_for(self.seed, "post", label, sim.index) if sim else None
                returned = rng is not None and rng.random() < RETURNED
                arrived = issue.created_at + timedelta(days=rng.randint(*POST_DAYS) if rng else POST_DAYS[0])
                lines.append(f"{copy.file_name},{'returned' if returned else 'delivered'},{arrived.date().isoformat()}")
                self.totals["magazines_returned" if returned else "magazines_delivered"] += 1
            if len(lines) > 1:
                record_delivery_manifest(actor=PRINT_HOUSE_REPORT, program=self.program, label=label,
                                         text="\n".join(lines))

    def lay_out(self) -> None:
        """Wait for the issues being laid out and record their files."""
        while self.printing:
            report, futures = self.printing.pop(0)
            lay_out_issue(actor=SIMULATOR, program=self.program, report=report, checksums=Press.wait(futures))

    def lay_out_unfinished(self) -> None:
        """Copies an interrupted run composed but never laid out are laid out before it goes on."""
        labels = PrintIssue.objects.filter(program=self.program, copies__sha256="").values_list("label", flat=True)
        for issue in PrintIssue.objects.filter(program=self.program, label__in=list(labels)):
            build_issue(actor=SIMULATOR, program=self.program, label=issue.label, folder=self.drop,
                        now=issue.created_at, new_readers=False)

    def _enroll(self, sim: SimPatient, day: int, at: datetime) -> None:
        patient = enroll(sim, self.desk, self.seed, at.date())
        persona = self.population.personas[sim.persona]
        self.by_pseudonym[sim.pseudonym] = sim
        self.patients[sim.pseudonym] = patient
        self.totals["enrolled"] += 1
        self.totals["verified"] += sim.status == "active"
        if sim.status == "active":  # where they are on their journey, as the enrollment form asked
            set_journey_stage(actor=ENROLLMENT_FORM, patient=patient, stage_code=persona.stage,
                              reason="stated at enrollment")
        rng = rng_for(self.seed, "treatment", sim.index)
        sim.next_refill = day + rng.randint(*persona.first_refill or (0, self.population.medication.days_supply - 1))

    def _daily(self, sim: SimPatient, day: int, at: datetime, rng: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        medication = self.population.medication
        if day > sim.enroll_day and (day - sim.enroll_day) % 7 == 0 and b.drifts_this_week(sim, rng, self.population):
            sim.engaged = False
            self.totals["drifted"] += 1
        if sim.next_refill is not None and day >= sim.next_refill:
            sim.refills += 1
            out.append(b.event("medication.refilled", sim, f"sim:{self.seed}:refill:{sim.index}:{sim.refills}",
                               b.moment(at, rng), {"days_supply": medication.days_supply,
                                                   "product": medication.product}))
            sim.next_refill = b.next_refill(sim, day, rng, self.population)
        if sim.refills and b.misses_a_dose(sim, rng, self.population):
            out.append(b.event("medication.missed", sim, f"sim:{self.seed}:missed:{sim.index}:{day}",
                               b.moment(at, rng), {"reason": "forgot"}))
        switch = self.population.switch
        if switch is not None and sim.switch_day is not None and day == sim.enroll_day + sim.switch_day:
            out.append(b.event(switch.event, sim, f"sim:{self.seed}:switch:{sim.index}", b.moment(at, rng),
                               {"reason": rng.choice(switch.reasons)}))
        out += self._diary(sim, day, at)
        if rng.random() < WITHDRAWAL_PER_DAY:
            patient = self._patient(sim)
            withdraw_consent(actor=patient_actor(patient), patient=patient, purposes=None, via="portal",
                             reason="simulated")
            sim.status = "withdrawn"
            self.totals["withdrawn"] += 1
            return []
        return out

    def _diary(self, sim: SimPatient, day: int, at: datetime) -> list[dict[str, Any]]:
        """What engaged patients note in their diary (a flare, say), as the cohort file says how often;
        a stream of its own, so a program without a diary draws as before."""
        out = []
        for entry in self.population.diary:
            rng = rng_for(self.seed, "diary", entry.event, sim.index, day)
            if sim.engaged and rng.random() < entry.per_week / 7:
                data = {name: rng.choices(list(values), weights=list(values.values()))[0]
                        for name, values in entry.data.items()}
                out.append(b.event(entry.event, sim, f"sim:{self.seed}:{entry.event}:{sim.index}:{day}",
                                   b.moment(at, rng), data))
        return out

    def _visits(self, visiting: list[SimPatient], day: int, at: datetime) -> list[dict[str, Any]]:
        if not visiting:
            return []
        cards: dict[str, list[Any]] = {}
        # Rows, not cards with their patients: the patient's sealed identity is not the simulation's business.
        for card in PortalCard.objects.filter(patient__pseudonym__in=[s.pseudonym for s in visiting],
                                              dismissed_at__isnull=True).values_list(
                "pk", "patient__pseudonym", "delivered_at", "content_code", "questionnaire", "rule_key", named=True):
            cards.setdefault(card.patient__pseudonym, []).append(card)
        out: list[dict[str, Any]] = []
        asked = set(FollowUp.objects.filter(status=FollowUp.Status.OPEN, channel=FollowUp.Channel.PORTAL,
                                            case__patient__pseudonym__in=[s.pseudonym for s in visiting])
                    .values_list("case__patient__pseudonym", flat=True))
        for sim in visiting:
            rng = rng_for(self.seed, "visit", sim.index, day)
            when = b.moment(at, rng)
            out.append(b.event("portal.page_viewed", sim, f"sim:{self.seed}:page:{sim.index}:{day}", when,
                               {"page": "personal"}))
            self._report_side_effect(sim, day, at)
            if sim.pseudonym in asked:
                self._answer_drug_safety(sim, day, at)
            # In the order the page shows them; each card's own stream, so row ids never matter.
            for card in sorted(cards.get(sim.pseudonym, []),
                               key=lambda c: (c.delivered_at, c.content_code, c.questionnaire, c.rule_key)):
                if card.pk in sim.seen_cards:
                    continue
                rng = rng_for(self.seed, "card", sim.index, card.content_code or card.questionnaire,
                              card.rule_key, card.delivered_at.isoformat(), day)
                if card.questionnaire:
                    if self._answer(sim, card.questionnaire, day, rng):
                        sim.seen_cards.append(card.pk)
                    continue
                sim.seen_cards.append(card.pk)
                needs = list(self.needs_of.get(card.content_code, []))
                data = {"content": card.content_code, "needs": needs, "channel": "web"}
                key = f"sim:{self.seed}:card:{card.pk}"
                if rng.random() < 0.8:
                    out.append(b.event("content.viewed", sim, f"{key}:viewed", when, data))
                    liking = b.interest(sim, needs)
                    if rng.random() < liking:
                        out.append(b.event("content.completed", sim, f"{key}:completed", when, data))
                    if rng.random() < 0.35:
                        out.append(b.event("content.rated", sim, f"{key}:rated", when,
                                           {**data, "helpful": liking + rng.gauss(0, 0.15) >= 0.5}))
        return out

    def _report_side_effect(self, sim: SimPatient, day: int, at: datetime) -> None:
        """Now and then a patient on their page reports a side effect, or a special situation, with the
        portal's form, in their own words and with the day it started when they remember it."""
        rng = rng_for(self.seed, "side-effect form", sim.index, day)
        if rng.random() >= PORTAL_REPORT:
            return
        patient = self._patient(sim)
        pool = replies().get(sim.locale.split("-")[0], replies()["en"])
        text = rng.choice(pool["special" if rng.random() < PORTAL_SPECIAL else "side_effect"])
        today = timezone.localtime(at, ZoneInfo(patient.time_zone)).date()
        onset = today - timedelta(days=rng.randint(0, 6)) if rng.random() < 0.7 else None
        report_side_effect(actor=patient_actor(patient), patient=patient, text=text, onset=onset,
                           token=f"{rng.getrandbits(128):032x}", at=at)
        self.totals["side_effect_forms"] += 1

    def _answer_drug_safety(self, sim: SimPatient, day: int, at: datetime) -> None:
        """A patient who finds drug safety's question on their page mostly answers it there and then."""
        patient = self._patient(sim)
        for question in questions_for(patient):
            rng = rng_for(self.seed, "safety answer", sim.index, question.pk, day)
            if rng.random() < 0.8:
                answer_in_writing(actor=patient_actor(patient), follow_up=question, subject=patient,
                                  text=rng.choice(follow_up_answers()), at=at)
                self.totals["safety_answers_written"] += 1

    def _answer(self, sim: SimPatient, name: str, day: int, rng: Any) -> bool:
        questionnaire = self.instruments.get(name)
        if questionnaire is None:
            return False
        instrument = self.parsed.get(name)
        if instrument is None:
            scale_of = {link: s["id"] for s in questionnaire.scoring.get("scales", []) for link in s["items"]}
            instrument = self.parsed[name] = b.Instrument(name, definition(questionnaire), scale_of)
        patient = self._patient(sim)
        answers = b.answers_for(instrument, sim, b.wellbeing_on(sim, day, self.population), rng)
        save_response(actor=patient_actor(patient), patient=patient, questionnaire=questionnaire,
                      items=response_items(instrument.definition, answers), source="portal", complete=True)
        self.totals[f"answered:{name}"] += 1
        return True

    def _reactions(self, day: int, at: datetime) -> list[dict[str, Any]]:
        """Patients read (or not) what reached them since the last look."""
        last = int(self.totals["last_message"])
        out: list[dict[str, Any]] = []
        reached = []
        for message in OutboxMessage.objects.filter(pk__gt=last, status="done", channel__in=["email", "sms"]) \
                .values_list("pk", "patient_id", "patient__pseudonym", "channel", "created_at", "rule_key", "payload",
                             named=True):
            last = max(last, message.pk)
            sim = self.by_pseudonym.get(message.patient__pseudonym)
            if sim is not None and sim.status == "active":
                reached.append((sim, message))
        # Each patient reads their messages in the order they were written, whatever the row ids.
        reached.sort(key=lambda pair: (pair[0].index, pair[1].created_at, pair[1].channel, pair[1].rule_key,
                                       str(pair[1].payload.get("content", ""))))
        for sim, message in reached:
            content = str(message.payload.get("content", ""))
            # Keyed by what the message is, not by its row id (ids differ between databases).
            rng = rng_for(self.seed, "message", sim.index, message.channel, message.rule_key, content,
                          message.created_at.isoformat())
            self.totals[f"received:{message.channel}"] += 1
            if message.channel == "sms":
                if rng.random() < STOP_CHANCE and not sim.stopped_sms:
                    self._stop_sms(sim, message)
                elif rng.random() < REPLY_CHANCE:
                    self._reply_sms(sim, message, rng)
                elif b.comes_back(sim, rng, self.population) and rng.random() < 0.5:
                    sim.engaged = True
                    self.totals["came_back"] += 1
                continue
            if not b.opens(sim, rng, self.population):
                continue
            key = f"sim:{self.seed}:email:{message.pk}"
            when = b.moment(at, rng)
            out.append(b.event("email.opened", sim, f"{key}:opened", when, {"message": str(message.pk),
                                                                             "content": content}))
            if rng.random() < 0.3:
                out.append(b.event("email.clicked", sim, f"{key}:clicked", when, {
                    "message": str(message.pk), "content": content, "link": "https://portal/p/me/page/",
                    "needs": list(self.needs_of.get(content, []))}))
            if b.comes_back(sim, rng, self.population):
                sim.engaged = True
                self.totals["came_back"] += 1
        self.totals["last_message"] = last
        return out

    def _stop_sms(self, sim: SimPatient, message: Any) -> None:
        if self._text_back(message, "STOP"):
            sim.stopped_sms = True
            self.totals["sms_stop"] += 1

    def _reply_sms(self, sim: SimPatient, message: Any, rng: random.Random) -> None:
        """A free reply: mostly thanks and questions; some mention a side effect or a special situation,
        which the safety term lists flag for the safety desk."""
        pool = replies().get(sim.locale.split("-")[0], replies()["en"])
        draw = rng.random()
        kind = "side_effect" if draw < REPLY_SIDE_EFFECT else "special" if draw < REPLY_SPECIAL else "other"
        if self._text_back(message, rng.choice(pool[kind])):
            self.totals[f"sms_reply:{kind}"] += 1

    def _text_back(self, message: Any, text: str) -> bool:
        from sojourn.people.services.patients import open_for_delivery

        phone = open_for_delivery(actor=SMS_GATEWAY, patient_ids=[message.patient_id], fields=("phone",),
                                  purpose="simulated SMS reply").get(message.patient_id, {}).get("phone", "")
        if not phone:
            return False
        number = phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.E164)
        # As the provider's signed callback would: the provider, not the patient, is the actor on record.
        receive_sms(callback=ProviderCallback("sms", f"sim-{message.pk}"), sender=number, text=text,
                    provider_id=f"sim-{message.pk}")
        return True

    def _nurses(self, day: int, at: datetime) -> None:
        """The nurse team calls, oldest deadline first, as many patients a day per market as it can, each
        patient on the day before the call falls due: a team works to its deadlines, so the calls of the
        last day or two are still in the queue when the run ends, for the program's own nurses."""
        nurse = self._nurse_team()
        done: Counter[str] = Counter()
        open_tasks = list(NurseTask.objects.filter(program=self.program, status=NurseTask.Status.OPEN,
                                                   created_at__lte=at, due_at__lte=at + CALL_AHEAD)
                          .select_related("patient__market"))
        unknown = len(self.cohort)  # calls for patients outside the simulation go last
        open_tasks.sort(key=lambda t: (not t.urgent, t.due_at,  # an urgent flag first, as in the real queue
                                       getattr(self.by_pseudonym.get(t.patient.pseudonym), "index", unknown), t.reason))
        for task in open_tasks:
            country = task.patient.market.country
            if done[country] >= self.capacity:
                continue
            done[country] += 1
            sim = self.by_pseudonym.get(task.patient.pseudonym)
            rng = rng_for(self.seed, "call", sim.index if sim else task.patient.pseudonym, task.reason,
                          task.due_at.isoformat())
            claim_task(actor=nurse, task=task)
            if sim is not None and b.answers_call(sim, rng, self.population):
                # Every safety question asked; now and then a patient says yes to one.
                safety = {q: "yes" if rng.random() < CALL_SAFETY_YES.get(q, 0.005) else "no" for q in QUESTIONS}
                # A call drug safety asked for is written down: the answer goes back to the case.
                notes = rng.choice(follow_up_answers()) if task.source_key.startswith(FOLLOW_UP) else ""
                complete_call(actor=nurse, task=task, outcome="reached", safety=safety, notes=notes,
                              duration_s=rng.randint(240, 1200))
                sim.engaged = True
                self.totals["calls_reached"] += 1
            else:
                complete_call(actor=nurse, task=task, outcome="voicemail" if rng.random() < 0.6 else "unreachable")
            self.totals["calls"] += 1

    def _nurse_team(self) -> Actor:
        if self.nurse is None:
            self.nurse = self._staff(NURSE_TEAM, "Simulated nurse team", Role.NURSE)
        return self.nurse

    def _safety_officer(self) -> Actor:
        if self.safety_officer is None:
            self.safety_officer = self._staff(SAFETY_DESK, "Simulated safety officer", Role.SAFETY_OFFICER)
        return self.safety_officer

    def _staff(self, email: str, name: str, role: Role) -> Actor:
        users = get_user_model().objects
        user = users.filter(username=email).first()
        setup = Actor.system(f"simulation: {name.lower()}")
        if user is None:
            user = create_staff(actor=setup, email=email, display_name=name, password=secrets.token_urlsafe(32))
        # The same team rehearses every program of the platform: a role in each it has simulated.
        if not Membership.objects.filter(user=user, program=self.program, role=role).exists():
            grant_membership(actor=setup, user=user, program=self.program, role=role, markets=None)
        return actor_for_user(user)

    # ---- plumbing -----------------------------------------------------------------------------------

    def _patient(self, sim: SimPatient) -> Patient:
        patient = self.patients.get(sim.pseudonym)
        if patient is None:
            patient = self.patients[sim.pseudonym] = Patient.objects.select_related("market", "data_key").get(
                pseudonym=sim.pseudonym)
        return patient

    def _record(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 1000):
            result = record_events(DEVICES, events[start:start + 1000], source="simulation")
            self.totals["events"] += len(result.accepted)
            self.totals["events_refused"] += len(result.rejected)

    def _work(self) -> None:
        # One worker for the run, as in production: it plans the scheduled rules once per tick of the
        # clock, not on every call.
        before = self.worker.totals.sent
        while self.worker.step():
            pass
        self.totals["sent"] += self.worker.totals.sent - before

    def save_day(self, day: int) -> None:
        save_progress(self.run, days_done=day + 1, totals=dict(self.totals),
                      state=[[_copied(getattr(s, f)) for f in STATE_FIELDS] for s in self.cohort])
