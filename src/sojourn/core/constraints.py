"""Shape checks for database constraints that any SQLite tool can evaluate.

Django writes `__regex` as `REGEXP`, a function SQLite does not have: Django registers it on its own
connections, but `PRAGMA quick_check` from Python's sqlite3 module, DB Browser or an older sqlite3
shell then fails with "unknown function: REGEXP()" on the first row it checks. The `__glob` lookup
says the same in SQLite's own GLOB (case-sensitive, `*`, `?` and `[...]` with `^` for "not"), and in
a regular expression translated from it on PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from django.db.models import Lookup, Q


def glob_to_regex(pattern: str) -> str:
    """Translate a GLOB pattern into an anchored POSIX regular expression that matches the same texts."""
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            out.append(pattern[i:end + 1])  # the same class syntax in both, `^` negating
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out) + "$"


@models.CharField.register_lookup
class Glob(Lookup):
    lookup_name = "glob"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ~ {rhs}", [*lhs_params, *(glob_to_regex(p) for p in rhs_params)]

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} GLOB {rhs}", [*lhs_params, *rhs_params]


def only(field: str, first: str, rest: str) -> Q:
    """The field is one character of the class `first`, then any of the class `rest` (`[a-z]`, say)."""
    return Q(**{f"{field}__glob": f"{first}*"}) & ~Q(**{f"{field}__glob": f"?*[^{rest[1:-1]}]*"})


def hex_digest(field: str, length: int = 64) -> Q:
    """The field is a lower-case hexadecimal digest of `length` digits (SHA-256 by default)."""
    return Q(**{f"{field}__glob": "[0-9a-f]" * length})


def dotted_code(field: str) -> Q:
    """The field is two or more dot-separated parts of [a-z0-9_], each starting with a letter (web.page_viewed)."""
    return (Q(**{f"{field}__glob": "[a-z]*.[a-z]*"}) & ~Q(**{f"{field}__glob": "*[^a-z0-9_.]*"})
            & ~Q(**{f"{field}__glob": "*.[^a-z]*"}) & ~Q(**{f"{field}__glob": "*."}))
