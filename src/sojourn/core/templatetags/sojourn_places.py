"""Places in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from sojourn.core.i18n import country_name as named

register = template.Library()


@register.filter
def country_name(code: str) -> str:
    """'JP' → 'Japan', 'Japon', '日本' (CLDR's names, through Babel), in the active language."""
    return named(str(code), get_language() or "en")
