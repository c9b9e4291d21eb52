"""Choosing the language for a person (their preference, then the browser, then the market), and
naming countries in a language."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def supported(code: str) -> str | None:
    """Map a tag such as ``de-DE`` or ``fr-CA`` to a language the interface is translated into."""
    if not code:
        return None
    try:
        return get_supported_language_variant(code.replace("_", "-").lower())
    except LookupError:
        return None


def choose_language(request: HttpRequest, preference: str = "", market_default: str = "") -> str:
    chosen = supported(preference)
    if chosen:
        return chosen
    for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if tag == "*":
            continue
        chosen = supported(tag)
        if chosen:
            return chosen
    return supported(market_default) or settings.LANGUAGE_CODE


def country_name(code: str, language: str) -> str:
    """The country's name in the language (CLDR's, through Babel); the code itself if CLDR has none."""
    try:
        names = Locale.parse(language.replace("-", "_")).territories
    except (ValueError, UnknownLocaleError):
        return code
    return names.get(code.upper(), code)
