"""Domain records shared by every connector: parties, orders, invoices.

Connectors translate their system's records into these and back; the engine and the rules in
``koppeling.core.invoicing`` only ever see these. All amounts are ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from koppeling.core.messages import Outcome


class LineKind(StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    PAYMENT_FEE = "payment_fee"
    DISCOUNT = "discount"
    GIFT_CARD = "gift_card"
    OTHER = "other"


class VatRegime(StrEnum):
    """How VAT applies to a sale; decides rates and what the target must be told."""

    DOMESTIC = "domestic"  # seller's own country rates
    REVERSE_CHARGE = "reverse_charge"  # domestic B2B reverse charge (verlegd)
    EU_B2B = "eu_b2b"  # intra-community supply (ICP), 0% with a valid VAT number
    EU_B2C_OSS = "eu_b2c_oss"  # distance sale taxed at the customer's country rate (OSS)
    EXPORT = "export"  # outside the EU, 0%


class PaymentStatus(StrEnum):
    DUE = "due"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class Party:
    """A customer (or supplier) as both ends understand it."""

    name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    street: str = ""  # street and house number on one line
    street2: str = ""
    postal_code: str = ""
    city: str = ""
    country_code: str = "NL"  # ISO 3166-1 alpha-2, upper case
    vat_number: str = ""
    customer_id: str = ""  # the source system's id, if any

    @property
    def is_business(self) -> bool:
        return bool(self.company.strip())

    @property
    def display_name(self) -> str:
        return self.company or self.name or self.email


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of a shop order, as precise as the shop gave it.

    Shops give either prices excluding VAT, including VAT, or both; the VAT rate may be missing
    (then ``core.invoicing`` completes it from the amounts). Prices are per unit.
    """

    kind: LineKind
    description: str
    quantity: Decimal = Decimal(1)
    unit_price_ex: Decimal | None = None
    unit_price_inc: Decimal | None = None
    vat_rate: Decimal | None = None  # percent, e.g. Decimal("21")
    vat_amount: Decimal | None = None  # VAT of the whole line, when the shop states it
    sku: str = ""
    # Optional koppeling VAT category ("food", "books", "accommodation", "culture", "reduced",
    # "standard"; see core.vat.CATEGORIES): lets a missing rate be completed and an OSS sale use
    # the customer's country rate for that category instead of a guess.
    vat_category: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """A sale in the shop. ``source_id`` is stable and unique within one shop connection."""

    source_id: str
    number: str
    date: dt.date
    customer: Party
    lines: tuple[OrderLine, ...]
    total_inc: Decimal
    status: str = ""  # the shop's own status id, as text
    status_label: str = ""
    payment_method: str = ""
    paid: bool = False
    currency: str = "EUR"
    total_vat: Decimal | None = None
    delivery: Party | None = None
    shop: str = ""  # which shop (targets choose account / cost center per shop)
    status_changed_at: dt.datetime | None = None
    vat_hint: str = ""  # the shop's own VAT decision, e.g. "reverse_charged_vat", "zero_percent"
    is_credit: bool = False
    credited_number: str = ""

    @property
    def country_code(self) -> str:
        return (self.delivery or self.customer).country_code or self.customer.country_code


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """A line ready for a target: rate settled, amounts rounded once to cents."""

    kind: LineKind
    description: str
    quantity: Decimal
    unit_price_ex: Decimal  # up to 4 decimals, as accounting packages accept
    vat_rate: Decimal  # percent; 0 for ICP / export
    total_ex: Decimal  # cents
    vat_amount: Decimal  # cents
    sku: str = ""
    vat_rate_source: str = "exact"  # exact | completed | regime

    @property
    def total_inc(self) -> Decimal:
        return self.total_ex + self.vat_amount


@dataclass(slots=True)
class Invoice:
    """What a target books: one per order. ``reference`` is the (prefixed) order number.

    Which account and cost center it is booked on is the target connector's choice (from its own
    settings, e.g. per ``shop``); the invoice carries only what the order says.
    """

    reference: str
    description: str
    issue_date: dt.date
    regime: VatRegime
    customer: Party
    lines: list[InvoiceLine]
    vat_country: str = "NL"
    currency: str = "EUR"
    payment_status: PaymentStatus = PaymentStatus.PAID
    payment_date: dt.date | None = None
    payment_method: str = ""
    shop: str = ""  # which shop the order came from (Order.shop); targets pick account / cost center
    source_total_inc: Decimal | None = None
    # What the rules did that a person may want to know (codes: koppeling.core.codes.WarningCode).
    warnings: list[Outcome] = field(default_factory=list)
    # Gift-card payments (a positive amount) left out of the lines because they are payments, not
    # revenue: the lines add up to source_total_inc + gift_card_amount.
    gift_card_amount: Decimal = Decimal("0")
    # Why the regime (core.regime.RegimeDecision.reason); None for an invoice not made by the rules.
    regime_reason: Outcome | None = None

    @property
    def total_ex(self) -> Decimal:
        return sum((line.total_ex for line in self.lines), Decimal("0"))

    @property
    def total_vat(self) -> Decimal:
        return sum((line.vat_amount for line in self.lines), Decimal("0"))

    @property
    def total_inc(self) -> Decimal:
        return self.total_ex + self.total_vat
