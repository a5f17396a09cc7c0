"""A ``StratoOrder`` (what the export says) as a core ``Order`` (what the invoicing rules take).

Nothing is decided here — no VAT, no rounding, no totals: the converter hands the ``Order`` to
``koppeling.core.invoicing.order_to_invoice`` like every other source does, so the Strato files
get exactly the rules (and the exactness) of the live links. Gross shops give prices incl. VAT,
net shops excl. VAT; a line's ``LineTotal`` is kept as the line's total (more precise than
quantity × a rounded unit price); a discount written as a positive amount is deducted (and
reported by the converter).
"""

from __future__ import annotations

from decimal import Decimal

from koppeling.core.models import LineKind, Order, OrderLine, Party
from koppeling.core.remembered import Remembered

from .orderfields import KIND_DISCOUNT, KIND_PAYMENT_FEE, KIND_PRODUCT, KIND_SHIPPING, A
from .orderrecords import StratoLine, StratoOrder

__all__ = ["KIND_OF", "delivery_of", "line_of", "order_of", "party_of"]

KIND_OF = {
    KIND_PRODUCT: LineKind.PRODUCT,
    KIND_SHIPPING: LineKind.SHIPPING,
    KIND_PAYMENT_FEE: LineKind.PAYMENT_FEE,
    KIND_DISCOUNT: LineKind.DISCOUNT,
}


#: where each billing value is in ``StratoOrder.billing`` (``orderfields.A``), looked up once
_STREET, _HOUSE, _FULL, _FIRST, _MIDDLE, _LAST = (
    A[name] for name in ("street", "house_number", "full_name", "first_name", "middle_name", "last_name")
)
_COMPANY, _EMAIL, _PHONE, _STREET2, _POSTAL, _CITY, _VAT = (
    A[name] for name in ("company", "email", "phone", "street2", "postal_code", "city", "vat_number")
)


def party_of(order: StratoOrder) -> Party:
    """The billing address as a party (house number joined to the street, names joined)."""
    billing = order.billing
    street = billing[_STREET]
    house = billing[_HOUSE]
    if house and house not in street:
        street = f"{street} {house}".strip()
    person = billing[_FULL]
    if not person:
        person = " ".join(filter(None, (billing[_FIRST], billing[_MIDDLE], billing[_LAST])))
    return Party(
        name=person,
        company=billing[_COMPANY],
        email=billing[_EMAIL],
        phone=billing[_PHONE],
        street=street,
        street2=billing[_STREET2],
        postal_code=billing[_POSTAL],
        city=billing[_CITY],
        country_code=order.country,
        vat_number=billing[_VAT],
        customer_id=order.customer_number,
    )


def delivery_of(country: str) -> Party | None:
    """The delivery party (only its country is known to the rules); one shared record per country."""
    if not country:
        return None
    party = _DELIVERY.get(country)
    if party is None:
        party = _DELIVERY.keep(country, Party(country_code=country))
    return party


_DELIVERY: Remembered[str, Party] = Remembered(1000)


#: distinct lines remembered (bounded memory; a shop's lines repeat: same products, same prices)
LINE_CACHE_SIZE = 2048


def line_of(line: StratoLine, gross: bool) -> OrderLine:
    """One line; a positive discount is made negative (the converter reports it).

    Equal lines give the same ``OrderLine`` (remembered per exact value: ``core.records.ExactRecord``),
    so the core's per-line steps find it in their caches too.
    """
    key = (line.exact_key(), gross)
    return _LINES.get(key) or _LINES.keep(key, _line_of(line, gross))


#: core lines by the Strato line's exact key (``core.records.ExactRecord``) and the tax model
_LINES: Remembered[tuple, OrderLine] = Remembered(LINE_CACHE_SIZE)


def _line_of(line: StratoLine, gross: bool) -> OrderLine:
    total = line.total
    unit = line.unit_price
    if line.kind is KIND_DISCOUNT:
        total = -abs(total) if total is not None else None
        unit = -abs(unit) if unit is not None else None
    if gross:
        return OrderLine(
            KIND_OF[line.kind],
            line.description,
            line.quantity,
            unit_price_inc=unit,
            vat_rate=line.rate,
            total_inc=total,
            vat_amount=line.tax_amount,
            sku=line.sku,
        )
    return OrderLine(
        KIND_OF[line.kind],
        line.description,
        line.quantity,
        unit_price_ex=unit,
        vat_rate=line.rate,
        total_ex=total,
        vat_amount=line.tax_amount,
        sku=line.sku,
    )


def order_of(order: StratoOrder, *, shop: str = "") -> Order:
    """The core order of a Strato order (delivery country: the shipping address's, else billing)."""
    gross = order.gross
    return Order(
        source_id=order.number,
        number=order.number,
        date=order.date,
        customer=party_of(order),
        lines=tuple([line_of(line, gross) for line in order.lines]),
        total_inc=order.grand_total,
        status=order.status,
        payment_method=order.payment_method,
        paid=order.paid,
        currency=order.currency,
        total_vat=order.total_tax,
        delivery=delivery_of(order.delivery_country),
        shop=shop,
    )


def positive_discounts(order: StratoOrder) -> list[int]:
    """Positions of discount lines the export wrote as a positive amount (they are deducted)."""
    return [
        i
        for i, line in enumerate(order.lines)
        if line.kind is KIND_DISCOUNT
        and ((line.total or Decimal(0)) > 0 or (line.total is None and (line.unit_price or 0) > 0))
    ]
