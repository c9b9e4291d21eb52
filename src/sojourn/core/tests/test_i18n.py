"""Countries are named in the reader's language, from CLDR's names (Babel), never from a table of ours."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from sojourn.core.i18n import country_name


def test_a_country_is_named_in_each_language_and_an_unknown_code_stays_a_code():
    assert [country_name("JP", language) for language in ("en", "de", "fr-CA", "ja")] == [
        "Japan", "Japan", "Japon", "日本"]
    assert country_name("DE", "fr") == "Allemagne" and country_name("XX", "de") == "XX"
    assert country_name("AT", "xx") == "AT"  # a language CLDR does not know


def test_pages_name_a_country_in_the_active_language():
    page = Template("{% load sojourn_places %}{{ code|country_name }}")
    with translation.override("de"):
        assert page.render(Context({"code": "GB"})) == "Vereinigtes Königreich"
    with translation.override("ja"):
        assert page.render(Context({"code": "US"})) == "アメリカ合衆国"
