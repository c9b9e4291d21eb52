"""Professional identifiers of healthcare professionals, checked where the market's format allows.

Each market pack names a scheme; a scheme with a check digit catches typing errors before a doctor
is enrolled under someone else's number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext_lazy as _


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def check_npi(value: str) -> str | None:
    """US National Provider Identifier: 10 digits, Luhn over the number prefixed with 80840."""
    if not re.fullmatch(r"[12]\d{9}", value):
        return str(_("An NPI has 10 digits and starts with 1 or 2."))
    if not _luhn_ok("80840" + value):
        return str(_("This NPI's check digit is wrong."))
    return None


def check_lanr(value: str) -> str | None:
    """German Lebenslange Arztnummer: 9 digits, the 7th a check digit over the first six (4, 9, …)."""
    if not re.fullmatch(r"\d{9}", value):
        return str(_("A LANR has 9 digits."))
    total = sum(int(d) * w for d, w in zip(value[:6], (4, 9, 4, 9, 4, 9), strict=True))
    if (10 - total % 10) % 10 != int(value[6]):
        return str(_("This LANR's check digit is wrong."))
    return None


def _pattern(regex: str, message: object) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if re.fullmatch(regex, value) else str(message)

    return check


SCHEMES: dict[str, Callable[[str], str | None]] = {
    "npi": check_npi,
    "lanr": check_lanr,
    "gmc": _pattern(r"\d{7}", _("A GMC reference number has 7 digits.")),
    "jp-medical-registration": _pattern(r"\d{6}", _("A medical registration number has 6 digits.")),
    "ca-licence": _pattern(r"[A-Z0-9]{4,10}", _("A licence number has 4 to 10 letters or digits.")),
}


def normalize_professional_id(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def check_professional_id(scheme: str, value: str) -> str | None:
    """Return why the identifier is wrong, or None when it passes the market's check."""
    return SCHEMES[scheme](normalize_professional_id(value))
