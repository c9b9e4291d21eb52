"""The .po catalogs are complete and safe, and the console really speaks each language."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from tests.helpers import LOCALE_DIR

LANGUAGES = ("de", "ja", "fr")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def catalog(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_keeps_its_placeholders(language):
    problems = []
    for message in catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if "fuzzy" in message.flags or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != sorted(PLACEHOLDER.findall(ids[0])):
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    assert not problems, "\n".join(problems)


def test_the_catalogs_hold_the_same_messages():
    ids = {language: {m.id for m in catalog(language) if m.id} for language in LANGUAGES}
    assert ids["de"] == ids["ja"] == ids["fr"]


@pytest.mark.parametrize(("accept", "sign_in", "password"), [
    ("de-DE", "Anmelden", "Passwort"),
    ("ja-JP", "サインイン", "パスワード"),
    ("fr-CA", "Se connecter", "Mot de passe"),
    ("en-GB", "Sign in", "Password"),
])
def test_the_sign_in_page_is_translated(client, db, accept, sign_in, password):
    page = client.get("/console/sign-in/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert f">{sign_in}</button>" in page and f">{password}</label>" in page
