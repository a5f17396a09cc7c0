"""The EU distance-sales threshold: when destination VAT (OSS) starts applying.

Since 2021-07-01 a seller established in one member state charges its own VAT on distance sales
of goods to consumers in other member states (and on telecom, broadcasting and electronic
services) until the total of those sales, excl. VAT, over all member states exceeds EUR 10,000 in
the current or the preceding calendar year; from the sale that crosses the threshold on, the
customer's country's VAT applies (Art. 59c and 33 VAT Directive 2006/112/EC as amended by
Directive (EU) 2017/2455; Belastingdienst "Drempelbedrag afstandsverkopen binnen de EU"). A seller
may also opt for destination VAT below the threshold (``InvoiceSettings.oss_opt_in``).

The runtime adds up the distance sales it booked (from the ledger) per calendar year and hands
them in, with the figure the owner entered for sales made before koppeling (or elsewhere);
:func:`oss_status` says where this sale stands. Which sales count is by date, not by when they
were booked (:class:`DistanceSales`): a March order booked in December by a backfill is decided
by the sales up to March, as the threshold crossed in October did not yet apply to it.

>>> from decimal import Decimal as D
>>> oss_status({2025: D("4000"), 2026: D("9900")}, D("0"), year=2026, sale_amount=D("150")).past_threshold
True
>>> oss_status({2025: D("4000"), 2026: D("9800")}, D("0"), year=2026, sale_amount=D("150")).past_threshold
False
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from koppeling.core.facts import OssPosition

__all__ = ["OSS_THRESHOLD", "DistanceSales", "oss_status", "starting_figures"]

#: EUR, excl. VAT, all member states together (Art. 59c(1)(c) VAT Directive)
OSS_THRESHOLD = Decimal("10000")


def oss_status(
    totals_by_year: Mapping[int, Decimal],
    starting_figure: Decimal | Mapping[int, Decimal] = Decimal(0),
    threshold: Decimal = OSS_THRESHOLD,
    *,
    year: int,
    sale_amount: Decimal = Decimal(0),
) -> OssPosition:
    """The seller's position for a distance sale of ``sale_amount`` (excl. VAT) in ``year``.

    Args:
        totals_by_year: EU distance sales (goods and TBE services to consumers in other member
            states) booked so far, excl. VAT, per calendar year, as the ledger holds them.
        starting_figure: what the owner entered for sales outside the ledger: one amount (added to
            ``year``) or one per year.
        threshold: EUR 10,000 unless the law changes.
        year: the calendar year of the sale.
        sale_amount: this sale's amount excl. VAT (the sale that crosses the threshold is taxed at
            destination, so it counts).
    """
    if isinstance(starting_figure, Mapping):
        extra = {int(k): Decimal(v) for k, v in starting_figure.items()}
    else:
        extra = {year: Decimal(starting_figure)}
    last = Decimal(totals_by_year.get(year - 1, 0)) + extra.get(year - 1, Decimal(0))
    this = Decimal(totals_by_year.get(year, 0)) + extra.get(year, Decimal(0))
    past = last > threshold or this + sale_amount > threshold
    return OssPosition(past, this, last, threshold, year)


def starting_figures(amount: Decimal, for_year: int | None, year: int) -> dict[int, Decimal]:
    """The owner's figure for sales outside the ledger, by the year it counts in: the year it names
    (so next year it is last year's, for the last-year rule, and after that nothing), or, naming
    none, the year of the sale being decided (``year``).

    >>> from decimal import Decimal as D
    >>> starting_figures(D("500"), 2025, 2026), starting_figures(D("500"), None, 2026)
    ({2025: Decimal('500')}, {2026: Decimal('500')})
    """
    return {for_year or year: Decimal(amount)}


@dataclass
class DistanceSales:
    """EU distance sales (excl. VAT) per day of sale, as booked, and what of them counts for a sale
    on a given day: its own year up to and including that day, and the whole preceding year.

    Sales dated after the sale being decided never count (the threshold applies "from the sale that
    crosses it on", in the order of the sales, not of their booking). Sales of the same day count:
    their order within the day is not known, so the stricter reading.

    >>> from decimal import Decimal as D
    >>> sales = DistanceSales({dt.date(2026, 3, 1): D("100"), dt.date(2026, 10, 1): D("11000")})
    >>> sales.totals_for(dt.date(2026, 3, 15)), sales.totals_for(dt.date(2026, 11, 1))[2026]
    ({2025: Decimal('0'), 2026: Decimal('100')}, Decimal('11100'))
    """

    by_day: dict[dt.date, Decimal] = field(default_factory=dict)

    def add(self, day: dt.date, amount: Decimal) -> None:
        self.by_day[day] = self.by_day.get(day, Decimal(0)) + amount

    def totals_for(self, day: dt.date) -> dict[int, Decimal]:
        """The year-by-year totals :func:`oss_status` takes, for a sale on ``day``."""
        last = this = Decimal(0)
        for when, amount in self.by_day.items():
            if when.year == day.year - 1:
                last += amount
            elif when.year == day.year and when <= day:
                this += amount
        return {day.year - 1: last, day.year: this}

    def per_year(self) -> dict[int, Decimal]:
        years: dict[int, Decimal] = {}
        for when, amount in self.by_day.items():
            years[when.year] = years.get(when.year, Decimal(0)) + amount
        return years
