"""What the runtime looked up for one order, handed to the rules as data (core does no I/O).

``order_to_invoice(order, settings, facts=InvoiceFacts(...))``: the caller (the flow runtime, the
converter, a test) fills in what it found out elsewhere — the VIES answer for the customer's VAT
number, the seller's OSS position on this sale, the exchange rate of the day, the invoice a credit
note credits. Every field is optional: a missing fact makes the rules conservative, never
optimistic (no VIES proof → never a 0 % intra-community supply; no exchange rate → the order stops
with a reason; no original invoice → the credit note is dated as the credit order, with a warning).

>>> check = VatNumberCheck("DE136695976", VatCheckStatus.VALID, dt.datetime(2026, 3, 2, 10, 0),
...                        consultation_number="WAPIAAAAW1234567")
>>> check.proves("de 136 695 976")
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from stdnum.util import clean

__all__ = [
    "ExchangeRate",
    "InvoiceFacts",
    "OriginalInvoice",
    "OssPosition",
    "VatCheckStatus",
    "VatNumberCheck",
    "compact_vat_number",
]


class VatCheckStatus(StrEnum):
    """What VIES answered about a VAT number."""

    VALID = "valid"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"  # VIES or the member state's database did not answer


def compact_vat_number(number: str) -> str:
    """A VAT number without spaces, dots and dashes, upper case (``"de 136.695.976"`` → ``DE136695976``)."""
    return clean(number, " -./,").upper().strip()


@dataclass(frozen=True, slots=True)
class VatNumberCheck:
    """One VIES consultation: the proof an intra-community supply at 0 % needs.

    ``consultation_number`` is VIES's ``requestIdentifier`` (only given when the request named the
    requester's own VAT number); ``checked_at`` is when VIES answered (``requestDate``), and
    ``valid_until`` how long the runtime may reuse the answer from its cache. ``detail`` holds the
    VIES fault code when ``status`` is ``UNAVAILABLE`` (``MS_UNAVAILABLE``, ``TIMEOUT`` …).
    """

    vat_number: str
    status: VatCheckStatus
    checked_at: dt.datetime
    consultation_number: str = ""
    source: str = "VIES"
    name: str = ""
    address: str = ""
    valid_until: dt.datetime | None = None
    detail: str = ""

    def proves(self, number: str) -> bool:
        """Whether this check proves ``number`` valid (the same number, answered valid)."""
        return self.status is VatCheckStatus.VALID and compact_vat_number(number) == compact_vat_number(
            self.vat_number
        )

    def concerns(self, number: str) -> bool:
        """Whether this check is about ``number`` at all (a stale check of another number is ignored)."""
        return compact_vat_number(number) == compact_vat_number(self.vat_number)


@dataclass(frozen=True, slots=True)
class OssPosition:
    """The seller's EU distance sales against the EUR 10,000 threshold, for the sale at hand.

    ``past_threshold`` is True when destination VAT applies to this sale: the previous calendar
    year's total exceeded the threshold, or this year's total including this sale does (Art. 59c
    VAT Directive; the sale that crosses it is the first taxed at destination). Amounts excl. VAT.
    """

    past_threshold: bool
    this_year: Decimal
    last_year: Decimal
    threshold: Decimal = Decimal("10000")
    year: int = 0


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """``rate`` units of ``currency`` per euro (as the ECB quotes), published for ``date``."""

    currency: str
    rate: Decimal
    date: dt.date
    source: str = "ECB euro foreign exchange reference rates"

    def to_euro(self, amount: Decimal) -> Decimal:
        """``amount`` in ``currency`` as euros, unrounded."""
        return amount / self.rate


@dataclass(frozen=True, slots=True)
class OriginalInvoice:
    """The invoice a credit note credits: its number, its date and, if known, its supply date."""

    number: str
    date: dt.date
    supply_date: dt.date | None = None

    @property
    def rate_date(self) -> dt.date:
        """The date whose VAT rates the credit uses: that of the original supply."""
        return self.supply_date or self.date


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """Everything the runtime looked up for one order (see the module docstring)."""

    vat_check: VatNumberCheck | None = None
    oss: OssPosition | None = None
    exchange_rate: ExchangeRate | None = None
    original: OriginalInvoice | None = None
