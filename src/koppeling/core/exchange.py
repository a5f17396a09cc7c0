"""Exchange rates as data: the ECB's euro reference rates, a dated table, a shipped fallback.

An invoice in a foreign currency must state its VAT in euros (Art. 91(2) and 230 VAT Directive;
the Netherlands accept the ECB's latest published rate), so the rules need the rate of the day of
the supply. Fetching it is a connector's job (``koppeling.connectors.ecb``); this module only
*parses* what was fetched (:func:`parse_ecb_xml`, the ``eurofxref-daily.xml`` /
``eurofxref-hist-90d.xml`` format), keeps a table (:class:`ExchangeRateTable`) and loads the
snapshot shipped in ``data/ecb_rates.json`` (:func:`load_fallback`) so that the demo and the tests
work offline.

The ECB publishes on TARGET working days around 16:00 CET; for a weekend or holiday the last
published rate before it is used, up to ``max_age_days`` back.

>>> table = parse_ecb_xml(b'''<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
...   xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time="2026-09-11">
...   <Cube currency="USD" rate="1.1592"/></Cube></Cube></gesmes:Envelope>''')
>>> table.rate("USD", dt.date(2026, 9, 13)).rate
Decimal('1.1592')
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from lxml import etree

from koppeling.core.facts import ExchangeRate

__all__ = ["ExchangeRateError", "ExchangeRateTable", "load_fallback", "parse_ecb_xml"]

ECB_SOURCE = "ECB euro foreign exchange reference rates"
_ECB_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"


class ExchangeRateError(LookupError):
    """No usable rate: unknown currency, no rate near the date, or an unreadable feed."""


@dataclass(slots=True)
class ExchangeRateTable:
    """Rates by currency and date; ``rate()`` answers with the latest rate on or before a date."""

    source: str = ECB_SOURCE
    max_age_days: int = 7
    _rates: dict[str, dict[dt.date, Decimal]] = field(default_factory=dict)

    def add(self, currency: str, on: dt.date, rate: Decimal) -> None:
        if rate <= 0:
            raise ExchangeRateError(f"rate {rate} for {currency} on {on} is not positive")
        self._rates.setdefault(currency.upper(), {})[on] = rate

    def merge(self, other: ExchangeRateTable) -> None:
        """Take every rate of ``other`` (a newer fetch wins over the fallback)."""
        for currency, days in other._rates.items():
            for on, rate in days.items():
                self.add(currency, on, rate)

    def currencies(self) -> list[str]:
        return sorted(self._rates)

    def latest_date(self) -> dt.date | None:
        days = [day for rates in self._rates.values() for day in rates]
        return max(days) if days else None

    def rate(self, currency: str, on: dt.date) -> ExchangeRate:
        """The rate published for ``on`` or, on a day without one, the last before it.

        Raises :class:`ExchangeRateError` when the currency is unknown or the last rate is more than
        ``max_age_days`` old (a stale table must be refreshed, not trusted).
        """
        code = currency.upper()
        if code == "EUR":
            return ExchangeRate("EUR", Decimal(1), on, self.source)
        days = self._rates.get(code)
        if not days:
            raise ExchangeRateError(f"no exchange rate known for {code}")
        ordered = sorted(days)
        at = bisect.bisect_right(ordered, on)
        if not at:
            raise ExchangeRateError(f"no {code} rate on or before {on.isoformat()}")
        day = ordered[at - 1]
        if (on - day).days > self.max_age_days:
            raise ExchangeRateError(
                f"the last {code} rate is of {day.isoformat()}, more than {self.max_age_days} days "
                f"before {on.isoformat()}"
            )
        return ExchangeRate(code, days[day], day, self.source)

    def as_json(self) -> dict[str, object]:
        """The table in the format of ``data/ecb_rates.json`` (to store a fetched table)."""
        return {
            "source": self.source,
            "rates": {
                day.isoformat(): {
                    currency: format(days[day], "f") for currency, days in self._rates.items() if day in days
                }
                for day in sorted({d for days in self._rates.values() for d in days})
            },
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, object]) -> ExchangeRateTable:
        table = cls(source=str(doc.get("source") or ECB_SOURCE))
        rates = doc.get("rates")
        if not isinstance(rates, Mapping):
            raise ExchangeRateError("an exchange-rate file needs a 'rates' object")
        for day, by_currency in rates.items():
            on = dt.date.fromisoformat(str(day))
            if not isinstance(by_currency, Mapping):
                raise ExchangeRateError(f"rates of {day} must be an object")
            for currency, text in by_currency.items():
                table.add(str(currency), on, _decimal(text, f"{currency} on {day}"))
        return table


def _decimal(text: object, what: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ExchangeRateError(f"rate of {what} is not a number: {text!r}") from None
    if not value.is_finite():
        raise ExchangeRateError(f"rate of {what} is not a finite number")
    return value


def parse_ecb_xml(data: bytes, *, source: str = ECB_SOURCE) -> ExchangeRateTable:
    """Parse the ECB's ``eurofxref`` XML (daily, 90 days or history) into a table.

    Entities are not resolved and the network is never used: the feed is untrusted input.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ExchangeRateError(f"the ECB feed is not well-formed XML ({exc.msg})") from None
    table = ExchangeRateTable(source=source)
    for day in _cubes(root):
        when = day.get("time")
        if not when:
            continue
        on = dt.date.fromisoformat(when)
        for quote in day:
            currency, rate = quote.get("currency"), quote.get("rate")
            if currency and rate:
                table.add(currency, on, _decimal(rate, f"{currency} on {when}"))
    if table.latest_date() is None:
        raise ExchangeRateError("the ECB feed holds no rates")
    return table


def _cubes(root: etree._Element) -> Iterable[etree._Element]:
    """The dated ``<Cube time=…>`` elements, with or without the ECB namespace."""
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "Cube" and element.get("time"):
            yield element


@cache
def _fallback_doc() -> str:
    return resources.files("koppeling.core").joinpath("data/ecb_rates.json").read_text(encoding="utf-8")


def load_fallback() -> ExchangeRateTable:
    """The snapshot shipped with koppeling (``data/ecb_rates.json``); see its ``about`` for the source.

    The fallback is deliberately allowed to be old (``max_age_days`` is raised to cover it): it
    is for the demo and for a link that could not fetch yet, and a rate from it says its date.
    """
    doc = json.loads(_fallback_doc())
    table = ExchangeRateTable.from_json(doc)
    table.max_age_days = int(doc.get("max_age_days", 3660))
    return table
