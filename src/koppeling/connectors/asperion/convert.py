"""Core ``Invoice``s -> the daily aXML file (``batch_format``), with the flow's Asperion settings.

What each invoice becomes (docs/connectors/asperion.md has the sources):

- ``OrderNumber`` = our reference (the shop's order number, with the flow's prefix); the
  ``Description`` is the invoice's own (the flow's template, ``Bestelling ORD00033``) followed by
  ``factuur INV00037`` when the shop made an invoice — exactly the seed's "Betref" column [V].
- The shop's invoice number is taken from the zero-amount ``OTHER`` line a source puts on the order
  (``Webwinkelfactuur INV00037``: core's ``Order``/``Invoice`` have no field for it yet); that line
  itself is left out of the file, its number goes to ``ShopInvoiceNumber`` and the description.
- ``InvoiceStatus`` is always ``Concept`` [V seed]: Asperion numbers the invoices when the
  merchant makes them final.
- The debtor is matched on e-mail by the import [V seed], so an invoice without an e-mail
  address cannot go; company, VAT number, KvK number and phone are passed on.
- ``PaymentCode``: the invoice's payment method (the shop's key, e.g. ``ideal``) through
  ``AsperionSettings.payment_codes`` (``"*"`` = every other method).
- ``VatCategory`` (hoog / laag / nul, the import's three sales types [V]) per line from its rate
  through ``AsperionSettings.vat_categories``; a rate that is not mapped (an OSS sale at 19 %)
  stops the batch with a clear code — the import has no sales type for it [I].
- Amounts go as core made them (to the cent, ``TotalsMethod.AS_SENT``); free texts longer than
  the reading allows are cut, identifiers (e-mail, VAT number, order and invoice numbers) never.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from koppeling.connectors.errors import DataError
from koppeling.core.messages import gettext_noop, register
from koppeling.core.models import Invoice, InvoiceLine, LineKind

from .batch_format import (
    PAYMENT_CODES,
    SPEC,
    VAT_CATEGORIES,
    AxmlAddress,
    AxmlBatch,
    AxmlDebtor,
    AxmlLine,
    AxmlOrder,
    BatchFormatError,
    read_orders_xml,
    write_orders_xml,
)

__all__ = [
    "DEFAULT_PAYMENT_CODES",
    "AsperionCode",
    "AsperionSettings",
    "batch_file",
    "file_name",
    "rate_key",
    "shop_invoice_number",
    "to_axml_order",
]

SYSTEM = "Asperion"
#: the shop's payment-method keys (Lightspeed ``paymentId``, Mijnwebwinkel method names lower-cased)
#: -> the betaalwijze codes of our reading (``batch_format.PAYMENT_CODES`` [I])
DEFAULT_PAYMENT_CODES: dict[str, str] = {
    "ideal": "IDEAL",
    "paypal": "PAYPAL",
    "creditcard": "CREDITCARD",
    "mistercash": "BANCONTACT",
    "bancontact": "BANCONTACT",
    "banktransfer": "OVERBOEKING",
    "invoice": "OPFACTUUR",
    "afterpay": "AFTERPAY",
    "klarna": "KLARNA",
    "cash": "CONTANT",
    "cod": "REMBOURS",
    "*": "OVERIG",
}
#: the rates of a Dutch shop -> the import's VAT classes [V classes; I values]
DEFAULT_VAT_CATEGORIES: dict[str, str] = {"21": "hoog", "9": "laag", "0": "nul"}
#: the line a source puts on an order to carry the shop's invoice number (lightspeed.translate)
_SHOP_INVOICE = re.compile(r"Webwinkelfactuur (\S{1,30})")
_KINDS = {
    LineKind.PRODUCT: "product",
    LineKind.SHIPPING: "shipping",
    LineKind.PAYMENT_FEE: "payment",
    LineKind.DISCOUNT: "discount",
}
_ORDER_AT = re.compile(r"^orders\[(\d+)\]")


class AsperionCode(StrEnum):
    BATCH_INVALID = "asp_batch_invalid"
    VAT_RATE_UNMAPPED = "asp_vat_rate_unmapped"
    PAYMENT_UNMAPPED = "asp_payment_unmapped"
    CURRENCY = "asp_currency_not_euro"
    EMAIL_MISSING = "asp_email_missing"
    LICENCE_MALFORMED = "asp_licence_malformed"
    NO_DROP_ADDRESS = "asp_no_drop_address"
    DROP_NOT_FOUND = "asp_drop_not_found"
    FILE_REJECTED = "asp_file_rejected"
    FILE_TOO_LARGE = "asp_file_too_large"
    FILE_KEPT = "asp_file_kept"
    FILE_DIFFERS = "asp_file_differs"


_FIX_ORDER = gettext_noop(
    "Correct the order in the shop (or the flow's Asperion settings) and press Verwerk; the day's file "
    "waits for it."
)
register(
    {
        AsperionCode.BATCH_INVALID: (
            gettext_noop("Order %(reference)s cannot go into the Asperion file: %(field)s %(detail)s"),
            _FIX_ORDER,
        ),
        AsperionCode.VAT_RATE_UNMAPPED: (
            gettext_noop(
                "Order %(reference)s has a line at %(rate)s%% VAT, and the flow's Asperion settings map no "
                "VAT class (hoog, laag, nul) to that rate."
            ),
            gettext_noop(
                "Add the rate to the Asperion VAT settings of the flow, or book the order by hand: "
                "Asperion's order import knows only the sales types BTW hoog, laag and 0%."
            ),
        ),
        AsperionCode.PAYMENT_UNMAPPED: (
            gettext_noop(
                "Order %(reference)s was paid with %(method)s, which the flow's Asperion settings map to "
                "no payment code."
            ),
            gettext_noop('Map %(method)s (or "*" for every other method) to an Asperion payment code.'),
        ),
        AsperionCode.CURRENCY: (
            gettext_noop("Order %(reference)s is in %(currency)s; Asperion's order import takes euros only."),
            gettext_noop("Book this order by hand in Asperion."),
        ),
        AsperionCode.EMAIL_MISSING: (
            gettext_noop(
                "Order %(reference)s has no customer e-mail address; Asperion finds and creates the debtor "
                "by e-mail."
            ),
            gettext_noop("Add the customer's e-mail address to the order in the shop, then press Verwerk."),
        ),
        AsperionCode.LICENCE_MALFORMED: (
            gettext_noop("The Asperion licence code is not in a form Asperion uses (%(detail)s)."),
            gettext_noop(
                "Copy the licence code exactly as Asperion gave it into this connection. koppeling cannot "
                "check whether Asperion knows it: the first import shows that."
            ),
        ),
        AsperionCode.NO_DROP_ADDRESS: (
            gettext_noop("The Asperion connection has no address to deliver the daily file to."),
            gettext_noop("Set the connection's address to the file drop for Asperion's order import."),
        ),
        AsperionCode.DROP_NOT_FOUND: (
            gettext_noop("Asperion's file drop answered %(operation)s with 'not found': %(remote)s"),
            gettext_noop("Check the connection's address, then resume the link."),
        ),
        AsperionCode.FILE_REJECTED: (
            gettext_noop(
                "Asperion refused the daily file %(file)s at %(location)s (line %(line)s): %(remote)s"
            ),
            gettext_noop("This is a koppeling fault or a change of Asperion's import format; report it."),
        ),
        AsperionCode.FILE_TOO_LARGE: (
            gettext_noop("The daily file %(file)s (%(size)s bytes) is larger than Asperion accepts."),
            gettext_noop("Report this to koppeling: the day's orders must be split over several files."),
        ),
        AsperionCode.FILE_KEPT: (
            gettext_noop(
                "The daily file %(file)s was delivered before with other content; it was kept as it is."
            ),
            gettext_noop("Check the invoices of this day in Asperion after the import."),
        ),
        AsperionCode.FILE_DIFFERS: (
            gettext_noop("Asperion stored the daily file %(file)s with other content than koppeling sent."),
            gettext_noop("Check the invoices of this day in Asperion after the import; report this."),
        ),
    }
)


def rate_key(rate: Decimal | str | int) -> str:
    """A VAT rate as a settings key: ``21`` for 21, 21.0 and 21.00; ``5.5`` for 5.50."""
    value = Decimal(str(rate))
    return format(
        value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize(), "f"
    )


class AsperionSettings(BaseModel):
    """What a flow into Asperion chooses (seed 002, Fig. 3 and the import's "Instellingen")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the shop's payment method -> Asperion betaalwijze; "*" for every method not named
    payment_codes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PAYMENT_CODES))
    #: VAT rate in percent -> the import's VAT class ("hoog", "laag", "nul")
    vat_categories: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_VAT_CATEGORIES))

    @field_validator("payment_codes")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for method, code in value.items():
            wanted = str(code).strip().upper()
            if wanted not in PAYMENT_CODES:
                raise ValueError(f"{code!r} for {method!r} is not one of {', '.join(PAYMENT_CODES)}")
            out[str(method).strip().lower()] = wanted
        return out

    @field_validator("vat_categories")
    @classmethod
    def _categories(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for rate, category in value.items():
            try:
                key = rate_key(rate)
            except ArithmeticError:
                raise ValueError(f"{rate!r} is not a VAT rate in percent") from None
            if not Decimal(0) <= Decimal(key) < 100:
                raise ValueError(f"{rate!r} is not a VAT rate in percent")
            if category not in VAT_CATEGORIES:
                raise ValueError(f"{category!r} for {rate}% is not one of {', '.join(VAT_CATEGORIES)}")
            if (category == "nul") != (Decimal(key) == 0):
                raise ValueError(f"{rate}% cannot be class {category!r}: 'nul' is for 0% only")
            out[key] = category
        return out

    @model_validator(mode="after")
    def _zero_mapped(self) -> AsperionSettings:
        if "0" not in self.vat_categories:
            raise ValueError("vat_categories must map 0 (ICP and export sales are at 0%)")
        return self


def file_name(reference: str) -> str:
    """The daily file's name: the same for the same batch reference, different for different ones
    (the readable part is cut down to the drop's characters; the hash keeps it unique).

    >>> file_name("7/2026-12-01-1")
    'koppeling-7-2026-12-01-1-45da2686.xml'
    """
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", reference).strip("-.")[:70] or "batch"
    return f"koppeling-{readable}-{hashlib.sha256(reference.encode()).hexdigest()[:8]}.xml"


def _is_invoice_line(line: InvoiceLine) -> bool:
    return (
        line.kind == LineKind.OTHER
        and line.total_ex == 0
        and line.vat_amount == 0
        and _SHOP_INVOICE.fullmatch(line.description) is not None
    )


def shop_invoice_number(invoice: Invoice) -> str:
    """The shop's invoice number a source carried on the zero-amount line, or ""."""
    for line in invoice.lines:
        if _is_invoice_line(line):
            match = _SHOP_INVOICE.fullmatch(line.description)
            return match.group(1) if match else ""
    return ""


def _limit(section: str, attr: str) -> int:
    return next(f.max_length for f in SPEC[section] if f.attr == attr) or 255


def _cut(text: str, section: str, attr: str) -> str:
    return (text or "").strip()[: _limit(section, attr)]


def _fail(code: str, invoice: Invoice, **extra: Any) -> DataError:
    return DataError(code, {"system": SYSTEM, "reference": invoice.reference, **extra})


def _address(invoice: Invoice) -> AxmlAddress:
    """The invoice address; a street line ``Dorpsstraat 12 bis`` is split into street, number and
    addition (the reading has them apart [I]), anything else stays whole in the street."""
    party = invoice.customer
    line = " ".join(part for part in (party.street, party.street2) if part).strip()
    match = re.fullmatch(
        r"(?P<street>.*\D)\s+(?P<number>\d{1,6})\s*[-/]?\s*(?P<addition>[A-Za-z0-9]{0,10})", line
    )
    street, number, addition = (
        (match["street"], match["number"], match["addition"]) if match else (line, "", "")
    )
    return AxmlAddress(
        street=_cut(street, "Address", "street"),
        house_number=number,
        house_number_addition=addition,
        postal_code=party.postal_code.strip()[:12],
        city=_cut(party.city, "Address", "city"),
        country_code=party.country_code.strip().upper(),
    )


def _line(invoice: Invoice, line: InvoiceLine, settings: AsperionSettings) -> AxmlLine:
    category = settings.vat_categories.get(rate_key(line.vat_rate))
    if category is None:
        raise _fail(AsperionCode.VAT_RATE_UNMAPPED, invoice, rate=rate_key(line.vat_rate))
    return AxmlLine(
        description=_cut(line.description or line.kind.value, "Orderline", "description"),
        quantity=line.quantity,
        unit_price_excl=line.unit_price_ex,
        vat_rate=line.vat_rate,
        vat_category=category,
        amount_excl=line.total_ex,
        vat_amount=line.vat_amount,
        amount_incl=line.total_inc,
        kind=_KINDS.get(line.kind, "other"),
        article_code=_cut(line.sku, "Orderline", "article_code"),
    )


def to_axml_order(invoice: Invoice, settings: AsperionSettings) -> AxmlOrder:
    """One invoice as one order of the file; a ``DataError`` naming the invoice when it cannot be."""
    if invoice.currency.upper() != "EUR":
        raise _fail(AsperionCode.CURRENCY, invoice, currency=invoice.currency)
    customer = invoice.customer
    if "@" not in customer.email:
        raise _fail(AsperionCode.EMAIL_MISSING, invoice)
    method = invoice.payment_method.strip().lower()
    code = settings.payment_codes.get(method) or settings.payment_codes.get("*")
    if not code:
        raise _fail(AsperionCode.PAYMENT_UNMAPPED, invoice, method=invoice.payment_method or "?")
    number = shop_invoice_number(invoice)
    description = invoice.description.strip()
    if number and number not in description:
        description = f"{description} factuur {number}"
    lines = tuple(_line(invoice, line, settings) for line in invoice.lines if not _is_invoice_line(line))
    debtor = AxmlDebtor(
        email=customer.email.strip(),
        name=_cut(customer.name or customer.company or customer.email, "Debtor", "name"),
        invoice_address=_address(invoice),
        company_name=_cut(customer.company, "Debtor", "company_name"),
        vat_number=customer.vat_number.strip(),
        coc_number=customer.kvk.strip(),
        phone=_cut(customer.phone, "Debtor", "phone"),
    )
    return AxmlOrder(
        order_number=invoice.reference,
        order_date=invoice.issue_date,
        description=description,
        payment_code=code,
        debtor=debtor,
        lines=lines,
        total_excl=sum((line.amount_excl for line in lines), Decimal(0)),
        total_vat=sum((line.vat_amount for line in lines), Decimal(0)),
        total_incl=sum((line.amount_incl for line in lines), Decimal(0)),
        shop_invoice_number=number,
        invoice_status="Concept",
        currency="EUR",
    )


def batch_file(
    invoices: tuple[Invoice, ...], settings: AsperionSettings, *, licence_code: str, created_at: dt.datetime
) -> bytes:
    """The whole file, validated against the reading's XSD and read back as the import reads it.

    A fault is a ``DataError`` naming the order (``asp_batch_invalid`` with the field path) — raised
    before anything is delivered.
    """
    orders = tuple(to_axml_order(invoice, settings) for invoice in invoices)
    batch = AxmlBatch(licence_code=licence_code, created_at=created_at, orders=orders)
    try:
        data = write_orders_xml(batch)
        again = read_orders_xml(data)
    except BatchFormatError as exc:
        match = _ORDER_AT.match(exc.location)
        reference = invoices[int(match[1])].reference if match and int(match[1]) < len(invoices) else "?"
        raise DataError(
            AsperionCode.BATCH_INVALID,
            {
                "system": SYSTEM,
                "reference": reference,
                "field": exc.location or "file",
                "detail": exc.message,
            },
        ) from None
    if [(o.order_number, o.total_incl) for o in again.orders] != [
        (o.order_number, o.total_incl) for o in orders
    ]:
        raise DataError(
            AsperionCode.BATCH_INVALID,
            {"system": SYSTEM, "reference": "?", "field": "file", "detail": "does not read back as written"},
        )
    return data
