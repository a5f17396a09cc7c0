"""Domain records shared by every connector: parties, orders, invoices.

Connectors translate their system's records into these and back; the engine and the rules in
``koppeling.core.invoicing`` only ever see these. All amounts are ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from koppeling.core.facts import ExchangeRate, VatNumberCheck
from koppeling.core.messages import Outcome
from koppeling.core.money import round_cents
from koppeling.core.records import ExactRecord, record
from koppeling.core.totals import TotalsMethod


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
    EXPORT = "export"  # outside the EU, 0% (also services outside the scope of EU VAT)
    MARGIN = "margin"  # margin scheme (second-hand goods, art, antiques): VAT on the margin only


class LineNature(StrEnum):
    """What a line supplies, for the place of supply (shipping and fees follow the goods).

    ``service``: the general rule (Art. 44/45 VAT Directive: a business customer's country, a
    consumer's seller's country); ``event``: admission to an event or a workshop held at a place
    (Art. 53/54: where it takes place); ``electronic``: telecom, broadcasting, electronically
    supplied services (Art. 58: the consumer's country).
    """

    GOODS = "goods"
    SERVICE = "service"
    EVENT = "event"
    ELECTRONIC = "electronic"


class DocumentType(StrEnum):
    """EN 16931 invoice type code (UNTDID 1001): a commercial invoice or a credit note."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class PaymentStatus(StrEnum):
    DUE = "due"
    PAID = "paid"


@record
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
    kvk: str = ""  # chamber-of-commerce (KvK) or other legal registration number (EN 16931 BT-30/47)
    region: str = ""  # country subdivision (EN 16931 BT-39/54)

    @property
    def is_business(self) -> bool:
        return bool(self.company.strip())

    @property
    def display_name(self) -> str:
        return self.company or self.name or self.email


@record
@dataclass(frozen=True, slots=True)
class OrderLine(ExactRecord):
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
    #: the line's totals as the shop states them (more precise than quantity × a rounded unit price)
    total_ex: Decimal | None = None
    total_inc: Decimal | None = None
    #: goods (default), service, event or electronic: decides the place of supply (LineNature)
    nature: str = ""
    #: sold under the margin scheme (second-hand goods, art, antiques); cost_price is the purchase price
    margin: bool = False
    cost_price: Decimal | None = None
    unit_code: str = ""  # UN/ECE Recommendation 20 unit code (EN 16931 BT-130), e.g. "C62", "KGM"


@record
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
    #: when the goods were delivered or the service done, if not the order date (decides the rates)
    supply_date: dt.date | None = None
    payment_terms: str = ""  # as the shop states them (EN 16931 BT-20)

    @property
    def country_code(self) -> str:
        return (self.delivery or self.customer).country_code or self.customer.country_code


@record
@dataclass(frozen=True, slots=True)
class InvoiceLine(ExactRecord):
    """A line ready for a target: rate settled, amounts rounded once to cents."""

    kind: LineKind
    description: str
    quantity: Decimal
    unit_price_ex: Decimal  # up to 4 decimals, as accounting packages accept
    vat_rate: Decimal  # percent; 0 for ICP / export
    total_ex: Decimal  # cents
    vat_amount: Decimal  # cents
    sku: str = ""
    vat_rate_source: str = "exact"  # exact | completed | regime | allocated | correction
    #: EN 16931 VAT category code (UNTDID 5305): S standard/reduced, Z zero, E exempt, AE reverse
    #: charge, K intra-community supply, G export, O outside the scope of VAT
    vat_category: str = "S"
    exemption_reason: str = ""  # text and VATEX code for E/AE/K/G/O lines (EN 16931 BT-120/121)
    exemption_code: str = ""
    unit_code: str = "C62"  # UN/ECE Rec. 20 ("C62" = one, a piece)
    nature: str = "goods"
    cost_price: Decimal | None = None  # margin scheme: purchase price of the line (incl. VAT)

    @property
    def total_inc(self) -> Decimal:
        return self.total_ex + self.vat_amount


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """One row of the VAT breakdown (EN 16931 BG-23): per category and rate, VAT from the summed net."""

    category: str
    rate: Decimal
    taxable: Decimal
    vat: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""


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
    document_type: DocumentType = DocumentType.INVOICE
    credits: str = ""  # a credit note: the number of the invoice it credits (EN 16931 BT-25)
    credited_date: dt.date | None = None  # … and that invoice's date (BT-26)
    supply_date: dt.date | None = None  # the date whose VAT rates were applied (BT-72)
    delivery_country: str = ""  # where the goods went (BT-80)
    seller: Party | None = None  # the shop's own party: VAT number, KvK, address (BG-4)
    payment_terms: str = ""  # BT-20
    due_date: dt.date | None = None  # BT-9
    payment_means: str = ""  # UNTDID 4461 code (BT-81), e.g. "58" SEPA credit transfer, "48" card
    #: the rate that converted the order's currency to euros (stated on the invoice), or that states
    #: the VAT of an invoice booked in a foreign currency in euros; None for euro orders
    exchange_rate: ExchangeRate | None = None
    source_currency: str = ""  # the order's currency when it was converted
    #: the target computation the lines were made exact for (None: not fitted to a target)
    totals_method: TotalsMethod | None = None
    vat_number_check: VatNumberCheck | None = None  # the VIES proof of an intra-community supply

    @property
    def total_ex(self) -> Decimal:
        return sum((line.total_ex for line in self.lines), Decimal("0"))

    @property
    def total_vat(self) -> Decimal:
        return sum((line.vat_amount for line in self.lines), Decimal("0"))

    @property
    def total_inc(self) -> Decimal:
        return self.total_ex + self.total_vat

    def vat_breakdown(self) -> list[VatBreakdown]:
        """The VAT breakdown per category and rate (EN 16931 BR-CO-17): taxable = Σ line net amounts,
        VAT = round(taxable × rate) once. Margin lines report their own VAT (it is on the margin)."""
        groups: dict[tuple[str, Decimal], list[InvoiceLine]] = {}
        for line in self.lines:
            groups.setdefault((line.vat_category, line.vat_rate), []).append(line)
        rows: list[VatBreakdown] = []
        for (category, rate), lines in sorted(groups.items(), key=lambda item: (-item[0][1], item[0][0])):
            taxable = sum((line.total_ex for line in lines), Decimal("0"))
            if any(line.cost_price is not None for line in lines):
                tax = sum((line.vat_amount for line in lines), Decimal("0"))
            else:
                tax = round_cents(taxable * rate / 100)
            first = lines[0]
            rows.append(
                VatBreakdown(category, rate, taxable, tax, first.exemption_reason, first.exemption_code)
            )
        return rows
