"""Reads of the nurse queue: the calls a nurse may make, most urgent first, with their SLA colour,
and everything a nurse needs on the call (the patient's needs, recent contacts, consents, preferred
times in the patient's time zone, the approved call script)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sojourn.channels.models import NurseTask, OutboxMessage
from sojourn.consent.models import ContactPreferences
from sojourn.consent.queries import granted_purposes
from sojourn.content.queries import Resolution, resolve
from sojourn.core.actors import Actor
from sojourn.core.models import Program
from sojourn.core.permissions import Permission
from sojourn.questionnaires.answers import read_answers
from sojourn.questionnaires.models import QuestionnaireResponse
from sojourn.questionnaires.scoring import flag_evidence, flag_label
from sojourn.questionnaires.services.definitions import definition_of
from sojourn.tracking.models import Need
from sojourn.tracking.queries import NeedView, needs_of

AMBER_WITHIN = timedelta(hours=2)  # due within this: amber; overdue: red


def sla_colour(task: NurseTask, now: datetime) -> str:
    if task.due_at <= now:
        return "red"
    return "amber" if task.due_at - now <= AMBER_WITHIN else "green"


def nurse_queue(actor: Actor, program: Program, *, market: str = "", mine: bool = False) -> QuerySet[NurseTask]:
    """Open and claimed calls in the markets where the actor works the queue: urgent ones first, then
    the soonest due."""
    tasks = (NurseTask.objects.filter(program=program, status__in=[NurseTask.Status.OPEN, NurseTask.Status.CLAIMED])
             .select_related("patient__market").order_by("-urgent", "due_at", "pk"))
    allowed = actor.markets_in(Permission.NURSE_QUEUE, program.pk)
    if allowed is not None:
        tasks = tasks.filter(patient__market__country__in=allowed)
    if market:
        tasks = tasks.filter(patient__market__country=market)
    if mine:
        tasks = tasks.filter(claimed_by_id=actor.user_id)
    return tasks


@dataclass(frozen=True)
class CallReason:
    """Why the nurse is to call: the rule that raised the call, the event it met and what it read
    (the facts the engine kept in the task's outbox message), or the call that arranged a call-back."""

    reason: str
    rule: str = ""
    rule_key: str = ""
    event: str = ""
    event_at: datetime | None = None
    seen: list[tuple[str, str]] | None = None
    call_back_of: NurseTask | None = None


def _seen(values: dict[str, Any], needs: dict[str, str]) -> list[tuple[str, str]]:
    """What the rule's condition read, in words: needs by their label, scores by name, a number as one."""
    out = []
    for path, value in values.items():
        if path.startswith("profile.needs."):
            what = _("Need “%(need)s”") % {"need": needs.get(path.removeprefix("profile.needs."), path)}
        elif path.startswith("event.data.scores."):
            what = _("Score “%(score)s”") % {"score": path.removeprefix("event.data.scores.")}
        else:
            what = {"event.data.questionnaire": _("Questionnaire"), "profile.engagement": _("Engagement"),
                    "profile.stage": _("Journey stage")}.get(path, path)
        if isinstance(value, float):  # in the nurse's own decimal notation: 0,82 in German
            shown = number_format(int(value) if value.is_integer() else round(value, 2))
        else:
            shown = str(value)
        out.append((what, shown))
    return out


CLINICAL_FLAG = "clinical-flag:"  # the source key of an urgent flag's task (services.nurse): response and flag


def _flag_reason(task: NurseTask, language: str) -> CallReason | None:
    """An urgent flag's task: the flag and the answers that raised it, in the nurse's language."""
    response_id, code = task.source_key.removeprefix(CLINICAL_FLAG).split(":", 1)
    response = QuestionnaireResponse.objects.select_related("questionnaire").filter(pk=int(response_id)).first()
    if response is None:
        return None
    questionnaire = response.questionnaire
    parsed = definition_of(questionnaire.pk, questionnaire.sha256)
    answers = read_answers(parsed, response.items)[0]
    return CallReason(reason=flag_label(questionnaire.scoring, code, language),
                      event=parsed.title_in(language), event_at=response.completed_at,
                      seen=flag_evidence(parsed, answers, response.scores, questionnaire.scoring, code, language))


def call_reason(task: NurseTask, language: str) -> CallReason:
    """Why this call is in the queue, in the nurse's language where the words are ours."""
    if task.source_key.startswith(CLINICAL_FLAG) and (flagged := _flag_reason(task, language)) is not None:
        return flagged
    first, earlier = task, None
    for _step in range(10):  # a call-back of a call-back …: the reason is the first call's
        earlier_id = first.source_key.removeprefix("call-back:")
        if earlier_id == first.source_key or not earlier_id.isdigit():
            break
        found = NurseTask.objects.filter(pk=int(earlier_id)).first()
        if found is None:
            break
        earlier = earlier or found
        first = found
    message = OutboxMessage.objects.filter(idempotency_key=first.source_key).only("payload", "rule_key").first()
    because = (message.payload.get("because") if message else None) or {}
    event = because.get("event") or {}
    needs = {need.code: need.label(language) for need in Need.objects.filter(program_id=task.program_id)}
    return CallReason(
        reason=task.reason, rule=because.get("rule_name", ""), rule_key=because.get("rule", "")
        or (message.rule_key if message else ""), event=event.get("type", ""),
        event_at=datetime.fromisoformat(event["at"]) if event.get("at") else None,
        seen=_seen(because.get("values") or {}, needs), call_back_of=earlier)


@dataclass(frozen=True)
class CallContext:
    needs: list[NeedView]
    recent: list[dict[str, Any]]
    purposes: list[str]
    channels: list[str] | None
    local_time: datetime
    time_zone: str
    quiet: str
    contact_window: str
    contact_days: list[int]
    script: Resolution | None
    earlier_calls: list[NurseTask]
    because: CallReason


def call_context(task: NurseTask, now: datetime, language: str) -> CallContext:
    patient = task.patient
    prefs = ContactPreferences.objects.filter(patient=patient).first()
    quiet = patient.market.pack.get("regulatory", {}).get("quiet_hours", {})
    recent = [{"channel": m.channel, "what": m.summary, "status": m.delivery_status or m.status, "at": m.created_at}
              for m in OutboxMessage.objects.filter(patient=patient).order_by("-created_at")[:8]]
    script = resolve(task.program_id, task.script_code, locale=patient.locale, country=patient.market.country,
                     channel="phone", at=now) if task.script_code else None
    return CallContext(
        needs=needs_of(patient, language)[:5], recent=recent, purposes=sorted(granted_purposes(patient)),
        channels=prefs.channels if prefs else None, time_zone=patient.time_zone,
        local_time=now.astimezone(zoneinfo.ZoneInfo(patient.time_zone)),
        quiet=(f"{prefs.quiet_start:%H:%M}–{prefs.quiet_end:%H:%M}" if prefs and prefs.quiet_start and prefs.quiet_end
               else f"{quiet.get('start', '')}–{quiet.get('end', '')}"),
        contact_window=(f"{prefs.contact_from:%H:%M}–{prefs.contact_until:%H:%M}"
                        if prefs and prefs.contact_from and prefs.contact_until else ""),
        contact_days=list(prefs.contact_days) if prefs else [], script=script,
        earlier_calls=list(NurseTask.objects.filter(patient=patient, status=NurseTask.Status.DONE)
                           .exclude(pk=task.pk).order_by("-completed_at")[:5]),
        because=call_reason(task, language))
