"""Dates and times inside sentences."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def ends_sentence(formatted: str) -> str:
    """A formatted date or time that ends a sentence, less its own final period: the sentence's full
    stop stands for both ("… at 10 a.m.", "… am 5. Dez."), never "a.m.." or "Dez..".
    Use it where a translated sentence ends with the date: {{ at|date:"DATETIME_FORMAT"|ends_sentence }}."""
    text = str(formatted)
    return text[:-1] if text.endswith(".") else text
