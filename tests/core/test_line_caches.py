"""The per-line steps remember their answers per value; a remembered line keeps its own digits.

``Decimal("2") == Decimal("2.0")`` and both hash alike, so a cache keyed on values alone would hand
the second order the first order's quantity text (and ``-0.00`` for ``0.00``). These tests fail if
a cache key loses the digits (``koppeling.core.money.digits``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from koppeling.core.fitting import fit_lines
from koppeling.core.invoicing import InvoiceSettings, order_to_invoice
from koppeling.core.models import InvoiceLine, LineKind, Order, OrderLine, Party
from koppeling.core.money import digits
from koppeling.core.totals import TotalsMethod

SETTINGS = InvoiceSettings(totals_method=TotalsMethod.PER_LINE_FROM_EX)


def _order(quantity: str, rate: str, price: str = "34.50", total: str = "69.00") -> Order:
    line = OrderLine(
        LineKind.PRODUCT, "Theepot", Decimal(quantity), unit_price_inc=Decimal(price), vat_rate=Decimal(rate)
    )
    return Order("1", "1001", dt.date(2026, 1, 5), Party(name="An"), (line,), Decimal(total), paid=True)


def test_digits_tell_equal_decimals_apart() -> None:
    assert Decimal("2") == Decimal("2.0") and hash(Decimal("2")) == hash(Decimal("2.0"))
    assert digits(Decimal("2")) != digits(Decimal("2.0"))
    assert digits(Decimal("0.00")) != digits(Decimal("-0.00"))
    assert digits(None) is None


def test_an_invoice_line_keeps_the_quantity_and_rate_digits_it_was_given() -> None:
    first = order_to_invoice(_order("2", "21"), SETTINGS)
    second = order_to_invoice(_order("2.0", "21.00"), SETTINGS)
    assert (str(first.lines[0].quantity), str(first.lines[0].vat_rate)) == ("2", "21")
    assert (str(second.lines[0].quantity), str(second.lines[0].vat_rate)) == ("2.0", "21.00")
    # the amounts are the same: only the digits passed through differ
    assert [line.total_inc for line in first.lines] == [line.total_inc for line in second.lines]


def test_equal_lines_give_the_same_invoice_line_object() -> None:
    """Why the caches pay: a repeated line is rounded and fitted once, not once per order."""
    first = order_to_invoice(_order("3", "9", "7.95", "23.85"), SETTINGS)
    second = order_to_invoice(_order("3", "9", "7.95", "23.85"), SETTINGS)
    assert first.lines[0] is second.lines[0]


def test_fitting_keeps_each_lines_own_digits() -> None:
    line = InvoiceLine(
        LineKind.PRODUCT,
        "Theepot",
        Decimal("2"),
        Decimal("28.51"),
        Decimal("21"),
        Decimal("57.02"),
        Decimal("11.98"),
    )
    other = replace(line, quantity=Decimal("2.00"), vat_rate=Decimal("21.0"))
    fitted, _ = fit_lines([line], TotalsMethod.PER_LINE_FROM_EX, Decimal("69.00"))
    refitted, _ = fit_lines([other], TotalsMethod.PER_LINE_FROM_EX, Decimal("69.00"))
    assert (str(fitted[0].quantity), str(fitted[0].vat_rate)) == ("2", "21")
    assert (str(refitted[0].quantity), str(refitted[0].vat_rate)) == ("2.00", "21.0")


def test_a_zero_line_keeps_the_sign_of_its_zero() -> None:
    line = InvoiceLine(
        LineKind.PRODUCT, "Gratis", Decimal(1), Decimal("0.00"), Decimal(21), Decimal("0.00"), Decimal("0.00")
    )
    negative = replace(line, total_ex=Decimal("-0.00"), vat_amount=Decimal("-0.00"))
    plain, _ = fit_lines([line], TotalsMethod.PER_LINE_FROM_EX, Decimal("0.00"))
    signed, _ = fit_lines([negative], TotalsMethod.PER_LINE_FROM_EX, Decimal("0.00"))
    assert str(plain[0].total_ex) == "0.00"
    assert str(signed[0].total_ex) == "-0.00"


def test_a_zero_unit_price_keeps_its_sign() -> None:
    """The line total is the same, so only the unit price's own digits tell the lines apart."""

    def order(price: str) -> Order:
        line = OrderLine(
            LineKind.PRODUCT,
            "Proef",
            Decimal(0),
            unit_price_ex=Decimal(price),
            vat_rate=Decimal(21),
            total_ex=Decimal("0.00"),
        )
        return Order("1", "1001", dt.date(2026, 1, 5), Party(name="An"), (line,), Decimal("0.00"), paid=True)

    assert str(order_to_invoice(order("0.00")).lines[0].unit_price_ex) == "0.00"
    assert str(order_to_invoice(order("-0.00")).lines[0].unit_price_ex) == "-0.00"


def test_the_exact_key_tells_apart_lines_that_compare_equal() -> None:
    line = OrderLine(LineKind.PRODUCT, "Theepot", Decimal("2"), unit_price_inc=Decimal("34.50"))
    other = replace(line, quantity=Decimal("2.0"))
    assert line == other and hash(line) == hash(other)
    assert line.exact_key() != other.exact_key()
    assert line.exact_key() == replace(line).exact_key()
    assert line.exact_key() is line.exact_key()  # worked out once per record
    assert (
        replace(line, unit_price_inc=Decimal("-0.00")).exact_key()
        != replace(line, unit_price_inc=Decimal("0.00")).exact_key()
    )
