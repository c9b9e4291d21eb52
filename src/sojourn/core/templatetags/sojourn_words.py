"""Filters that turn the platform's codes into the words staff read."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from sojourn.core.packs import purpose_label

register = template.Library()


@register.filter
def purpose(code: str) -> str:
    """'nurse_calls' → 'calls from a nurse', in the reader's language."""
    return purpose_label(code)


@register.filter
def purposes(codes: Iterable[str]) -> str:
    return ", ".join(purpose_label(code) for code in codes)
