"""A dry run as the console shows it: each rule in words a program manager reads (whether it would fire,
what it would do, what would be skipped and why), translated, with sample patients linked where the
reader may open them.

The reasons come from the engine and the consent check as stable English text (they are kept in
decision records and compared by the delivery worker); they are put into words here, at the edge."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from sojourn.core.actors import Actor
from sojourn.core.packs import purpose_label
from sojourn.core.permissions import Permission
from sojourn.dialogue.services.dry_run import DryRunReport, RuleTally
from sojourn.people.models import Patient


def channel_word(channel: str) -> str:
    # With a context: the plain "Email" of forms reads "email address" in Japanese.
    return {"web": pgettext("channel", "Web"), "email": pgettext("channel", "Email"),
            "sms": pgettext("channel", "Text message"), "print": pgettext("channel", "Print"),
            "phone": pgettext("channel", "Phone")}.get(channel, channel)


def action_words(do: str, channel: str) -> str:
    """What an action does, in words: 'Send a message (Email)'."""
    words = {"send": _("Send content"), "print": _("Put content in the printed magazine"),
             "nurse_task": _("Ask a nurse to call"), "ask_questionnaire": _("Ask for a questionnaire"),
             "set_stage": _("Move to another journey stage"), "unlock_level": _("Unlock a content level"),
             "set_flag": _("Set a flag"), "clear_flag": _("Clear a flag"), "follow_up": _("Plan a follow-up"),
             "refer_safety": _("Refer to drug safety")}.get(do, do)
    return f"{words} ({channel_word(channel)})" if channel and do in {"send", "ask_questionnaire"} else words


def _purpose_words(purposes: str) -> str:
    """'contact_phone, nurse_calls' → 'contact by phone, calls from a nurse' (core.packs.PURPOSE_LABELS)."""
    return ", ".join(purpose_label(purpose) for purpose in purposes.split(", "))


def _status_words(status: str) -> str:
    return str(Patient.Status(status).label) if status in Patient.Status.values else status


_FIXED: dict[str, Callable[[], str]] = {
    "already at this stage": lambda: _("The patient is already at this journey stage."),
    "level already unlocked": lambda: _("This content level is already unlocked."),
    "flag already set": lambda: _("The flag is already set."),
    "flag not set": lambda: _("The flag is not set."),
    "contact details not verified": lambda: _("The patient has not confirmed their contact details."),
    "no consent to take part": lambda: _("The patient has not consented to take part."),
    "quiet hours": lambda: _("It falls in the quiet hours."),
    "not a contact day": lambda: _("It is not one of the patient's contact days."),
    "outside the patient's contact times": lambda: _("It is outside the patient's contact times."),
}
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"cap: (\d+) (\w+) a day"), lambda m: _(
        "Daily limit reached: at most %(n)s a day by %(channel)s.") % {"n": m[1], "channel": channel_word(m[2])}),
    (re.compile(r"cap: (\d+) (\w+) a week"), lambda m: _(
        "Weekly limit reached: at most %(n)s a week by %(channel)s.") % {"n": m[1], "channel": channel_word(m[2])}),
    (re.compile(r"no consent for (\w+(?:, \w+)*)"), lambda m: _(
        "No consent for %(purpose)s.") % {"purpose": _purpose_words(m[1])}),
    (re.compile(r"patient is (\w+)"), lambda m: _(
        "The patient is not active (%(status)s).") % {"status": _status_words(m[1])}),
    (re.compile(r"channel (\w+) is not offered in (\w+)"), lambda m: _(
        "%(channel)s is not offered in %(country)s.") % {"channel": channel_word(m[1]), "country": m[2]}),
    (re.compile(r"patient turned (\w+) off"), lambda m: _(
        "The patient turned %(channel)s off.") % {"channel": channel_word(m[1])}),
    (re.compile(r"unknown channel (\w+)"), lambda m: _("Unknown channel %(channel)s.") % {"channel": m[1]}),
]


def reason_words(reason: str) -> str:
    """Why an action was skipped, in the reader's language; a reason not known here is shown as written."""
    if reason in _FIXED:
        return _FIXED[reason]()
    for pattern, words in _PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return words(match)
    return reason


@dataclass(frozen=True)
class ActionLine:
    what: str
    result: str  # "12 would go ahead, 3 skipped"


@dataclass(frozen=True)
class SamplePatient:
    pseudonym: str
    may_open: bool


@dataclass(frozen=True)
class RuleLine:
    key: str
    name: str
    fires: bool
    verdict: str
    actions: list[ActionLine]
    reasons: list[tuple[str, int]]
    samples: list[SamplePatient]


def _results(counts: Counter[str]) -> str:
    parts = []
    if counts["ahead"]:
        parts.append(ngettext("%(n)s would go ahead", "%(n)s would go ahead", counts["ahead"]) % {"n": counts["ahead"]})
    if counts["deferred"]:
        parts.append(ngettext("%(n)s would wait for an allowed time", "%(n)s would wait for an allowed time",
                              counts["deferred"]) % {"n": counts["deferred"]})
    if counts["skipped"]:
        parts.append(ngettext("%(n)s skipped", "%(n)s skipped", counts["skipped"]) % {"n": counts["skipped"]})
    return ", ".join(parts)


def _verdict(tally: RuleTally, days: int) -> str:
    if tally.fired:
        return (ngettext("Would fire %(n)s time", "Would fire %(n)s times", tally.fired) % {"n": tally.fired}
                + ", " + ngettext("for %(n)s patient.", "for %(n)s patients.", len(tally.patients))
                % {"n": len(tally.patients)})
    if tally.scheduled:
        return ngettext("Would be planned %(n)s time; whether it fires is decided when it is due.",
                        "Would be planned %(n)s times; whether it fires is decided when it is due.",
                        tally.scheduled) % {"n": tally.scheduled}
    if tally.trigger == "schedule":
        return _("Runs on its schedule: not part of the replay.")
    if tally.trigger == "follow_up":
        return _("Runs as a follow-up of another rule: not part of the replay.")
    return ngettext("Would not fire in the last %(n)s day.", "Would not fire in the last %(n)s days.", days) \
        % {"n": days}


def rule_lines(report: DryRunReport, actor: Actor, program_id: int) -> list[RuleLine]:
    """Each rule of the version, in its order, as the dry-run page shows it."""
    lines = []
    for key, tally in report.rules.items():
        by_action: dict[tuple[str, str], Counter[str]] = {}
        for (do, channel, result), n in tally.outcomes.items():
            counts = by_action.setdefault((do, channel), Counter())
            counts["skipped" if result == "skipped" else "deferred" if result == "deferred" else "ahead"] += n
        samples = [SamplePatient(p, actor.can(Permission.PATIENT_VIEW, program_id, report.sample_markets.get(p, "")))
                   for p in report.samples.get(key, [])]
        lines.append(RuleLine(
            key=key, name=tally.name, fires=bool(tally.fired), verdict=_verdict(tally, report.days),
            actions=[ActionLine(action_words(do, channel), _results(counts))
                     for (do, channel), counts in by_action.items()],
            reasons=reason_lines(tally.skipped_because), samples=samples))
    return lines


def reason_lines(reasons: Counter[str]) -> list[tuple[str, int]]:
    """Reasons in words, most frequent first (reasons that read the same are added up)."""
    out: Counter[str] = Counter()
    for reason, n in reasons.items():
        out[reason_words(reason)] += n
    return out.most_common()


def channel_lines(report: DryRunReport) -> list[tuple[str, int]]:
    return [(channel_word(channel), n) for channel, n in report.by_channel.most_common()]


def day_lines(report: DryRunReport) -> list[tuple[date, int]]:
    return [(date.fromisoformat(day), n) for day, n in sorted(report.by_day.items())]
