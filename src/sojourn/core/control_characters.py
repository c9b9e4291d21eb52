"""Control characters are refused wherever text enters Sojourn (API, forms, imported files).

PostgreSQL cannot store NUL in text or jsonb, nor a lone surrogate in UTF-8, while SQLite stores
both: refusing them at the edge makes both databases answer alike, and keeps invisible characters
out of names, ids and exports. Tab, line feed and carriage return are ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

# C0 controls but tab, LF, CR; DEL and the C1 controls; UTF-16 surrogates (a JSON "\ud800" alone).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_character(text: str) -> bool:
    return CONTROL.search(text) is not None


def control_character_paths(value: Any) -> Iterator[tuple[str, ...]]:
    """Yield where, in a parsed JSON value, a key or a string holds a control character, in document order.

    A loop, not recursion: a body nested as deep as the JSON parser allows must not exhaust the stack.
    """
    stack: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if has_control_character(item):
                yield path
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                where = (*path, CONTROL.sub("?", str(key)))
                if isinstance(key, str) and has_control_character(key):
                    yield where
                else:
                    children.append((where, child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([((*path, str(i)), child) for i, child in enumerate(item)]))


def refusal_message() -> str:
    return _("Control characters (such as NUL) are not accepted; remove them and send again.")
