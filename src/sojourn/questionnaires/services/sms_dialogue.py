"""Short instruments by text message: one question per message, the reply checked, a retry prompt in
the patient's language when it cannot be read, and the response completed and scored at the end.

These services return the text to send; the SMS channel sends it and routes each reply here (after
STOP/START/HELP keywords, which consent handles first).
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from sojourn.consent.errors import NotConsented
from sojourn.consent.queries import may_contact
from sojourn.core.actors import Actor
from sojourn.core.errors import InvalidInput
from sojourn.people.models import Patient
from sojourn.questionnaires.answers import Answers, enabled_items, read_answers, response_items
from sojourn.questionnaires.definition import Definition, Item
from sojourn.questionnaires.models import Questionnaire, QuestionnaireResponse
from sojourn.questionnaires.services.definitions import definition
from sojourn.questionnaires.services.responses import save_response
from sojourn.questionnaires.urgent_help import urgent_flags, urgent_help_text

SMS_TYPES = {"choice", "integer", "boolean"}
MAX_SMS_QUESTIONS = 10


def _actor(patient: Patient) -> Actor:  # the patient answers for themself
    return Actor(kind="patient", label=patient.pseudonym)


def check_sms_ready(parsed: Definition) -> None:
    questions = parsed.questions()
    if len(questions) > MAX_SMS_QUESTIONS:
        raise InvalidInput(_("Only short questionnaires (up to %(n)s questions) go by text message.")
                           % {"n": MAX_SMS_QUESTIONS}, field="questionnaire")
    grouped = parsed.in_repeating_group()  # answered once per instance: a page's job, not a text's
    for item in questions:
        if item.type not in SMS_TYPES or (item.type == "choice" and item.repeats) or item.link_id in grouped:
            raise InvalidInput(_("%(item)s cannot be answered by text message.") % {"item": item.link_id},
                               field=f"item[{item.link_id}]")


def _next_item(parsed: Definition, answers: Answers) -> Item | None:
    enabled = enabled_items(parsed, answers)
    return next((i for i in parsed.questions() if i.link_id in enabled and i.link_id not in answers), None)


def _prompt(parsed: Definition, item: Item, language: str, number: int) -> str:
    question = item.label(language)
    if item.type == "choice":
        choices = ", ".join(f"{n} = {o.label(language)}" for n, o in enumerate(item.options, start=1))
        how = _("Reply %(first)s–%(last)s: %(choices)s") % {"first": 1, "last": len(item.options), "choices": choices}
    elif item.type == "boolean":
        how = _("Reply 1 = yes, 2 = no")
    else:
        low, high = item.min_value, item.max_value
        how = (_("Reply with a number from %(low)s to %(high)s") % {"low": low, "high": high}
               if low is not None and high is not None else _("Reply with a number"))
    title = parsed.title_in(language)
    return f"{title} ({number}/{len(parsed.questions())}): {question} {how}"


def _in_progress(patient: Patient) -> QuestionnaireResponse | None:
    return (QuestionnaireResponse.objects.filter(patient=patient, status="in-progress", source="sms")
            .select_related("questionnaire").order_by("-updated_at").first())


def start_sms_questionnaire(*, patient: Patient, questionnaire: Questionnaire) -> str:
    """Open (or resume) the questionnaire by text message and return the first question to send."""
    if not may_contact(patient, "sms", ignore_quiet_hours=True).allowed:
        raise NotConsented(_("The patient has not agreed to text messages."), field="channel")
    parsed = definition(questionnaire)
    check_sms_ready(parsed)
    language = patient.locale.split("-")[0]
    current = QuestionnaireResponse.objects.filter(patient=patient, questionnaire=questionnaire,
                                                   status="in-progress").first()
    answers = read_answers(parsed, current.items)[0] if current else {}
    save_response(actor=_actor(patient), patient=patient, questionnaire=questionnaire,
                  items=response_items(parsed, answers), source="sms", complete=False)
    item = _next_item(parsed, answers)
    with translation.override(language):
        return _prompt(parsed, item, language, len(answers) + 1) if item else _("Thank you: your answers are saved.")


def _read_reply(item: Item, text: str) -> object | None:
    reply = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))  # full-width digits
    if not reply.lstrip("-").isdigit() or len(reply) > 6:  # a long run of digits is no answer (and no int)
        return None
    number = int(reply)
    if item.type == "choice":
        return item.options[number - 1].value if 1 <= number <= len(item.options) else None
    if item.type == "boolean":
        return {1: True, 2: False}.get(number)
    if (item.min_value is not None and number < item.min_value) or (
            item.max_value is not None and number > item.max_value):
        return None
    return number


def answer_by_sms(*, patient: Patient, text: str) -> str | None:
    """Take a reply to the question last sent; return the next message (None: no questionnaire is open)."""
    response = _in_progress(patient)
    if response is None:
        return None
    questionnaire = response.questionnaire
    parsed = definition(questionnaire)
    language = patient.locale.split("-")[0]
    answers = read_answers(parsed, response.items)[0]
    item = _next_item(parsed, answers)
    with translation.override(language):
        if item is None:
            return _("Thank you: your answers are saved.")
        value = _read_reply(item, text)
        if value is None:
            return _("Sorry, we could not read that.") + " " + _prompt(parsed, item, language, len(answers) + 1)
        answers[item.link_id] = [value]
        following = _next_item(parsed, answers)
        saved = save_response(actor=_actor(patient), patient=patient, questionnaire=questionnaire,
                              items=response_items(parsed, answers), source="sms", complete=following is None)
        if following is None:
            thanks = _("Thank you: your answers are saved.")
            return f"{thanks} {urgent_help_text(patient)}" if urgent_flags(saved) else thanks
        return _prompt(parsed, following, language, len(answers) + 1)
