"""eAccounting records ⇄ core objects: sales orders and customers in, articles out.

The choices that matter (sources and status in ``docs/connectors/eaccounting.md``):

- An order's rows carry no VAT rate: it is the rate of the row's article coding
  (``VatRatePercent``, a fraction such as 0.21 [I]); core's regime rules then decide what the
  customer's country and VAT number make of it. Row prices exclude VAT unless the connection
  says ``prices_include_vat`` [I: the simulator's company books excl. VAT]; a row's
  ``DiscountPercentage`` is a fraction 0–1 [V spec 2025 ``maximum: 1``].
- The order total is ``Amount + VatAmount + RoundingsAmount`` (``Amount`` excl. VAT [I]).
- An order has no e-mail address and no payment field: both come from its customer (the e-mail,
  and the customer's terms of payment — e.g. "Betaald via webwinkel" — as ``payment_terms`` and,
  because an invoice carries only that one today, as ``payment_method`` too).
- Rows whose article number the connection lists in ``shipping_articles`` are shipping lines;
  their description is the order's delivery method when it has one (so the target's shipping
  method mapping can key on it).
- The fingerprint covers what a booking contains, never ``Status``, ``ModifiedUtc`` or the
  delivered quantities: a status change is not an edit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from koppeling.connectors.errors import DataError
from koppeling.core.models import LineKind, Order, OrderLine, Party
from koppeling.core.money import AmountError, quantize, to_decimal
from koppeling.core.products import Product
from koppeling.mapping import MappingSpec, apply

from .api import SYSTEM, EAccountingCode

__all__ = [
    "ORDER_STATUSES",
    "PAID_TERMS_TYPES",
    "article_changes",
    "article_fields",
    "customer_fingerprint",
    "order_fingerprint",
    "parse_utc",
    "translate_customer",
    "translate_order",
]

#: OrderApi ``Status`` [V spec]
ORDER_STATUSES: dict[str, str] = {"1": "Draft", "2": "Ongoing", "3": "Shipped", "4": "Invoiced"}
#: ``TermsOfPaymentTypeId`` values meaning the customer paid at the order [I]: 2 Cash, 3 CardPayment,
#: 4 DigitalWallet, 5 PaymentServiceProvider (0 Normal and 1 CurrentMonth are invoiced on account)
PAID_TERMS_TYPES = frozenset({2, 3, 4, 5})

_ORDER_KEYS = (
    "Number",
    "OrderDate",
    "CurrencyCode",
    "CustomerId",
    "EuThirdParty",
    "Amount",
    "VatAmount",
    "RoundingsAmount",
    "YourReference",
    "OurReference",
    "InvoiceAddress1",
    "InvoiceAddress2",
    "InvoicePostalCode",
    "InvoiceCity",
    "InvoiceCountryCode",
    "DeliveryCustomerName",
    "DeliveryAddress1",
    "DeliveryAddress2",
    "DeliveryPostalCode",
    "DeliveryCity",
    "DeliveryCountryCode",
    "DeliveryMethodName",
    "DeliveryMethodCode",
    "ReverseChargeOnConstructionServices",
)
_ROW_KEYS = ("LineNumber", "ArticleId", "IsTextRow", "Text", "UnitPrice", "DiscountPercentage", "Quantity")
_CUSTOMER_KEYS = (
    "CustomerNumber",
    "Name",
    "IsPrivatePerson",
    "EmailAddress",
    "ContactPersonName",
    "ContactPersonEmail",
    "Telephone",
    "MobilePhone",
    "InvoiceAddress1",
    "InvoiceAddress2",
    "InvoicePostalCode",
    "InvoiceCity",
    "InvoiceCountryCode",
    "VatNumber",
    "IsActive",
)
#: core product field -> ArticleApi property (``description_short``, ``image_url`` and
#: ``attributes`` have none: the API takes no image and no free attributes [V by absence])
ARTICLE_FIELDS: dict[str, str] = {
    "name": "Name",
    "description_long": "Note",
    "price_ex": "NetPrice",
    "price_inc": "GrossPrice",
    "vat_rate": "CodingId",
    "unit": "UnitId",
    "active": "IsActive",
    "ean": "Barcodes",
}
_NAME_MAX = 50
_NOTE_MAX = 4000
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def _hash(subset: Any) -> str:
    text = json.dumps(subset, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def order_fingerprint(record: Any) -> str:
    """sha256 over the booking-relevant content of an order (stable across status changes)."""
    if not isinstance(record, dict):
        return _hash(record)
    rows = record.get("Rows") if isinstance(record.get("Rows"), list) else []
    subset = {key: record.get(key) for key in _ORDER_KEYS}
    subset["Rows"] = [{k: r.get(k) for k in _ROW_KEYS} if isinstance(r, dict) else r for r in rows]
    return _hash(subset)


def customer_fingerprint(record: Any, mapping_version: int = 0) -> str:
    """sha256 over what a debtor in the target gets (not ``ChangedUtc`` or invoice dates); a saved
    mapping's version is part of it, so a changed mapping writes every customer again."""
    if not isinstance(record, dict):
        return _hash(record)
    subset = {key: record.get(key) for key in _CUSTOMER_KEYS}
    return _hash({**subset, "mapping_version": mapping_version} if mapping_version else subset)


def parse_utc(value: Any) -> dt.datetime | None:
    """``2026-01-01T10:00:00Z`` (or with an offset or fraction) as an aware UTC datetime."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def record_error(what: str, number: Any, path: str, detail: str) -> DataError:
    """A located problem of one eAccounting record (order or customer)."""
    return DataError(
        EAccountingCode.RECORD_INVALID,
        {"system": SYSTEM, "what": what, "number": str(number or "?"), "path": path, "detail": detail},
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _amount(value: Any, what: str, number: Any, path: str) -> Decimal:
    try:
        return to_decimal(value, field=path)
    except AmountError:
        raise record_error(what, number, path, f"{value!r:.40} is not a number") from None


def translate_customer(record: Any, path: str = "customer", mapping: MappingSpec | None = None) -> Party:
    """A CustomerApi record -> ``Party`` through the flow's ``mapping`` (default: a company with its
    contact person, or a private person; see ``mapping.customer_mapping``)."""
    from .mapping import customer_mapping, customer_schema

    if not isinstance(record, dict):
        raise record_error("Customer", "?", path, "not an object")
    number = record.get("CustomerNumber")
    if not _text(record.get("Name")):
        raise record_error("Customer", number, f"{path}.Name", "missing")
    mapped = _through(mapping or customer_mapping(), record, customer_schema(), "Customer", number)

    def text(name: str) -> str:
        value = mapped.get(name)
        return "" if value is None else str(value)

    return Party(
        name=text("name"),
        company=text("company"),
        email=text("email"),
        phone=text("phone"),
        street=text("street"),
        street2=text("street2"),
        postal_code=text("postal_code"),
        city=text("city"),
        country_code=text("country_code").upper() or "NL",
        vat_number=text("vat_number"),
        customer_id=text("customer_id"),
    )


def _through(
    spec: MappingSpec, record: Mapping[str, Any], schema: Any, what: str, number: Any
) -> dict[str, Any]:
    """``record`` mapped by ``spec``; the first value that cannot be mapped is a located DataError."""
    mapped, problems = apply(spec, record, schema)
    if problems:
        first = problems[0]
        raise DataError(first.code, {**first.params, "system": SYSTEM, "what": what, "number": str(number)})
    return mapped


def _mapped_order(
    record: Mapping[str, Any], customer: Mapping[str, Any], number: Any, mapping: MappingSpec | None
) -> dict[str, Any]:
    """The order and its customer through the flow's mapping (default: ``mapping.order_mapping``)."""
    from .mapping import order_mapping, order_schema

    return _through(
        mapping or order_mapping(), {**record, "customer": customer}, order_schema(), "Order", number
    )


def _order_party(mapped: Mapping[str, Any]) -> tuple[Party, Party | None]:
    """The invoiced customer at the mapped billing address, and the delivery address if it differs."""

    def text(name: str) -> str:
        value = mapped.get(name)
        return "" if value is None else str(value).strip()

    def street(side: str) -> str:
        return " ".join(p for p in (text(f"{side}.street"), text(f"{side}.number")) if p)

    invoice = Party(
        name=text("customer.name"),
        company=text("customer.company"),
        email=text("customer.email"),
        phone=text("customer.phone"),
        street=street("billing"),
        street2=text("billing.street2"),
        postal_code=text("billing.postal_code"),
        city=text("billing.city"),
        country_code=text("billing.country").upper() or "NL",
        vat_number=text("customer.vat_number"),
        customer_id=text("customer.customer_id"),
    )
    if not street("shipping"):
        return invoice, None
    delivery = Party(
        name=text("shipping.name") or invoice.display_name,
        email=invoice.email,
        street=street("shipping"),
        street2=text("shipping.street2"),
        postal_code=text("shipping.postal_code"),
        city=text("shipping.city"),
        country_code=text("shipping.country").upper() or invoice.country_code,
    )
    same = (delivery.street, delivery.postal_code, delivery.city) == (
        invoice.street,
        invoice.postal_code,
        invoice.city,
    )
    return invoice, None if same else delivery


def vat_percent(coding: Mapping[str, Any] | None) -> Decimal | None:
    """A coding's VAT rate as a percentage: ``VatRatePercent`` 0.21 -> 21 (a value > 1 is taken as
    a percentage already, in case the API answers 21 [I])."""
    if not coding or coding.get("VatRatePercent") is None:
        return None
    try:
        rate = to_decimal(coding["VatRatePercent"], field="VatRatePercent")
    except AmountError:
        return None
    return (rate * _HUNDRED if rate <= 1 else rate).normalize()


def _rows(
    record: Mapping[str, Any],
    number: Any,
    path: str,
    article: Callable[[str], Mapping[str, Any] | None],
    rate_of: Callable[[Mapping[str, Any]], Decimal | None],
    options: Mapping[str, Any],
    mapped: list[Any],
) -> list[OrderLine]:
    """The rows as order lines: what the mapping made of row ``i`` is ``mapped[i]``; the article
    (its VAT rate, its name and number where the row lacks them) and the discount are the API's."""
    rows = record.get("Rows")
    if not isinstance(rows, list):
        raise record_error("Order", number, f"{path}.Rows", "not a list")
    shipping = {str(n).upper() for n in options.get("shipping_articles", ())}
    inc = bool(options.get("prices_include_vat", False))
    method = _text(record.get("DeliveryMethodName"))
    lines: list[OrderLine] = []
    for i, row in enumerate(rows):
        where = f"{path}.Rows[{i}]"
        if not isinstance(row, dict):
            raise record_error("Order", number, where, "not an object")
        if row.get("IsTextRow"):
            continue
        values = mapped[i] if i < len(mapped) and isinstance(mapped[i], dict) else {}
        quantity = _amount(
            values["quantity"] if values.get("quantity") is not None else 1,
            "Order",
            number,
            f"{where}.Quantity",
        )
        if quantity == 0:
            continue  # an empty row (e.g. only delivered quantities left): nothing to book
        found = article(_text(row.get("ArticleId"))) if row.get("ArticleId") else None
        if found is None:
            raise record_error("Order", number, f"{where}.ArticleId", "no such article in eAccounting")
        price = _amount(
            values["price"] if values.get("price") is not None else 0, "Order", number, f"{where}.UnitPrice"
        )
        discount = _amount(row.get("DiscountPercentage") or 0, "Order", number, f"{where}.DiscountPercentage")
        unit = price * (1 - discount)
        sku = _text(values.get("sku")) or _text(found.get("Number"))
        kind = LineKind.SHIPPING if sku.upper() in shipping else LineKind.PRODUCT
        text = _text(values.get("description")) or _text(found.get("Name")) or sku
        lines.append(
            OrderLine(
                kind=kind,
                description=(method or text) if kind is LineKind.SHIPPING else text,
                quantity=quantity,
                unit_price_ex=None if inc else unit,
                unit_price_inc=unit if inc else None,
                vat_rate=rate_of(found),
                sku=sku if kind is LineKind.PRODUCT else "",
            )
        )
    return lines


def translate_order(
    record: Any,
    *,
    customer: Mapping[str, Any],
    article: Callable[[str], Mapping[str, Any] | None],
    rate_of: Callable[[Mapping[str, Any]], Decimal | None],
    options: Mapping[str, Any] | None = None,
    path: str = "order",
    mapping: MappingSpec | None = None,
) -> Order:
    """One OrderApi record -> ``Order`` through the flow's ``mapping`` (customer, addresses, row
    numbers, quantities and prices, currency); raises a located ``DataError``."""
    options = options or {}
    if not isinstance(record, dict):
        raise record_error("Order", "?", path, "not an object")
    number = record.get("Number")
    if number in (None, ""):
        raise record_error("Order", "?", f"{path}.Number", "missing")
    try:
        day = dt.date.fromisoformat(_text(record.get("OrderDate"))[:10])
    except ValueError:
        raise record_error("Order", number, f"{path}.OrderDate", "not a date") from None
    if not isinstance(customer, dict):
        raise record_error("Customer", "?", f"{path}.customer", "not an object")
    if not _text(customer.get("Name")):
        raise record_error("Customer", customer.get("CustomerNumber"), f"{path}.customer.Name", "missing")
    mapped = _mapped_order(record, customer, number, mapping)
    party, delivery = _order_party(mapped)
    lines = _rows(record, number, path, article, rate_of, options, list(mapped.get("lines") or []))
    if not lines:
        raise record_error("Order", number, f"{path}.Rows", "no rows with an amount")
    net = _amount(record.get("Amount") or 0, "Order", number, f"{path}.Amount")
    vat = _amount(record.get("VatAmount") or 0, "Order", number, f"{path}.VatAmount")
    rounding = _amount(record.get("RoundingsAmount") or 0, "Order", number, f"{path}.RoundingsAmount")
    terms = customer.get("TermsOfPayment") if isinstance(customer.get("TermsOfPayment"), dict) else {}
    status = _text(record.get("Status"))
    reverse = bool(record.get("ReverseChargeOnConstructionServices"))
    return Order(
        source_id=_text(record.get("Id")) or _text(number),
        number=_text(number),
        date=day,
        customer=party,
        lines=tuple(lines),
        total_inc=net + vat + rounding,
        status=status,
        status_label=ORDER_STATUSES.get(status, ""),
        payment_method=_text(terms.get("Name")),
        payment_terms=_text(terms.get("Name")),
        paid=terms.get("TermsOfPaymentTypeId") in PAID_TERMS_TYPES,
        currency=_text(mapped.get("currency")).upper() or "EUR",
        total_vat=vat,
        delivery=delivery,
        shop=str(options.get("shop", "")),
        status_changed_at=parse_utc(record.get("ModifiedUtc")),
        vat_hint="reverse_charged_vat" if reverse else "",
    )


# --------------------------------------------------------------------------------------------
# Articles out
# --------------------------------------------------------------------------------------------


def _cut(value: str, length: int, field: str, warnings: list[tuple[str, int]]) -> str:
    if len(value) > length:
        warnings.append((field, length))
        return value[:length]
    return value


def _price(value: Decimal | None) -> Decimal | None:
    """Prices take 2 decimals [V spec]; rounded half-up once here."""
    return None if value is None else quantize(value, 2)


def article_fields(
    product: Product, fields: Iterable[str], *, coding_id: str | None, unit_id: str | None
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """The ArticleApi properties for ``fields`` of ``product`` and what had to be shortened.

    A price given only excl. (or only incl.) VAT sends that one and clears the other, so
    eAccounting computes it from the coding's rate instead of keeping a stale one.
    """
    wanted = set(fields)
    values: dict[str, Any] = {}
    warnings: list[tuple[str, int]] = []
    if "name" in wanted and product.name:
        values["Name"] = _cut(product.name, _NAME_MAX, "Name", warnings)
    if "description_long" in wanted:
        values["Note"] = _cut(product.description_long, _NOTE_MAX, "Note", warnings) or None
    prices = {"price_ex": "NetPrice", "price_inc": "GrossPrice"}
    given = {
        name: getattr(product, name)
        for name in prices
        if name in wanted and getattr(product, name) is not None
    }
    if given:
        for name, api in prices.items():
            values[api] = _price(given.get(name))
    if "vat_rate" in wanted and coding_id:
        values["CodingId"] = coding_id
    if "unit" in wanted and unit_id:
        values["UnitId"] = unit_id
    if "active" in wanted:
        values["IsActive"] = bool(product.active)
    if "ean" in wanted:
        values["Barcodes"] = [{"Barcode": product.ean, "BarcodeType": 0}] if product.ean else []
    return values, warnings


def article_changes(existing: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of ``values`` that differ from the stored article (empty: nothing to write)."""
    changed: dict[str, Any] = {}
    for key, value in values.items():
        current = existing.get(key)
        if key in ("NetPrice", "GrossPrice") and value is None:
            continue  # cleared only alongside a new price of the other kind (see ``article_fields``)
        if key == "Barcodes":
            now = [str(b.get("Barcode")) for b in current or [] if isinstance(b, dict)]
            if now != [b["Barcode"] for b in value]:
                changed[key] = value
        elif isinstance(value, Decimal) and current is not None:
            try:
                if to_decimal(current) != value:
                    changed[key] = value
            except AmountError:
                changed[key] = value
        elif current != value and not (key == "Note" and not current and not value):
            changed[key] = value
    if "NetPrice" in changed and "GrossPrice" in values and values["GrossPrice"] is None:
        changed["GrossPrice"] = None
    if "GrossPrice" in changed and "NetPrice" in values and values["NetPrice"] is None:
        changed["NetPrice"] = None
    return changed
