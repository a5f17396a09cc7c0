"""A seeded generator of realistic random orders for the cent-exactness property tests.

Mixed rates (21 / 9 / 0), fractional and large quantities, shops that price incl. VAT (gross) or
excl. VAT (net), discounts and shipping / payment fees without a rate of their own (gross shops),
OSS consumers in other member states. Totals are what such a shop charges: the sum of its line
amounts incl. VAT, each rounded to cents.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from koppeling.core.models import LineKind, Order, OrderLine, Party

CENT = Decimal("0.01")
RATES = (Decimal(21), Decimal(9), Decimal(0))
QUANTITIES = (
    Decimal(1),
    Decimal(1),
    Decimal(2),
    Decimal(3),
    Decimal(7),
    Decimal(12),
    Decimal("0.5"),
    Decimal("1.25"),
)
COUNTRIES = ("NL", "NL", "NL", "BE", "DE", "FR")


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def random_order(rng: random.Random, number: int) -> Order:
    gross = rng.random() < 0.7
    lines: list[OrderLine] = []
    total = Decimal(0)
    for _ in range(rng.randint(1, 5)):
        rate = rng.choice(RATES)
        qty = rng.choice(QUANTITIES)
        unit = _cents(rng, 1, 50_000)
        if gross:
            lines.append(OrderLine(LineKind.PRODUCT, "P", qty, unit_price_inc=unit, vat_rate=rate))
            total += _round(qty * unit)
        else:
            lines.append(OrderLine(LineKind.PRODUCT, "P", qty, unit_price_ex=unit, vat_rate=rate))
            total += _round(qty * unit * (100 + rate) / 100)
    for kind, chance in ((LineKind.SHIPPING, 0.6), (LineKind.PAYMENT_FEE, 0.2), (LineKind.DISCOUNT, 0.3)):
        if rng.random() >= chance:
            continue
        amount = _cents(rng, 1, 2_000) * (-1 if kind is LineKind.DISCOUNT else 1)
        if gross:
            lines.append(OrderLine(kind, kind.value, unit_price_inc=amount))  # no rate: follows the goods
            total += amount
        else:
            rate = Decimal(21)
            lines.append(OrderLine(kind, kind.value, unit_price_ex=amount, vat_rate=rate))
            total += _round(amount * (100 + rate) / 100)
    customer = Party(name="Klant", country_code=rng.choice(COUNTRIES))
    day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
    return Order(str(number), str(number), day, customer, tuple(lines), total, paid=True)


def random_orders(count: int, seed: int = 20260101) -> Iterator[Order]:
    rng = random.Random(seed)
    for number in range(count):
        yield random_order(rng, number)
