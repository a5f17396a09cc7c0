"""Property tests: for every internally consistent order, the invoice adds up to the cent."""

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koppeling.core.invoicing import check_invoice, order_to_invoice
from koppeling.core.models import LineKind, Order, OrderLine, Party
from koppeling.core.money import round_cents

NL_RATES = [Decimal(21), Decimal(9), Decimal(0)]
CUSTOMERS = [
    Party(name="Jan", country_code="NL"),
    Party(name="Marie", country_code="BE"),
    Party(name="Hans", country_code="DE"),
    Party(name="Bob", country_code="US"),
]
cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
dates = st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def product_lines(draw):
    rate = draw(st.sampled_from(NL_RATES))
    price_inc = draw(cents)
    quantity = Decimal(draw(st.integers(min_value=1, max_value=12)))
    return OrderLine(LineKind.PRODUCT, "p", quantity=quantity, unit_price_inc=price_inc, vat_rate=rate)


@st.composite
def consistent_orders(draw):
    lines = draw(st.lists(product_lines(), min_size=1, max_size=8))
    if draw(st.booleans()):  # shipping without a rate: completed from the products
        lines.append(OrderLine(LineKind.SHIPPING, "s", unit_price_inc=draw(cents)))
    if draw(st.booleans()):  # a discount at one of the rates, never more than the goods
        rate = draw(st.sampled_from(NL_RATES))
        goods = sum(ln.quantity * ln.unit_price_inc for ln in lines if ln.vat_rate == rate)
        if goods > 0:
            amount = draw(st.integers(min_value=1, max_value=int(goods * 100))) / Decimal(100)
            lines.append(OrderLine(LineKind.DISCOUNT, "d", unit_price_inc=-amount, vat_rate=rate))
    total = sum(ln.quantity * ln.unit_price_inc for ln in lines)
    # the customer stays in NL (domestic) or, on a NL seller, gets OSS/export; prices incl. VAT kept
    customer = draw(st.sampled_from(CUSTOMERS))
    return Order("s1", "1", draw(dates), customer, tuple(lines), total)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_orders())
def test_order_to_invoice_total_equals_order_total(order):
    # given a consistent order priced incl. VAT / when converted
    invoice = order_to_invoice(order)
    # then the invoice total incl. VAT equals the order's exactly, the parts add up, and every line's
    # VAT is within a cent of total_ex x rate
    assert invoice.total_inc == order.total_inc
    assert invoice.total_ex + invoice.total_vat == invoice.total_inc
    for line in invoice.lines:
        assert abs(line.vat_amount - round_cents(line.total_ex * line.vat_rate / 100)) <= Decimal("0.01")
    assert check_invoice(invoice) == []


@st.composite
def orders_without_rates(draw):
    """Lines with both prices, as a shop that rounds ex and inc to cents hands them out, no rate."""
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        rate = draw(st.sampled_from(NL_RATES))
        price_inc = draw(st.integers(min_value=100, max_value=100_000).map(lambda c: Decimal(c).scaleb(-2)))
        price_ex = round_cents(price_inc * 100 / (100 + rate))
        quantity = Decimal(draw(st.integers(min_value=1, max_value=5)))
        lines.append(
            OrderLine(
                LineKind.PRODUCT, "p", quantity=quantity, unit_price_ex=price_ex, unit_price_inc=price_inc
            )
        )
    total = sum(ln.quantity * ln.unit_price_inc for ln in lines)
    return Order("s1", "1", draw(dates), Party(country_code="NL"), tuple(lines), total)


@settings(max_examples=200, deadline=None)
@given(orders_without_rates())
def test_order_to_invoice_completes_rates_from_rounded_amounts(order):
    # given lines without a rate, amounts >= 1.00 rounded to cents / when converted
    invoice = order_to_invoice(order)
    # then every rate is completed to the one the shop used, and the totals still match
    for source, line in zip(order.lines, invoice.lines, strict=True):
        expected = round_cents(source.unit_price_inc * 100 / (100 + line.vat_rate))
        assert expected == source.unit_price_ex
        assert line.vat_rate_source == "completed"
    assert invoice.total_inc == order.total_inc
    assert check_invoice(invoice) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NL_RATES), cents), min_size=1, max_size=6), dates)
def test_order_to_invoice_fractional_unit_prices_still_add_up(pairs, day):
    # given unit prices incl. VAT with 4 decimals (line totals not whole cents) and the shop's total
    # rounded once / when converted / then the invoice total is the shop's total to the cent
    lines = tuple(
        OrderLine(LineKind.PRODUCT, "p", quantity=Decimal(3), unit_price_inc=price / 3, vat_rate=rate)
        for rate, price in pairs
    )
    total = round_cents(sum(ln.quantity * ln.unit_price_inc for ln in lines))
    order = Order("s1", "1", day, Party(country_code="NL"), lines, total)
    invoice = order_to_invoice(order)
    assert invoice.total_inc == total
    assert check_invoice(invoice) == []
