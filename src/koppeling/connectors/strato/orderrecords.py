"""What the ``Bestellingen.xml`` reader yields: ``StratoOrder`` (with its ``StratoLine``\\ s) for an
order it could read, ``OrderError`` for one it could not. Values are ``Decimal``, never float;
nothing here is judged yet (VAT rates and totals: ``koppeling.convert``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from koppeling.core.records import ExactRecord, record

from . import names
from .issues import Issue
from .orderfields import A_COUNTRY, A, where


@record
@dataclass(frozen=True, slots=True)
class StratoLine(ExactRecord):
    """One order line. Identical lines in a file are the *same* object (the reader remembers lines
    it has parsed by their texts), so they cost memory once.

    ``unit_price`` and ``total`` follow the order's tax model (incl. VAT when gross); ``total`` None
    means quantity x unit price; ``rate`` None means the export gave none (shipping, fees and
    discounts then follow the goods, ``koppeling.core``). Where the line is in the file:
    ``StratoOrder.line_numbers``.
    """

    kind: str
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    rate: Decimal | None
    total: Decimal | None
    tax_amount: Decimal | None


@dataclass(slots=True)
class StratoOrder:
    """One order from Bestellingen.xml, parsed but not yet judged (rates, totals: the converter)."""

    index: int  # 1-based position of the order element in the file
    line: int | None  # where the order element starts
    number: str
    date: dt.date
    gross: bool  # prices include VAT
    currency: str
    customer_number: str
    billing: list[str]  # address values, stripped, indexed by ADDRESS_FIELDS ("" when absent)
    delivery_country: str  # ISO code of the ShippingAddress country, "" when none
    payment_method: str
    paid: bool
    status: str
    lines: list[StratoLine]
    line_numbers: list[int | None]  # source line of each line element
    grand_total: Decimal
    total_before_tax: Decimal | None
    total_tax: Decimal | None
    warnings: list[Issue] = field(default_factory=list)
    cancelled: bool = False  # the status says the order was cancelled: it is not booked

    def address(self, name: str) -> str:
        return self.billing[A[name]]

    def line_element(self, i: int) -> str:
        """Where line ``i`` (0-based) is, for messages: ``Order #3/Shipping[4]``."""
        return f"Order #{self.index}/{where(self.lines[i].kind, i + 1)}"

    @property
    def country(self) -> str:
        raw = self.billing[A_COUNTRY]
        return (names.country_code(raw) or "") if raw else ""

    @property
    def element(self) -> str:
        return f"Order #{self.index}"


@dataclass(slots=True)
class OrderError:
    """An order that could not be parsed: everything known about where and why."""

    index: int
    line: int | None
    number: str
    issues: list[Issue]
