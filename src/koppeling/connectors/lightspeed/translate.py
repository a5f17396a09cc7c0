"""Lightspeed eCom order JSON (``GET /orders/{id}.json``, products and invoices embedded) -> core ``Order``.

Facts and their sources are in ``docs/connectors/lightspeed.md``; the choices that matter here:

- **Status.** ``Order.status`` is ``"<paymentStatus>/<status>"`` (e.g. ``paid/processing_awaiting_shipment``),
  so the seed's "betaald en wachten op verzenden" is ONE selectable status of the flow, and an order
  paid later changes its status (and its ``updatedAt``) and is selected by the next fetch. The
  ``shipmentStatus`` is only in ``status_label``: ``status`` already says whether the order awaits
  shipment, and a third part would make 144 statuses to choose from instead of 36.
- **Amounts** are the API's JSON numbers, read with ``core.money.to_decimal`` (never float
  arithmetic). Product lines use ``priceExcl``/``priceIncl`` (the line total, already net of its
  discount [V sample: basePriceExcl 40, discountExcl 21, priceExcl 19]), divided by the quantity
  unrounded; core rounds once. VAT rates are fractions (``0.21``) and become percent (``21``).
- **Discounts** are already in the lines, so no discount line is added for them (it would count
  them twice); the line text names the coupon. Only an order total that the lines, shipping and
  payment fee miss while the order says ``isDiscounted`` becomes one DISCOUNT line (rate left to core).
- **Shipping and payment costs** are one line each when not zero (``shipment*``/``payment*`` fields).
- **The shop's invoice number** (``INV00033``, from the embedded ``invoices``) has no field in
  ``Order``: until core has one, it travels as a zero-amount ``OTHER`` line described
  ``"Webwinkelfactuur INV00033"`` (``SHOP_INVOICE_LINE``). A target that knows the convention
  (Asperion) takes the number from it and drops the line; any other target shows it as a 0.00 line.
- **Customer**: the order's own customer fields (billing address, ``companyName``,
  ``companyVatNumber``); the shipping address becomes ``Order.delivery``.

Every problem raises a located ``DataError`` (``order.products[1].priceIncl: '12,50 EUR' is not a
number``), so one bad order never hides the others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from koppeling.connectors.errors import ConnectorCode, DataError
from koppeling.core.models import LineKind, Order, OrderLine, Party
from koppeling.core.money import AmountError, to_decimal

__all__ = [
    "ORDER_STATUSES",
    "PAYMENT_STATUSES",
    "SEED_STATUS",
    "SHIPMENT_STATUSES",
    "SHOP_INVOICE_LINE",
    "SHOP_TIMEZONE",
    "encode_status",
    "fingerprint",
    "parse_moment",
    "record_error",
    "shop_invoice_numbers",
    "status_label",
    "translate_order",
]

SYSTEM = "Lightspeed"
#: The order statuses and their Dutch labels [V enums: NickTacke/lightspeed-client, jessegall SDK;
#: the labels are ours, after the shop's Dutch admin I].
ORDER_STATUSES: dict[str, str] = {
    "on_hold": "In de wacht",
    "processing_awaiting_payment": "Wacht op betaling",
    "processing_awaiting_shipment": "Wacht op verzending",
    "processing_awaiting_pickup": "Wacht op afhalen",
    "processing_ready_for_pickup": "Klaar om af te halen",
    "completed": "Voltooid",
    "completed_shipped": "Voltooid, verzonden",
    "completed_picked_up": "Voltooid, afgehaald",
    "cancelled": "Geannuleerd",
}
PAYMENT_STATUSES: dict[str, str] = {
    "not_paid": "Niet betaald",
    "partially_paid": "Deels betaald",
    "paid": "Betaald",
    "cancelled": "Betaling geannuleerd",
}
SHIPMENT_STATUSES: dict[str, str] = {
    "not_shipped": "niet verzonden",
    "partially_shipped": "deels verzonden",
    "shipped": "verzonden",
    "cancelled": "verzending geannuleerd",
}
#: seed 002: "betaald" and "wachten op verzenden" [I: mapping of the Dutch labels]
SEED_STATUS = "paid/processing_awaiting_shipment"
#: the zero-amount line that carries the shop's invoice number (see the module docstring)
SHOP_INVOICE_LINE = "Webwinkelfactuur {number}"
#: the shop's time zone for order dates when the connection names none [I: a Dutch shop]
SHOP_TIMEZONE = ZoneInfo("Europe/Amsterdam")

_DEFAULT_VARIANTS = frozenset({"", "standaard", "default", "standard"})
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
_C = ConnectorCode

#: What an order's booking depends on; NOT its statuses, ``updatedAt``, events, memo or comment:
#: a payment or shipment is not an edit of what was booked.
_ORDER_KEYS = ("number", "createdAt", "priceExcl", "priceIncl", "taxRates", "email", "firstname")
_ORDER_KEYS += ("middlename", "lastname", "phone", "mobile", "isCompany", "companyName")
_ORDER_KEYS += ("companyCoCNumber", "companyVatNumber", "addressShippingCompany", "paymentId")
_ORDER_KEYS += ("paymentTitle", "paymentTaxRate", "paymentPriceExcl", "paymentPriceIncl", "shipmentTitle")
_ORDER_KEYS += ("shipmentTaxRate", "shipmentPriceExcl", "shipmentPriceIncl", "isDiscounted")
_ORDER_KEYS += ("discountType", "discountAmount", "discountPercentage", "discountCouponCode")
_ADDRESS_KEYS = ("Name", "Street", "Street2", "Number", "Extension", "Zipcode", "City", "Country")
_PRODUCT_KEYS = ("id", "productTitle", "variantTitle", "articleCode", "sku", "ean", "quantityOrdered")
_PRODUCT_KEYS += ("taxRate", "basePriceExcl", "basePriceIncl", "priceExcl", "priceIncl")
_PRODUCT_KEYS += ("discountExcl", "discountIncl")


def encode_status(payment_status: Any, status: Any) -> str:
    """``Order.status`` of a Lightspeed order: ``"<paymentStatus>/<status>"``.

    >>> encode_status("paid", "processing_awaiting_shipment") == SEED_STATUS
    True
    """
    return f"{_text(payment_status)}/{_text(status)}"


def status_label(payment_status: str, status: str, shipment_status: str = "") -> str:
    """A person's reading of a status (and, when given, the shipment), in Dutch.

    >>> status_label("paid", "processing_awaiting_shipment", "not_shipped")
    'Betaald — Wacht op verzending (niet verzonden)'
    """
    label = f"{PAYMENT_STATUSES.get(payment_status, payment_status)} — {ORDER_STATUSES.get(status, status)}"
    if shipment_status:
        label += f" ({SHIPMENT_STATUSES.get(shipment_status, shipment_status)})"
    return label


def record_error(
    path: str,
    code: str = ConnectorCode.INVALID_FIELD,
    value: Any = None,
    *,
    number: Any = None,
    **params: Any,
) -> DataError:
    """A located ``DataError``: the field path, the value (shortened) and the order number."""
    shown = "" if value is None else f"{value!r:.80}"
    return DataError(
        code, {"system": SYSTEM, "path": path, "value": shown, "number": _text(number) or "?", **params}
    )


def fingerprint(record: Any) -> str:
    """sha256 over what the booking depends on (``_ORDER_KEYS``, addresses, lines, shop invoices)."""
    if not isinstance(record, dict):
        subset: Any = record
    else:
        subset = {key: record.get(key) for key in _ORDER_KEYS}
        for prefix in ("addressBilling", "addressShipping"):
            subset.update({prefix + key: record.get(prefix + key) for key in _ADDRESS_KEYS})
        subset["products"] = [
            {key: line.get(key) for key in _PRODUCT_KEYS} if isinstance(line, dict) else line
            for line in _embedded(record, "products")
        ]
        subset["invoices"] = [
            {key: inv.get(key) for key in ("number", "isVatShifted", "isCreditNote")}
            if isinstance(inv, dict)
            else inv
            for inv in _embedded(record, "invoices")
        ]
    text = json.dumps(subset, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_moment(value: Any) -> dt.datetime | None:
    """An API timestamp (``2019-08-21T17:15:00+00:00``) as an aware datetime; naive ones are UTC [I]."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _text(value: Any) -> str:
    return "" if value is None or value is False else str(value).strip()


def _embedded(record: Mapping[str, Any], name: str) -> list[Any]:
    """``record[name].resource.embedded`` (a list) or ``[]`` when the answer carries none."""
    link = record.get(name)
    resource = link.get("resource") if isinstance(link, dict) else None
    embedded = resource.get("embedded") if isinstance(resource, dict) else None
    return embedded if isinstance(embedded, list) else []


class _Reader:
    """Field access with located errors for one order record."""

    __slots__ = ("number", "path")

    def __init__(self, path: str, number: Any) -> None:
        self.path = path
        self.number = number

    def fail(self, where: str, code: str, value: Any = None, **params: Any) -> DataError:
        return record_error(f"{self.path}.{where}", code, value, number=self.number, **params)

    def amount(
        self, mapping: Mapping[str, Any], key: str, where: str = "", *, default: Any = None
    ) -> Decimal:
        value = mapping.get(key, default)
        at = f"{where}.{key}" if where else key
        if value is None or value == "":
            raise self.fail(at, _C.FIELD_MISSING)
        try:
            return to_decimal(value, field=key)
        except AmountError:
            raise self.fail(at, _C.FIELD_NOT_A_NUMBER, value) from None

    def rate(self, mapping: Mapping[str, Any], key: str, where: str = "") -> Decimal:
        """A VAT rate given as a fraction (0.21) as percent (21; 5.5 for 0.055)."""
        percent = self.amount(mapping, key, where) * _HUNDRED
        return percent.quantize(Decimal(1)) if percent == percent.to_integral_value() else percent.normalize()


def _party(record: Mapping[str, Any], prefix: str, *, company: str, customer_id: str) -> Party:
    street = " ".join(
        part
        for part in (_text(record.get(f"{prefix}{k}")) for k in ("Street", "Number", "Extension"))
        if part
    )
    country = record.get(f"{prefix}Country")
    code = _text(country.get("code")).upper() if isinstance(country, dict) else ""
    name = " ".join(
        part for part in (_text(record.get(k)) for k in ("firstname", "middlename", "lastname")) if part
    )
    vat = re.sub(r"[\s.\-]", "", _text(record.get("companyVatNumber"))).upper()
    return Party(
        name=_text(record.get(f"{prefix}Name")) or name,
        company=company,
        email=_text(record.get("email")),
        phone=_text(record.get("phone")) or _text(record.get("mobile")),
        street=street,
        street2=_text(record.get(f"{prefix}Street2")),
        postal_code=_text(record.get(f"{prefix}Zipcode")).upper(),
        city=_text(record.get(f"{prefix}City")),
        country_code=code,
        vat_number=vat,
        customer_id=customer_id,
        kvk=_text(record.get("companyCoCNumber")) if company else "",
        region=_text(record.get(f"{prefix}Region")),
    )


def _customer(r: _Reader, record: Mapping[str, Any]) -> tuple[Party, Party | None]:
    link = record.get("customer")
    resource = link.get("resource") if isinstance(link, dict) else None
    customer_id = _text(resource.get("id")) if isinstance(resource, dict) else ""
    company = _text(record.get("companyName")) if record.get("isCompany") or record.get("companyName") else ""
    customer = _party(record, "addressBilling", company=company, customer_id=customer_id)
    delivery = None
    if _text(record.get("addressShippingStreet")) or _text(record.get("addressShippingName")):
        shipping_company = _text(record.get("addressShippingCompany")) or company
        delivery = _party(record, "addressShipping", company=shipping_company, customer_id=customer_id)
    if not customer.country_code:
        if delivery is None or not delivery.country_code:
            raise r.fail("addressBillingCountry.code", _C.COUNTRY_MISSING)
        customer = Party(**{**_fields(customer), "country_code": delivery.country_code})
    return customer, delivery


def _fields(party: Party) -> dict[str, Any]:
    return {name: getattr(party, name) for name in Party.__dataclass_fields__}


def _product_lines(r: _Reader, products: Iterable[Any], coupon: str) -> list[OrderLine]:
    lines = []
    for i, raw in enumerate(products):
        where = f"products[{i}]"
        if not isinstance(raw, dict):
            raise r.fail(where, _C.FIELD_WRONG_TYPE, raw, expected="an order product")
        quantity = r.amount(raw, "quantityOrdered", where)
        if quantity == 0:
            raise r.fail(f"{where}.quantityOrdered", _C.QUANTITY_ZERO, raw.get("quantityOrdered"))
        title = _text(raw.get("productTitle")) or "Artikel"
        variant = _text(raw.get("variantTitle"))
        if variant.lower() not in _DEFAULT_VARIANTS and variant != title:
            title = f"{title} ({variant})"
        if r.amount(raw, "discountIncl", where, default=0) != 0:
            title += f" (korting {coupon})" if coupon else " (korting)"
        excl, incl = r.amount(raw, "priceExcl", where), r.amount(raw, "priceIncl", where)
        lines.append(
            OrderLine(
                kind=LineKind.PRODUCT,
                description=title,
                quantity=quantity,
                unit_price_ex=excl / quantity,
                unit_price_inc=incl / quantity,
                vat_rate=r.rate(raw, "taxRate", where),
                vat_amount=incl - excl,
                sku=_text(raw.get("sku")) or _text(raw.get("articleCode")),
                total_ex=excl,
                total_inc=incl,
            )
        )
    return lines


def _cost_line(r: _Reader, record: Mapping[str, Any], prefix: str) -> OrderLine | None:
    """The shipping (``shipment*``) or payment-fee (``payment*``) line; None when it costs nothing."""
    incl = r.amount(record, f"{prefix}PriceIncl", default=0)
    excl = r.amount(record, f"{prefix}PriceExcl", default=0)
    if incl == 0 and excl == 0:
        return None
    kind = LineKind.SHIPPING if prefix == "shipment" else LineKind.PAYMENT_FEE
    fallback = "Verzendkosten" if prefix == "shipment" else "Betaalkosten"
    return OrderLine(
        kind=kind,
        description=_text(record.get(f"{prefix}Title")) or fallback,
        unit_price_ex=excl,
        unit_price_inc=incl,
        vat_rate=r.rate(record, f"{prefix}TaxRate"),
        vat_amount=incl - excl,
        total_ex=excl,
        total_inc=incl,
    )


def shop_invoice_numbers(record: Mapping[str, Any]) -> list[str]:
    """The numbers of the shop's own (non-credit) invoices of this order, oldest first."""
    numbers = []
    for invoice in _embedded(record, "invoices"):
        if isinstance(invoice, dict) and not invoice.get("isCreditNote") and _text(invoice.get("number")):
            numbers.append(_text(invoice.get("number")))
    return numbers


def _invoice_line(number: str) -> OrderLine:
    """The zero-amount line that carries the shop's invoice number (rate: core's zero-line rule)."""
    return OrderLine(
        kind=LineKind.OTHER,
        description=SHOP_INVOICE_LINE.format(number=number),
        unit_price_ex=_ZERO,
        unit_price_inc=_ZERO,
        vat_amount=_ZERO,
    )


def _discount_line(r: _Reader, record: Mapping[str, Any], total: Decimal) -> OrderLine | None:
    """An order discount the lines do not already hold (never seen in a sample [I]): the part of
    ``priceIncl`` that the products, shipping and payment fee (``priceIncl`` each) exceed."""
    if not record.get("isDiscounted"):
        return None
    held = sum(
        (r.amount(p, "priceIncl", f"products[{i}]") for i, p in enumerate(_embedded(record, "products"))),
        _ZERO,
    )
    held += r.amount(record, "shipmentPriceIncl", default=0) + r.amount(record, "paymentPriceIncl", default=0)
    missing = total - held
    if missing >= 0:
        return None
    code = _text(record.get("discountCouponCode"))
    return OrderLine(
        kind=LineKind.DISCOUNT, description=f"Korting {code}".strip(), unit_price_inc=missing, vat_rate=None
    )


def translate_order(
    record: Any,
    *,
    path: str = "order",
    tz: dt.tzinfo = SHOP_TIMEZONE,
    shop: str = "",
    currency: str = "EUR",
    invoice_line: bool = True,
) -> Order:
    """One order (the ``order`` object of ``GET /orders/{id}.json``) -> ``Order``; a located
    ``DataError`` when it cannot be one."""
    if not isinstance(record, dict):
        raise record_error(path, _C.FIELD_WRONG_TYPE, record, expected="an order object")
    number = _text(record.get("number"))
    r = _Reader(path, number or record.get("id"))
    if record.get("id") in (None, "", False):
        raise r.fail("id", _C.FIELD_MISSING)
    if not number:
        raise r.fail("number", _C.FIELD_MISSING)
    created = parse_moment(record.get("createdAt"))
    if created is None:
        raise r.fail("createdAt", _C.FIELD_NOT_A_DATE, record.get("createdAt"))
    customer, delivery = _customer(r, record)
    total_inc = r.amount(record, "priceIncl")
    total_ex = r.amount(record, "priceExcl")
    lines = _product_lines(r, _embedded(record, "products"), _text(record.get("discountCouponCode")))
    if not lines:
        raise r.fail("products", _C.FIELD_MISSING)
    for prefix in ("shipment", "payment"):
        cost = _cost_line(r, record, prefix)
        if cost is not None:
            lines.append(cost)
    discount = _discount_line(r, record, total_inc)
    if discount is not None:
        lines.append(discount)
    invoices = shop_invoice_numbers(record)
    if invoice_line and invoices:
        lines.append(_invoice_line(invoices[-1]))
    payment, status = _text(record.get("paymentStatus")), _text(record.get("status"))
    shifted = any(isinstance(i, dict) and i.get("isVatShifted") for i in _embedded(record, "invoices"))
    payment_data = record.get("paymentData")
    method = _text(record.get("paymentId")) or (
        _text(payment_data.get("method")) if isinstance(payment_data, dict) else ""
    )
    return Order(
        source_id=_text(record.get("id")),
        number=number,
        date=created.astimezone(tz).date(),
        customer=customer,
        lines=tuple(lines),
        total_inc=total_inc,
        status=encode_status(payment, status),
        status_label=status_label(payment, status, _text(record.get("shipmentStatus"))),
        payment_method=method,
        paid=payment == "paid",
        currency=currency,
        total_vat=total_inc - total_ex,
        delivery=delivery,
        shop=shop,
        status_changed_at=parse_moment(record.get("updatedAt")),
        vat_hint="reverse_charged_vat" if shifted else "",
    )
