"""EU VAT rates as dated data, and the questions the invoicing rules ask of them.

Rates are not constants: they change (NL's low rate 6 → 9 % on 2019-01-01, accommodation 9 → 21 %
on 2026-01-01, Germany's 16/5 % in the second half of 2020, …), so every question takes the date
the sale happened. The facts live in ``vat_rates.json`` next to this module; each rate has a
``valid_from`` and, once superseded, a ``valid_to`` (both inclusive), a kind (standard, reduced,
super_reduced, parking, zero) and the simple koppeling *categories* it applies to:

* ``standard`` — everything not listed elsewhere;
* ``reduced`` — the rate goods on the NL 9 % list (food, books) get in that country; used to carry a
  Dutch reduced-rate line over to another member state under OSS when nothing more is known;
* ``food``, ``books``, ``accommodation``, ``culture`` — where we know the country's rate for them.

Facts we could not confirm carry a ``note`` saying so ("verify"); they are still the best we know.
Rates in force before the data horizon (2019-01-01, earlier for NL) are recorded with the horizon as
``valid_from``; asking about a date before a country's data starts raises :class:`VatDataError`
instead of guessing.

>>> [rate_for("NL", "accommodation", day) for day in (dt.date(2025, 12, 31), dt.date(2026, 1, 1))]
[Decimal('9'), Decimal('21')]
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = [
    "CATEGORIES",
    "OSS_START",
    "VatDataError",
    "VatRate",
    "country_name",
    "ended_on",
    "is_eu",
    "known_rates",
    "normalize_country",
    "rate_for",
    "rates_on",
    "standard_rate",
    "vat_prefix",
]

CATEGORIES = ("standard", "reduced", "food", "books", "accommodation", "camping", "culture")
#: sub-categories: where a country has no rate of its own for one, its parent's rate applies
#: (NL splits accommodation: hotels 21 % from 2026, camping pitches stay at 9 %)
PARENT = MappingProxyType({"camping": "accommodation"})
KINDS = ("standard", "reduced", "super_reduced", "parking", "zero")

# Aliases people and shops use for ISO 3166 codes: Greece's VAT prefix and the UK's common name.
_ALIASES = MappingProxyType({"EL": "GR", "UK": "GB"})


class VatDataError(LookupError):
    """The rate data cannot answer: unknown country or category, or a date outside the data.

    The message is for developers; ``country``, ``on`` and ``category`` are the facts of the
    question that could not be answered (empty / ``None`` where not known), for the rule errors
    that the invoicing rules raise from it.
    """

    def __init__(
        self, message: str, *, country: str = "", on: dt.date | None = None, category: str = ""
    ) -> None:
        super().__init__(message)
        self.country = country
        self.on = on
        self.category = category


@dataclass(frozen=True, slots=True)
class VatRate:
    """One rate of one country for one category, valid ``valid_from``..``valid_to`` (inclusive).

    ``category`` is one of :data:`CATEGORIES`, or ``""`` for a rate that exists (and so is a valid
    answer when completing a line's rate from its amounts) but is not mapped to a category here.
    """

    country: str
    rate: Decimal
    kind: str
    category: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    note: str = ""
    source: str = ""

    def applies_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    name: str
    vat_prefix: str
    eu_from: dt.date
    eu_to: dt.date | None
    data_from: dt.date
    rates: tuple[VatRate, ...]
    note: str = ""


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@cache
def _data() -> tuple[dt.date, dict[str, _Country]]:
    """Load and check ``vat_rates.json`` once per process (the file is package data)."""
    raw = resources.files("koppeling.core").joinpath("vat_rates.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(raw, parse_float=Decimal)
    horizon = dt.date.fromisoformat(doc["horizon"])
    countries: dict[str, _Country] = {}
    for code, item in doc["countries"].items():
        data_from = _date(item.get("data_from")) or horizon
        rates: list[VatRate] = []
        for entry in item["rates"]:
            if not isinstance(entry["rate"], str):
                raise VatDataError(f"{code}: rates must be strings, got {entry['rate']!r}")
            if entry["kind"] not in KINDS:
                raise VatDataError(f"{code}: unknown kind {entry['kind']!r}")
            valid_from = _date(entry["valid_from"]) or data_from
            valid_to = _date(entry["valid_to"])
            for category in entry["categories"] or [""]:
                if category and category not in CATEGORIES:
                    raise VatDataError(f"{code}: unknown category {category!r}")
                rates.append(
                    VatRate(
                        country=code,
                        rate=Decimal(entry["rate"]),
                        kind=entry["kind"],
                        category=category,
                        valid_from=valid_from,
                        valid_to=valid_to,
                        note=entry.get("note", ""),
                        source=entry.get("source", ""),
                    )
                )
        countries[code] = _Country(
            code=code,
            name=item["name"],
            vat_prefix=item["vat_prefix"],
            eu_from=dt.date.fromisoformat(item["eu_from"]),
            eu_to=_date(item["eu_to"]),
            data_from=data_from,
            rates=tuple(rates),
            note=item.get("note", ""),
        )
    return horizon, countries


OSS_START = dt.date(2021, 7, 1)
"""The EU One-Stop-Shop for distance sales to consumers started on this date (replacing MOSS/thresholds)."""


@lru_cache(maxsize=1024)
def normalize_country(country: str) -> str:
    """ISO 3166-1 alpha-2 in upper case; accepts Greece's VAT prefix ``EL`` and ``UK``.

    >>> normalize_country(" el ")
    'GR'
    """
    code = country.strip().upper()
    return _ALIASES.get(code, code)


def _country(country: str) -> _Country:
    code = normalize_country(country)
    try:
        return _data()[1][code]
    except KeyError:
        raise VatDataError(f"no VAT rates known for country {country!r}", country=code) from None


def country_name(country: str) -> str:
    """English name of a country we have VAT data for (for messages)."""
    return _country(country).name


def vat_prefix(country: str) -> str:
    """The prefix of the country's VAT numbers: the ISO code, except ``EL`` for Greece."""
    return _country(country).vat_prefix


@lru_cache(maxsize=8192)
def is_eu(country: str, on: dt.date) -> bool:
    """Whether ``country`` belonged to the EU VAT area on ``on``.

    Needed because membership changes: GB left the EU VAT area on 2021-01-01 (end of the Brexit
    transition period), so a sale to GB in 2020 is intra-EU and one in 2021 an export. Countries we
    hold no data for (US, CH, NO, …) are outside the EU. Northern Ireland (XI) is in it from
    2021-01-01 for goods (``core.territories`` decides goods vs services).

    >>> is_eu("GB", dt.date(2020, 12, 31)), is_eu("GB", dt.date(2021, 1, 1)), is_eu("EL", dt.date(2024, 1, 1))
    (True, False, True)
    """
    code = normalize_country(country)
    item = _data()[1].get(code)
    if item is None:
        return False
    return item.eu_from <= on and (item.eu_to is None or on <= item.eu_to)


def rates_on(country: str, on: dt.date) -> list[VatRate]:
    """Every rate of ``country`` in force on ``on``, one entry per category it applies to.

    Raises :class:`VatDataError` for unknown countries and for dates before the country's data
    starts, because a wrong rate booked silently is worse than a stopped order.
    """
    item = _country(country)
    if on < item.data_from:
        raise VatDataError(
            f"VAT rates for {item.code} are recorded from {item.data_from.isoformat()} on; "
            f"{on.isoformat()} is earlier",
            country=item.code,
            on=on,
        )
    return [rate for rate in item.rates if rate.applies_on(on)]


@lru_cache(maxsize=8192)
def rate_for(country: str, category: str, on: dt.date) -> Decimal:
    """The rate for a koppeling category in ``country`` on ``on``.

    A category the data does not map for that country raises :class:`VatDataError` rather than
    falling back to the standard rate, since e.g. books are reduced almost everywhere.

    >>> rate_for("DE", "food", dt.date(2020, 8, 1))
    Decimal('5')
    """
    if category not in CATEGORIES:
        raise VatDataError(
            f"unknown VAT category {category!r}; use one of {', '.join(CATEGORIES)}",
            country=normalize_country(country),
            on=on,
            category=category,
        )
    matches = {rate.rate for rate in rates_on(country, on) if rate.category == category}
    code = normalize_country(country)
    if not matches and category in PARENT:
        return rate_for(country, PARENT[category], on)
    if not matches:
        raise VatDataError(
            f"no {category!r} rate recorded for {code} on {on.isoformat()}",
            country=code,
            on=on,
            category=category,
        )
    if len(matches) > 1:  # a data error: caught by the data tests, never guessed around
        raise VatDataError(
            f"ambiguous {category!r} rate for {country} on {on}: {sorted(matches)}",
            country=code,
            on=on,
            category=category,
        )
    return matches.pop()


@lru_cache(maxsize=8192)
def standard_rate(country: str, on: dt.date) -> Decimal:
    """The standard rate of ``country`` on ``on`` (e.g. NL 21, DE 16 in 2020-H2)."""
    return rate_for(country, "standard", on)


@lru_cache(maxsize=8192)
def known_rates(country: str, on: dt.date) -> frozenset[Decimal]:
    """Every rate that could legitimately appear on a ``country`` invoice dated ``on``, incl. 0.

    Used to complete a missing rate from a line's amounts: the nearest of these wins. 0 is always
    included (exports, intra-community supplies, exempt items).
    """
    return frozenset({rate.rate for rate in rates_on(country, on)} | {Decimal(0)})


def ended_on(country: str, rate: Decimal, on: dt.date) -> dt.date | None:
    """The last day ``rate`` was a rate of ``country``, if it was one before ``on`` but no longer is.

    >>> ended_on("NL", Decimal(6), dt.date(2024, 1, 1))
    datetime.date(2018, 12, 31)
    """
    if rate in known_rates(country, on):
        return None
    ends = [r.valid_to for r in _country(country).rates if r.rate == rate and r.valid_to and r.valid_to < on]
    return max(ends) if ends else None
