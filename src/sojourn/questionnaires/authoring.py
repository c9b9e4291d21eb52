"""Building blocks for writing a FHIR Questionnaire in Python with its four translations and its
scoring extension; the shipped instruments and the needs analysis are written with them."""

from __future__ import annotations

import json
from typing import Any

from sojourn.questionnaires.definition import ORDINAL_VALUE, SCORING, TRANSLATION

LANGUAGES = ("en", "de", "fr", "ja")
BASE_URL = "urn:sojourn:questionnaire:"


def translations(texts: dict[str, str]) -> dict[str, Any]:
    return {"extension": [{"url": TRANSLATION, "extension": [{"url": "lang", "valueCode": lang},
                                                             {"url": "content", "valueString": texts[lang]}]}
                          for lang in LANGUAGES[1:] if lang in texts]}


def answer_options(labels: dict[str, list[str]], weights: list[int]) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": "urn:sojourn:answer", "code": str(weight), "display": labels["en"][n],
                             "_display": translations({lang: labels[lang][n] for lang in LANGUAGES})},
             "extension": [{"url": ORDINAL_VALUE, "valueDecimal": weight}]}
            for n, weight in enumerate(weights)]


def choice_item(link_id: str, texts: dict[str, str], options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"linkId": link_id, "text": texts["en"], "_text": translations(texts), "type": "choice",
            "required": True, "answerOption": options, **extra}


def questionnaire_resource(name: str, title: dict[str, str], items: list[dict[str, Any]], scoring: dict[str, Any],
                   intro: dict[str, str] | None = None, copyright_text: str = "") -> dict[str, Any]:
    if intro:
        items = [{"linkId": f"{name}-intro", "text": intro["en"], "_text": translations(intro), "type": "display"},
                 *items]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire", "url": f"{BASE_URL}{name}", "name": name.replace("-", "_").upper(),
        "title": title["en"], "_title": translations(title), "status": "active", "language": "en",
        "subjectType": ["Patient"], "item": items,
        "extension": [{"url": SCORING, "valueString": json.dumps(scoring, ensure_ascii=False)}],
    }
    if copyright_text:
        resource["copyright"] = copyright_text
    return resource


def score_band(low: float, high: float, code: str, en: str, de: str, fr: str, ja: str) -> dict[str, Any]:
    return {"min": low, "max": high, "code": code, "label": {"en": en, "de": de, "fr": fr, "ja": ja}}


def clinical_flag(code: str, when: list[dict[str, Any]], en: str, de: str, fr: str, ja: str,
                  urgent: bool = False) -> dict[str, Any]:
    return {"code": code, "label": {"en": en, "de": de, "fr": fr, "ja": ja}, "urgent": urgent, "when": when}
