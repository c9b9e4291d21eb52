"""Events in words for staff pages: what happened (the type's label) and each field of its data as a
label and a value in the reader's language: needs, stages and questionnaires by their names, scores by
their scale, yes/no, numbers in the locale's way. Never a Python value's repr or a stored key alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from sojourn.core.packs import PURPOSE_LABELS
from sojourn.questionnaires.models import Questionnaire
from sojourn.questionnaires.scoring import flag_label
from sojourn.questionnaires.services.definitions import definition
from sojourn.tracking.models import Event, Need, Stage

TYPE_LABELS: dict[str, Promise] = {
    "portal.page_viewed": gettext_lazy("Opened a page of the portal"),
    "content.viewed": gettext_lazy("Read an item"),
    "content.completed": gettext_lazy("Finished an item"),
    "content.rated": gettext_lazy("Rated an item"),
    "email.delivered": gettext_lazy("Email delivered"),
    "email.opened": gettext_lazy("Email opened"),
    "email.clicked": gettext_lazy("Link in an email opened"),
    "email.bounced": gettext_lazy("Email bounced"),
    "email.replied": gettext_lazy("Replied to an email"),
    "sms.delivered": gettext_lazy("Text message delivered"),
    "sms.received": gettext_lazy("Text message received"),
    "call.completed": gettext_lazy("Nurse call"),
    "print.delivered": gettext_lazy("Magazine delivered"),
    "questionnaire.completed": gettext_lazy("Questionnaire answered"),
    "medication.taken": gettext_lazy("Dose taken"),
    "medication.missed": gettext_lazy("Dose missed"),
    "enrollment.completed": gettext_lazy("Enrollment completed"),
    "consent.given": gettext_lazy("Consent given"),
    "consent.withdrawn": gettext_lazy("Consent withdrawn"),
    "stage.changed": gettext_lazy("Journey stage changed"),
}
FIELD_LABELS: dict[str, Promise] = {
    "content": gettext_lazy("Content"), "needs": gettext_lazy("Needs"), "channel": gettext_lazy("Channel"),
    "level": gettext_lazy("Level"), "helpful": gettext_lazy("Helpful"), "message": gettext_lazy("Message"),
    "link": gettext_lazy("Link"), "bounce": gettext_lazy("Bounce"), "keyword": gettext_lazy("Keyword"),
    "outcome": gettext_lazy("Outcome"), "duration_s": gettext_lazy("Duration"), "task": gettext_lazy("Task"),
    "issue": gettext_lazy("Issue"), "questionnaire": gettext_lazy("Questionnaire"), "product": gettext_lazy("Product"),
    "dose": gettext_lazy("Dose"), "reason": gettext_lazy("Reason"), "method": gettext_lazy("Method"),
    "purposes": gettext_lazy("Purposes"), "everything": gettext_lazy("Everything"), "stage": gettext_lazy("Stage"),
    "previous": gettext_lazy("Before"), "page": gettext_lazy("Page"), "flags": gettext_lazy("Clinical flags"),
}
# The words of dialogue.presenting.channel_word (the same catalog entries; tracking may not import dialogue).
CHANNELS: dict[str, Promise] = {"web": pgettext_lazy("channel", "Web"), "email": pgettext_lazy("channel", "Email"),
                                "sms": pgettext_lazy("channel", "Text message"),
                                "print": pgettext_lazy("channel", "Print"), "phone": pgettext_lazy("channel", "Phone")}
OUTCOMES: dict[str, Promise] = {"reached": gettext_lazy("Reached"), "voicemail": gettext_lazy("Voicemail"),
                                "call_back": gettext_lazy("Call back"), "unreachable": gettext_lazy("Unreachable")}
# Fields that say nothing to a reader (ids the platform keeps for itself).
HIDDEN = {"channel_message_id"}


@dataclass(frozen=True)
class EventWords:
    label: str
    fields: list[tuple[str, str]]  # (label, value)


class _Names:
    """The program's needs, stages and questionnaires by code, read once for a page of events."""

    def __init__(self, program_id: int, language: str) -> None:
        self.language = language
        self.needs = {n.code: n.label(language) for n in Need.objects.filter(program_id=program_id)}
        self.stages = {s.code: s.label(language) for s in Stage.objects.filter(program_id=program_id)}
        self.questionnaires: dict[str, Questionnaire] = {}
        for questionnaire in Questionnaire.objects.filter(program_id=program_id).order_by("name", "-version"):
            known = self.questionnaires.get(questionnaire.name)
            if known is None or (known.status != "approved" and questionnaire.status == "approved"):
                self.questionnaires[questionnaire.name] = questionnaire

    def questionnaire(self, name: str) -> str:
        found = self.questionnaires.get(name)
        return definition(found).title_in(self.language) if found else name

    def scale(self, questionnaire: str, scale: str) -> str:
        found = self.questionnaires.get(questionnaire)
        for declared in (found.scoring.get("scales", []) if found else []):
            if declared.get("id") == scale:
                label = declared.get("label") or {}
                return label.get(self.language) or label.get("en") or scale
        return self.needs.get(scale, scale)

    def flag(self, questionnaire: str, code: str) -> str:
        """A clinical flag in the instrument's words ("Thoughts of self-harm (PHQ-9 item 9)")."""
        found = self.questionnaires.get(questionnaire)
        return flag_label(found.scoring, code, self.language) if found else code


def _number(value: float) -> str:
    return number_format(int(value) if float(value).is_integer() else round(value, 2))


def plain(value: Any) -> str:
    """Any stored value as words: yes/no, a number in the locale's way, a list or map spelled out."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    return "—" if value is None or value == "" else str(value)


def _value(name: str, value: Any, names: _Names) -> str:
    if name == "needs" and isinstance(value, list):
        return ", ".join(names.needs.get(str(code), str(code)) for code in value)
    if name in {"stage", "previous"}:
        return names.stages.get(str(value), plain(value))
    if name == "questionnaire":
        return names.questionnaire(str(value))
    if name == "channel":
        return str(CHANNELS.get(str(value), value))
    if name == "outcome":
        return str(OUTCOMES.get(str(value), value))
    if name == "purposes" and isinstance(value, list):
        return ", ".join(str(PURPOSE_LABELS.get(str(code), code)) for code in value)
    if name == "duration_s" and isinstance(value, int | float):
        return _("%(minutes)s min") % {"minutes": _number(round(value / 60, 1))}
    return plain(value)


def describe(event_type: str, data: dict[str, Any], names: _Names) -> EventWords:
    fields = []
    for name, value in data.items():
        if name in HIDDEN:
            continue
        if name == "scores":  # each scale is a field of its own: "Well-being (0–100): 72"
            questionnaire = str(data.get("questionnaire", ""))
            fields += [(names.scale(questionnaire, scale), plain(score)) for scale, score in (value or {}).items()]
            continue
        if name == "flags" and isinstance(value, list):  # none raised: nothing to say
            if value:
                questionnaire = str(data.get("questionnaire", ""))
                fields.append((str(FIELD_LABELS["flags"]),
                               ", ".join(names.flag(questionnaire, str(code)) for code in value)))
            continue
        label = FIELD_LABELS.get(name)
        fields.append((str(label) if label else name.replace("_", " ").capitalize(), _value(name, value, names)))
    return EventWords(str(TYPE_LABELS.get(event_type, event_type)), fields)


def describe_events(program_id: int, events: Iterable[Event], language: str) -> dict[int, EventWords]:
    """Each event (by id) in words, in the given language (for names the program keeps per language;
    the rest follows the active translation)."""
    names = _Names(program_id, language)
    return {event.pk: describe(event.type, event.data or {}, names) for event in events}
