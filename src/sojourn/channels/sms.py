"""Text messages: the words filled for the patient and counted in segments again at send time, the
market's sender name, and a provider behind one small interface: an HTTP provider (base URL,
credentials, status callbacks) for production, and a local gateway (a JSON-lines file in var/sms)
for development and the demo. Replies and status reports come back through `services.sms_inbound`."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db.models.fields.json import KT
from django.urls import reverse

from sojourn.channels.adapters import Outcome
from sojourn.channels.email import public_url
from sojourn.channels.keys import provider_key
from sojourn.channels.models import ChannelBlock, OutboxMessage
from sojourn.content.kinds import fill, sms_segments
from sojourn.core.actors import Actor
from sojourn.core.crypto import KeyMaterialError
from sojourn.core.errors import DataErased, InvalidInput, SojournError
from sojourn.core.models import Market
from sojourn.people.models import Patient
from sojourn.people.services.patients import open_for_delivery, seal_for_patient, unseal_for_patient

CHANNEL = Actor.system("channel:sms")


@dataclass(frozen=True)
class Sms:
    to: str  # E.164
    sender: str
    text: str
    key: str  # idempotency key: a provider that sees it twice sends once
    patient: str = ""  # pseudonym: the local gateway seals its log line with this patient's key


class Provider(Protocol):
    def send(self, sms: Sms) -> Outcome: ...


class LocalGateway:
    """Stands in for a provider in development and the demo: appends each message to a file, once per
    key. Replies are fed to `receive_sms`, as a provider's webhook would. The number and the words of
    each line are sealed with the patient's data key, so an erasure shreds them with the rest; `sent()`
    reads back the lines that still open."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder or settings.SOJOURN_SMS_GATEWAY_DIR)
        self._keys: set[str] | None = None
        self._patients: dict[str, Patient | None] = {}

    def _patient(self, pseudonym: str) -> Patient | None:
        if pseudonym not in self._patients:
            self._patients[pseudonym] = Patient.objects.select_related("data_key").filter(
                pseudonym=pseudonym).first() if pseudonym else None
        return self._patients[pseudonym]

    @property
    def path(self) -> Path:
        return self.folder / "outbox.jsonl"

    @property
    def keys_path(self) -> Path:
        return self.folder / "outbox.keys"  # one key a line: checked without parsing every message

    def _sent_keys(self) -> set[str]:
        if self._keys is None:
            if self.keys_path.exists():
                self._keys = set(self.keys_path.read_text(encoding="utf-8").split())
            else:
                self._keys = {m["key"] for m in self._lines()}
        return self._keys

    def _lines(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def sent(self) -> list[dict[str, str]]:
        """The messages whose patient's key still opens them (an erased patient's are gone)."""
        out = []
        for line in self._lines():
            patient = self._patient(line.get("patient", ""))
            if patient is None:
                continue
            try:
                opened = json.loads(unseal_for_patient(patient, "sms_log", base64.b64decode(line["sealed"])))
            except (DataErased, KeyMaterialError):
                continue
            out.append({**opened, "key": line["key"]})
        return out

    def send(self, sms: Sms) -> Outcome:
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = self._sent_keys()
        if sms.key in keys:
            return Outcome("sent", provider_id=f"local:{sms.key}")
        patient = self._patient(sms.patient)
        if patient is None:  # never a number or words in clear on disk
            return Outcome("permanent", error="the local gateway logs only a patient's messages")
        try:
            sealed = seal_for_patient(patient, "sms_log", json.dumps(
                {"to": sms.to, "from": sms.sender, "text": sms.text}, ensure_ascii=False))
        except (DataErased, KeyMaterialError):
            return Outcome("permanent", error="the patient's contact details cannot be read")
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"key": sms.key, "patient": patient.pseudonym,
                                  "sealed": base64.b64encode(sealed).decode("ascii")}) + "\n")
        with self.keys_path.open("a", encoding="utf-8") as out:
            out.write(sms.key + "\n")
        keys.add(sms.key)
        return Outcome("sent", provider_id=f"local:{sms.key}")


class HttpProvider:
    """A provider's HTTP API: POST {base}/messages with a bearer token and an Idempotency-Key; 2xx with
    an id is sent, 429 and 5xx are tried again later, other 4xx never."""

    def __init__(self, base_url: str = "", token: str = "", timeout: float = 15) -> None:
        self.base_url = (base_url or settings.SOJOURN_SMS_URL).rstrip("/")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("SOJOURN_SMS_URL must be an http(s) address")
        self.token = token or settings.SOJOURN_SMS_TOKEN
        self.timeout = timeout

    def send(self, sms: Sms) -> Outcome:
        body = json.dumps({"to": sms.to, "from": sms.sender, "text": sms.text, "reference": sms.key,
                           "status_callback": public_url(reverse("api-v1:sms_status"))}).encode()
        request = urllib.request.Request(f"{self.base_url}/messages", data=body, method="POST", headers={  # noqa: S310  (configured URL)
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}", "Idempotency-Key": sms.key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  (configured URL)
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            temporary = error.code == 429 or error.code >= 500
            return Outcome("temporary" if temporary else "permanent", error=f"provider answered {error.code}")
        except (OSError, ValueError) as error:
            return Outcome("temporary", error=f"provider unreachable: {type(error).__name__}")
        provider_id = str(answer.get("id", "")) if isinstance(answer, dict) else ""
        if not provider_id:
            return Outcome("temporary", error="provider gave no message id")
        return Outcome("sent", provider_id=provider_id)


def provider() -> Provider:
    return HttpProvider() if settings.SOJOURN_SMS_PROVIDER == "http" else LocalGateway()


def _text(message: OutboxMessage, given_name: str, program_name: str) -> str:
    """The words to send. Raises SojournError when a questionnaire cannot be asked by text message."""
    if message.kind == "questionnaire":  # a question of an approved questionnaire, asked one at a time
        if message.payload.get("text"):
            return str(message.payload["text"])
        from sojourn.people.models import Patient
        from sojourn.questionnaires.services.definitions import approved_questionnaire
        from sojourn.questionnaires.services.sms_dialogue import start_sms_questionnaire

        patient = Patient.objects.select_related("program", "market").get(pk=message.patient_id)
        questionnaire = approved_questionnaire(patient.program, str(message.payload.get("questionnaire", "")))
        if questionnaire is None:
            raise InvalidInput(f"{message.payload.get('questionnaire')} is not an approved questionnaire")
        return start_sms_questionnaire(patient=patient, questionnaire=questionnaire)
    content = message.content  # type: ignore[attr-defined]
    values = {"given_name": given_name, "program_name": program_name,
              "portal_link": public_url(reverse("personal-page:page"))}
    return fill(content.body, values)


class SmsAdapter:
    def deliver(self, messages: list[OutboxMessage], now: datetime) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        blocked = dict(ChannelBlock.objects.filter(patient_id__in={m.patient_id for m in messages}, channel="sms")
                       .values_list("patient_id", "reason"))
        ready = []
        for message in messages:
            if message.patient_id in blocked:
                outcomes[message.pk] = Outcome("permanent", error=blocked[message.patient_id])
            elif message.kind != "questionnaire" and getattr(message, "content", None) is None:
                outcomes[message.pk] = Outcome("permanent", error="a text message needs approved content")
            else:
                ready.append(message)
        if not ready:
            return outcomes
        people = open_for_delivery(actor=CHANNEL, patient_ids=[m.patient_id for m in ready],
                                   fields=("phone", "given_name"), purpose="sms delivery")
        facts = {pk: (name, market_id, pseudonym) for pk, name, market_id, pseudonym in OutboxMessage.objects.filter(
            pk__in=[m.pk for m in ready]).values_list("pk", "program__name", "patient__market_id",
                                                      "patient__pseudonym")}
        senders = {pk: sender or name for pk, name, sender in Market.objects.values_list("pk", "name",
                                                                                        KT("pack__sms_sender"))}
        budgets = self._budgets(ready)
        gateway = provider()
        for message in ready:
            if message.patient_id not in people:
                outcomes[message.pk] = Outcome("permanent", error="the patient's contact details cannot be read")
                continue
            person = people[message.patient_id]
            if not person.get("phone"):
                outcomes[message.pk] = Outcome("permanent", error="no mobile number")
                continue
            program_name, market_id, pseudonym = facts[message.pk]
            try:
                text = _text(message, person.get("given_name") or "", program_name)
            except SojournError as error:
                outcomes[message.pk] = Outcome("permanent", error=error.message)
                continue
            segments = sms_segments(text)
            budget = budgets.get(message.pk, 10)
            if segments.count > budget:  # a long name can push a message over: refuse rather than split
                outcomes[message.pk] = Outcome("permanent", error=f"{segments.count} {segments.encoding} segments "
                                                                  f"are over the budget of {budget}")
                continue
            outcomes[message.pk] = gateway.send(Sms(to=str(person["phone"]), sender=senders.get(market_id, ""),
                                                    text=text, key=provider_key(message), patient=pseudonym))
        return outcomes

    @staticmethod
    def _budgets(messages: list[OutboxMessage]) -> dict[int, int]:
        from sojourn.content.models import ContentItem

        codes = {m.content.code for m in messages if getattr(m, "content", None) is not None}  # type: ignore[attr-defined]
        by_code = {(p, c): b for p, c, b in ContentItem.objects.filter(code__in=codes)
                   .values_list("program_id", "code", "segment_budget")}
        return {m.pk: by_code.get((m.program_id, m.content.code), 10) for m in messages  # type: ignore[attr-defined]
                if getattr(m, "content", None) is not None}
