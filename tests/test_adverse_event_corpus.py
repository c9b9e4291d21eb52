"""Patients' messages in German, English, French and Japanese, side effects in everyday words among
thanks, questions, negations and idioms, sent through the real SMS intake: the term lists flag nearly
every adverse event and special situation for review, and every flag ends as a case or as a person's
"not an adverse event" with the reason. Two hand-written corpora (safety/tests/data): the first was
written blind to the term lists, the second blind to both; docs/safety.md gives each one's recall
before the lists learned from it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from sojourn.channels.services.callbacks import ProviderCallback
from sojourn.channels.services.sms_inbound import receive_sms
from sojourn.core.permissions import Role
from sojourn.people.queries import actor_for_user
from sojourn.people.tests.factories import make_patient, make_staff
from sojourn.safety.models import Case, Intake
from sojourn.safety.services import decide_intake, read_intake_words

DATA = Path(__file__).parents[1] / "src" / "sojourn" / "safety" / "tests" / "data"
# Where each language's patient lives: a French speaker in Canada, whose market also speaks English.
PATIENTS = {"de": ("DE", "de-DE", "+4930901820"), "en": ("US", "en-US", "+12025550143"),
            "fr": ("CA", "fr-CA", "+16135550123"), "ja": ("JP", "ja-JP", "+819012345678")}
KINDS = {"ae": Case.Kind.ADVERSE_EVENT, "special": Case.Kind.SPECIAL_SITUATION}


@pytest.mark.django_db
@pytest.mark.parametrize("corpus", ["ae_corpus.yaml", "ae_corpus_heldout.yaml"])
def test_the_sms_intake_flags_side_effects_and_a_person_decides_every_flag(program, corpus):
    messages = yaml.safe_load((DATA / corpus).read_text(encoding="utf-8"))
    assert len(messages) >= 120 and {m["lang"] for m in messages} == set(PATIENTS)
    for country, locale, phone in PATIENTS.values():
        make_patient(program, country, phone=phone, locale=locale)
    counts: Counter[tuple[str, bool, bool]] = Counter()
    missed = []
    for n, message in enumerate(messages):
        _country, _locale, phone = PATIENTS[message["lang"]]
        receive_sms(callback=ProviderCallback("sms", f"corpus-{n}"), sender=phone, text=message["text"],
                    provider_id=f"corpus-{n}")
        flagged = Intake.objects.filter(idempotency_key=f"sms-in:corpus-{n}").exists()
        adverse = message["label"] != "none"
        counts[(message["lang"], adverse, flagged)] += 1
        if adverse and not flagged:
            missed.append(message["text"])

    def recall(lang: str | None = None) -> float:
        hits = sum(v for (la, adverse, flagged), v in counts.items() if adverse and flagged and lang in (None, la))
        return hits / sum(v for (la, adverse, _f), v in counts.items() if adverse and lang in (None, la))

    assert recall() >= 0.95, f"recall {recall():.3f}; missed: {missed}"
    assert all(recall(lang) >= 0.9 for lang in PATIENTS), {lang: recall(lang) for lang in PATIENTS}
    # Flagging everything would pass the recall; a reviewer's queue must stay worth reading.
    false_flags = sum(v for (_la, adverse, flagged), v in counts.items() if flagged and not adverse)
    assert false_flags <= 0.5 * sum(v for (_la, adverse, _f), v in counts.items() if not adverse)

    # The words are sealed, and the safety officer reads them back to decide: nothing is left open.
    officer = actor_for_user(make_staff("safety@sponsor.example", Role.SAFETY_OFFICER, program))
    by_text = {m["text"]: m["label"] for m in messages}
    intakes = list(Intake.objects.filter(source="sms").select_related("patient__market").order_by("pk"))
    assert intakes and all(i.words_sealed and i.detail["terms"] for i in intakes)
    for intake in intakes:
        words = read_intake_words(actor=officer, intake=intake)
        assert words.encode() not in bytes(intake.words_sealed)
        label = by_text[words]
        decide_intake(actor=officer, intake=intake, kind=KINDS.get(label), at=intake.day_zero,
                      reason="" if label in KINDS else "thanks and a question, no adverse event")
    decided = Counter(Intake.objects.filter(source="sms").values_list("status", flat=True))
    assert decided["open"] == 0 and decided["case"] + decided["not_ae"] == len(intakes)
    assert Case.objects.count() == decided["case"] == sum(v for (_la, adv, flagged), v in counts.items()
                                                          if adv and flagged)
