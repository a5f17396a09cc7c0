"""Mijnwebwinkel (MyOnlineStore) order JSON -> core ``Order``.

Facts and their sources are in ``docs/connectors/mijnwebwinkel.md``; the choices that matter:

- An orderline's ``price`` is the price of the WHOLE line (all ``quantity`` units), not of one
  unit: in the spec's example order "Article B" has quantity 2, its article unit price is
  7.396694 - 3.305785 = 4.090909 ex VAT, and the line's ``price.amount`` is 8.181818 = 2 x that;
  the line ``amount_including_tax`` values add up to ``price.total`` (47.45). So unit prices are
  ``price.amount / quantity`` (kept unrounded; core rounds once).
- ``price`` is one TaxPrice or a LIST of TaxPrice (a line split over VAT rates, e.g. payment
  costs or discounts spread over 9 % and 21 %): one ``OrderLine`` per part.
- Amounts arrive as strings ("47.450000") or JSON numbers (the spec's example); both go through
  ``core.money.to_decimal``, never float arithmetic.
- Line types: ``article``/``custom`` -> PRODUCT (schema), ``payment`` -> PAYMENT_FEE (spec
  example), ``shipping`` -> SHIPPING and ``discount`` -> DISCOUNT (inferred: not in the spec),
  anything else -> OTHER, kept so the lines still add up to the total.
- ``paid``: ``payment_status`` in {captured, authorized}; when ``payment_status`` is absent (older
  orders), the deprecated ``payment.status.id == 1`` ("Successful").

Every problem raises ``DataError`` whose message names the field path, e.g.
``orders[3].orderlines[1].price.amount: 'abc' is not a number``; the error also carries
``field``, ``value`` and ``order_number`` attributes for the dashboard.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from koppeling.connectors.errors import ConnectorCode, DataError
from koppeling.core.models import LineKind, Order, OrderLine, Party
from koppeling.core.money import AmountError, to_decimal

__all__ = [
    "FINGERPRINT_KEYS",
    "LINE_KINDS",
    "PAID_PAYMENT_STATUSES",
    "SHOP_TIMEZONE",
    "changed_at",
    "fingerprint",
    "record_error",
    "translate_order",
]

SHOP_TIMEZONE = ZoneInfo("Europe/Amsterdam")  # inferred: the API gives local times without zone

LINE_KINDS: dict[str, LineKind] = {
    "article": LineKind.PRODUCT,
    "custom": LineKind.PRODUCT,
    "payment": LineKind.PAYMENT_FEE,
    "shipping": LineKind.SHIPPING,
    "discount": LineKind.DISCOUNT,
    "giftcard": LineKind.GIFT_CARD,
    "gift_card": LineKind.GIFT_CARD,
}

_DEFAULT_DESCRIPTION = {
    LineKind.PRODUCT: "Artikel",
    LineKind.PAYMENT_FEE: "Betaalkosten",
    LineKind.SHIPPING: "Verzendkosten",
    LineKind.DISCOUNT: "Korting",
    LineKind.GIFT_CARD: "Cadeaubon",
    LineKind.OTHER: "Overig",
}

#: ``payment_status`` values that count as paid (``authorized``: amount reserved, e.g. Klarna).
PAID_PAYMENT_STATUSES = frozenset({"captured", "authorized"})

#: The keys of an order that are part of the booking. NOT included, on purpose: ``status``,
#: ``status_changed_*``, ``archived``, ``finished``, ``comments``, ``payment_status`` and
#: ``payment.status`` — a status or payment change is not an edit of what was booked.
FINGERPRINT_KEYS = (
    "number",
    "date",
    "currency",
    "business_model",
    "tax_region",
    "tax_strategy",
    "credited_order_number",
    "discountcode",
    "debtor",
    "price",
    "orderlines",
)

_COUNTRY_NAMES = {
    "nederland": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgie": "BE",
    "belgië": "BE",
    "belgium": "BE",
    "belgique": "BE",
    "duitsland": "DE",
    "deutschland": "DE",
    "germany": "DE",
    "frankrijk": "FR",
    "france": "FR",
    "luxemburg": "LU",
    "luxembourg": "LU",
}

_ZERO = Decimal(0)
_C = ConnectorCode


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
    err = DataError(
        code,
        {"system": "Mijnwebwinkel", "path": path, "value": shown, "number": _text(number) or "?", **params},
    )
    err.field = path  # type: ignore[attr-defined]
    err.value = value  # type: ignore[attr-defined]
    err.order_number = "" if number is None else str(number)  # type: ignore[attr-defined]
    return err


def fingerprint(record: Any) -> str:
    """sha256 over the booking-relevant content; stable across status changes."""
    if isinstance(record, dict):
        subset: Any = {key: record.get(key) for key in FINGERPRINT_KEYS}
        payment = record.get("payment")
        if isinstance(payment, dict):
            subset["payment_method"] = payment.get("method_name")
    else:
        subset = record
    text = json.dumps(subset, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def changed_at(record: Mapping[str, Any], tz: dt.tzinfo | None = SHOP_TIMEZONE) -> dt.datetime | None:
    """``status_changed_date`` + ``status_changed_time`` as an aware datetime (shop time zone)."""
    day = record.get("status_changed_date")
    if not day:
        return None
    try:
        moment = dt.datetime.fromisoformat(f"{day} {record.get('status_changed_time') or '00:00:00'}")
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=tz) if tz is not None and moment.tzinfo is None else moment


class _Reader:
    """Field access with located errors for one order record."""

    __slots__ = ("number", "path")

    def __init__(self, path: str, number: Any) -> None:
        self.path = path
        self.number = number

    def fail(self, where: str, code: str, value: Any = None, **params: Any) -> DataError:
        return record_error(f"{self.path}.{where}", code, value, number=self.number, **params)

    def amount(self, mapping: Mapping[str, Any], key: str, where: str) -> Decimal:
        value = mapping.get(key)
        if value is None or value == "":
            raise self.fail(f"{where}.{key}", _C.FIELD_MISSING)
        try:
            return to_decimal(value, field=key)
        except AmountError:
            raise self.fail(f"{where}.{key}", _C.FIELD_NOT_A_NUMBER, value) from None

    def optional_amount(self, mapping: Mapping[str, Any], key: str, where: str) -> Decimal | None:
        if mapping.get(key) in (None, ""):
            return None
        return self.amount(mapping, key, where)

    def mapping(self, parent: Mapping[str, Any], key: str, where: str, *, required: bool) -> Mapping:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(where, _C.FIELD_MISSING)
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, _C.FIELD_WRONG_TYPE, value, expected="an object")
        return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _country(address: Mapping[str, Any]) -> str:
    code = _text(address.get("country_code")).upper()
    if code:
        return code
    return _COUNTRY_NAMES.get(_text(address.get("country")).lower(), "")


def _party(address: Mapping[str, Any], *, email: str, customer_id: str, fallback_country: str) -> Party:
    street = " ".join(part for part in (_text(address.get("street")), _text(address.get("number"))) if part)
    vat = _text(address.get("taxnumber")).replace(" ", "").replace(".", "").upper()
    return Party(
        name=_text(address.get("name")),
        company=_text(address.get("company")),
        email=email,
        phone=_text(address.get("phone")),
        street=street,
        postal_code=_text(address.get("zipcode")).upper(),
        city=_text(address.get("city")),
        country_code=_country(address) or fallback_country,
        vat_number=vat,
        customer_id=customer_id,
    )


def _lines(r: _Reader, raw_lines: Any) -> list[OrderLine]:
    if not isinstance(raw_lines, list):
        raise r.fail("orderlines", _C.FIELD_WRONG_TYPE, raw_lines, expected="a list of orderlines")
    lines: list[OrderLine] = []
    for i, raw in enumerate(raw_lines):
        where = f"orderlines[{i}]"
        if not isinstance(raw, dict):
            raise r.fail(where, _C.FIELD_WRONG_TYPE, raw, expected="an object")
        kind = LINE_KINDS.get(_text(raw.get("type")).lower(), LineKind.OTHER)
        quantity_raw = raw.get("quantity", 1)
        try:
            quantity = to_decimal(quantity_raw, field="quantity")
        except AmountError:
            raise r.fail(f"{where}.quantity", _C.FIELD_NOT_A_NUMBER, quantity_raw) from None
        if quantity == 0:
            raise r.fail(f"{where}.quantity", _C.QUANTITY_ZERO, quantity_raw)
        articles = raw.get("articles")
        first_article = articles[0] if isinstance(articles, list) and articles else {}
        if not isinstance(first_article, dict):
            first_article = {}
        description = (
            _text(raw.get("description"))
            or _text(first_article.get("description"))
            or _DEFAULT_DESCRIPTION[kind]
        )
        sku = _text(first_article.get("sku"))
        price = raw.get("price")
        if price is None:
            raise r.fail(f"{where}.price", _C.FIELD_MISSING)
        if isinstance(price, dict):
            parts: list[tuple[str, Mapping[str, Any]]] = [(f"{where}.price", price)]
        elif isinstance(price, list) and price:
            parts = []
            for j, part in enumerate(price):
                if not isinstance(part, dict):
                    raise r.fail(
                        f"{where}.price[{j}]", _C.FIELD_WRONG_TYPE, part, expected="a TaxPrice object"
                    )
                parts.append((f"{where}.price[{j}]", part))
        else:
            raise r.fail(
                f"{where}.price", _C.FIELD_WRONG_TYPE, price, expected="a TaxPrice or a list of them"
            )
        split = len(parts) > 1
        for part_where, part in parts:
            rate = r.amount(part, "rate", part_where)
            amount_ex = r.optional_amount(part, "amount", part_where)
            amount_inc = r.optional_amount(part, "amount_including_tax", part_where)
            if amount_ex is None and amount_inc is None:
                raise r.fail(f"{part_where}.amount", _C.FIELD_MISSING)
            lines.append(
                OrderLine(
                    kind=kind,
                    description=f"{description} ({rate.normalize():f}% btw)" if split else description,
                    quantity=quantity,
                    unit_price_ex=None if amount_ex is None else amount_ex / quantity,
                    unit_price_inc=None if amount_inc is None else amount_inc / quantity,
                    vat_rate=rate,
                    vat_amount=None if amount_ex is None or amount_inc is None else amount_inc - amount_ex,
                    sku=sku,
                )
            )
    return lines


def _is_paid(record: Mapping[str, Any]) -> bool:
    status = record.get("payment_status")
    if status:
        return str(status).lower() in PAID_PAYMENT_STATUSES
    payment = record.get("payment")
    if isinstance(payment, dict):
        pstatus = payment.get("status")
        if isinstance(pstatus, dict):
            return str(pstatus.get("id")) == "1"
    return False


def translate_order(
    record: Any,
    *,
    path: str = "order",
    shop: str = "",
    tz: dt.tzinfo | None = SHOP_TIMEZONE,
    status_labels: Mapping[str, str] | None = None,
) -> Order:
    """One order record (decoded JSON) -> ``Order``; raises a located ``DataError``."""
    if not isinstance(record, dict):
        raise record_error(path, _C.FIELD_WRONG_TYPE, record, expected="an order object")
    number = record.get("number")
    r = _Reader(path, number)
    if number is None or _text(number) == "":
        raise r.fail("number", _C.FIELD_MISSING)
    number_text = _text(number)

    raw_date = record.get("date")
    try:
        order_date = dt.date.fromisoformat(str(raw_date))
    except (TypeError, ValueError):
        raise r.fail("date", _C.FIELD_NOT_A_DATE, raw_date) from None

    debtor = r.mapping(record, "debtor", "debtor", required=True)
    address = r.mapping(debtor, "address", "debtor.address", required=True)
    invoice = r.mapping(address, "invoice", "debtor.address.invoice", required=True)
    delivery_raw = r.mapping(address, "delivery", "debtor.address.delivery", required=False)
    shipping = record.get("shipping")
    ship_country = ""
    if isinstance(shipping, list) and shipping and isinstance(shipping[0], dict):
        country = shipping[0].get("country")
        if isinstance(country, dict):
            ship_country = _text(country.get("isocode")).upper()
    fallback_country = _country(delivery_raw) or ship_country or _text(record.get("tax_region")).upper()
    email = _text(debtor.get("email"))
    customer_id = _text(debtor.get("id"))
    customer = _party(invoice, email=email, customer_id=customer_id, fallback_country=fallback_country)
    if not customer.country_code:
        raise r.fail("debtor.address.invoice.country_code", _C.COUNTRY_MISSING)
    if not customer.phone and debtor.get("phone"):  # deprecated OrderDebtor.phone
        customer = replace(customer, phone=_text(debtor.get("phone")))
    delivery = None
    if delivery_raw and (delivery_raw.get("name") or delivery_raw.get("street")):
        delivery = _party(delivery_raw, email=email, customer_id=customer_id, fallback_country=ship_country)

    price = r.mapping(record, "price", "price", required=True)
    total_inc = r.amount(price, "total", "price")
    tax = price.get("tax")
    total_vat: Decimal | None = None
    if isinstance(tax, dict):
        total_vat = r.amount(tax, "amount", "price.tax")
    elif isinstance(tax, list):
        total_vat = _ZERO
        for j, part in enumerate(tax):
            if not isinstance(part, dict):
                raise r.fail(f"price.tax[{j}]", _C.FIELD_WRONG_TYPE, part, expected="a TaxPrice object")
            total_vat += r.amount(part, "amount", f"price.tax[{j}]")
    elif tax not in (None, ""):
        raise r.fail("price.tax", _C.FIELD_WRONG_TYPE, tax, expected="a TaxPrice or a list of them")

    lines = _lines(r, record.get("orderlines"))

    status = _text(record.get("status"))
    payment = record.get("payment") if isinstance(record.get("payment"), dict) else {}
    credited = record.get("credited_order_number")
    return Order(
        source_id=number_text,
        number=number_text,
        date=order_date,
        customer=customer,
        lines=tuple(lines),
        total_inc=total_inc,
        status=status,
        status_label=(status_labels or {}).get(status, ""),
        payment_method=_text(payment.get("method_name")),
        paid=_is_paid(record),
        currency=_text(record.get("currency")).upper() or "EUR",
        total_vat=total_vat,
        delivery=delivery,
        shop=shop,
        status_changed_at=changed_at(record, tz),
        vat_hint=_text(record.get("tax_strategy")),
        is_credit=credited not in (None, "", 0, "0"),
        credited_number="" if credited in (None, "", 0, "0") else _text(credited),
    )
