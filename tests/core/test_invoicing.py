"""invoicing.py: order -> invoice (complete rates, apply regime, round once, add up)."""

import datetime as dt
from decimal import Decimal

import pytest

from koppeling.core.errors import RuleError
from koppeling.core.invoicing import InvoiceSettings, check_invoice, order_to_invoice
from koppeling.core.models import (
    Invoice,
    InvoiceLine,
    LineKind,
    Order,
    OrderLine,
    Party,
    PaymentStatus,
    VatRegime,
)

D = Decimal
ON = dt.date(2025, 3, 1)
CONSUMER_NL = Party(name="Jan Jansen", country_code="NL", email="jan@example.nl")


def product(price_inc=None, rate=None, *, ex=None, qty=1, vat=None, desc="Product", category=""):
    return OrderLine(
        LineKind.PRODUCT,
        desc,
        quantity=D(qty),
        unit_price_ex=None if ex is None else D(ex),
        unit_price_inc=None if price_inc is None else D(price_inc),
        vat_rate=None if rate is None else D(rate),
        vat_amount=None if vat is None else D(vat),
        vat_category=category,
    )


def line(kind, price_inc=None, rate=None, *, ex=None, desc=""):
    return OrderLine(
        kind,
        desc or kind.value,
        unit_price_inc=None if price_inc is None else D(price_inc),
        unit_price_ex=None if ex is None else D(ex),
        vat_rate=None if rate is None else D(rate),
    )


def make_order(*lines, total, customer=CONSUMER_NL, on=ON, **kwargs):
    return Order("src-1", "1001", on, customer, tuple(lines), D(total), **kwargs)


def summary(invoice: Invoice):
    return [(ln.total_ex, ln.vat_rate, ln.vat_amount, ln.vat_rate_source) for ln in invoice.lines]


def test_order_to_invoice_domestic_header_and_amounts():
    # given a paid NL order with prices incl. VAT / when converted with a prefix and cost center
    order = make_order(
        product("12.10", 21), product("10.90", 9), total="23.00", paid=True, payment_method="iDEAL"
    )
    settings = InvoiceSettings(reference_prefix="WA", account="1", cost_center="Shop A")
    invoice = order_to_invoice(order, settings)
    # then the header follows the settings and the lines are split ex / VAT in cents
    assert invoice.reference == "WA1001"
    assert invoice.description == "Bestelling WA1001"
    assert (invoice.account, invoice.cost_center, invoice.payment_method) == ("1", "Shop A", "iDEAL")
    assert invoice.payment_status == PaymentStatus.PAID and invoice.payment_date == ON
    assert invoice.regime == VatRegime.DOMESTIC and invoice.vat_country == "NL"
    assert summary(invoice) == [
        (D("10.00"), D(21), D("2.10"), "exact"),
        (D("10.00"), D(9), D("0.90"), "exact"),
    ]
    assert invoice.total_inc == D("23.00")
    assert check_invoice(invoice) == []


def test_order_to_invoice_unpaid_is_due_without_payment_date():
    invoice = order_to_invoice(make_order(product("12.10", 21), total="12.10"))
    assert invoice.payment_status == PaymentStatus.DUE and invoice.payment_date is None
    # given a forced status in the settings / then it wins
    forced = order_to_invoice(
        make_order(product("12.10", 21), total="12.10"), InvoiceSettings(payment_status=PaymentStatus.PAID)
    )
    assert forced.payment_status == PaymentStatus.PAID and forced.payment_date == ON


def test_order_to_invoice_shipping_without_rate_takes_highest_product_rate():
    # given products at 9% and 21% and shipping with only a price incl. VAT
    order = make_order(
        product("10.90", 9), product("12.10", 21), line(LineKind.SHIPPING, "6.05"), total="29.05"
    )
    # when converted
    invoice = order_to_invoice(order)
    # then shipping is completed at the highest product rate (21%)
    assert summary(invoice)[2] == (D("5.00"), D(21), D("1.05"), "completed")
    assert invoice.total_inc == D("29.05")


def test_order_to_invoice_payment_fee_with_only_ex_amount():
    order = make_order(product("10.90", 9), line(LineKind.PAYMENT_FEE, ex="0.50"), total="11.45")
    invoice = order_to_invoice(order)
    assert summary(invoice)[1] == (D("0.50"), D(9), D("0.05"), "completed")
    assert invoice.total_inc == D("11.45")


@pytest.mark.parametrize(
    ("kwargs", "rate"),
    [
        ({"ex": "8.26", "price_inc": "9.99"}, D(21)),  # ex and inc, both rounded to cents
        ({"ex": "9.17", "price_inc": "9.99"}, D(9)),
        ({"ex": "10.00", "vat": "2.10"}, D(21)),  # ex and the VAT amount
        ({"price_inc": "10.90", "vat": "0.90"}, D(9)),  # inc and the VAT amount
        ({"ex": "5.00", "price_inc": "5.00"}, D(0)),
    ],
)
def test_order_to_invoice_missing_rate_completed_from_amounts(kwargs, rate):
    # given a product without a rate but with two amounts / when converted
    order_line = product(**kwargs)
    total = (
        order_line.unit_price_inc
        if order_line.unit_price_inc is not None
        else order_line.unit_price_ex + order_line.vat_amount
    )
    invoice = order_to_invoice(make_order(order_line, total=total))
    # then the nearest NL rate that the rounded amounts fit is chosen
    assert invoice.lines[0].vat_rate == rate
    assert invoice.lines[0].vat_rate_source == "completed"
    assert invoice.total_inc == total
    assert check_invoice(invoice) == []


def test_order_to_invoice_missing_rate_from_category():
    order = make_order(
        product("109.00", category="accommodation", desc="Hotel"), total="109.00", on=dt.date(2025, 12, 31)
    )
    assert order_to_invoice(order).lines[0].vat_rate == D(9)


def test_order_to_invoice_unknown_rate_raises_with_field():
    # given amounts that imply 15%, no NL rate / when converted / then vat_rate_unknown on that line
    order = make_order(
        product("12.10", 21), product(ex="10.00", price_inc="11.50", desc="Odd"), total="23.60"
    )
    with pytest.raises(RuleError) as info:
        order_to_invoice(order)
    assert info.value.code == "vat_rate_unknown"
    assert info.value.field == "lines[1]"
    assert "15.0%" in info.value.message
    assert info.value.suggestion


def test_order_to_invoice_product_with_single_amount_and_no_rate_raises():
    with pytest.raises(RuleError) as info:
        order_to_invoice(make_order(product("12.10"), total="12.10"))
    assert (info.value.code, info.value.field) == ("vat_rate_missing", "lines[0]")


def test_order_to_invoice_shipping_without_products_raises():
    with pytest.raises(RuleError) as info:
        order_to_invoice(make_order(line(LineKind.SHIPPING, "6.05"), total="6.05"))
    assert info.value.code == "vat_rate_missing"


def test_order_to_invoice_line_without_any_amount_raises():
    with pytest.raises(RuleError) as info:
        order_to_invoice(make_order(product(rate=21), total="0"))
    assert info.value.code == "line_amount_missing"


def test_order_to_invoice_totals_mismatch():
    # given lines adding up to 22.10 and a total of 25.00 / when converted / then totals_mismatch
    order = make_order(product("12.10", 21), product("10.00", 0), total="25.00")
    with pytest.raises(RuleError) as info:
        order_to_invoice(order)
    assert info.value.code == "totals_mismatch"
    assert "€22.10" in info.value.message and "€25.00" in info.value.message
    assert info.value.field == "total_inc"


def test_order_to_invoice_distributes_a_rounding_cent_deterministically():
    # given three lines of 1/3 of 10.00 incl. 21% (3.3333 each) and the shop's total 10.00
    third = D("10") / 3
    order = make_order(*(product(str(third), 21, desc=f"P{i}") for i in range(3)), total="10.00")
    # when converted
    invoice = order_to_invoice(order)
    # then each line rounds to 3.33 incl. and the missing cent lands on the first (largest, tie by
    # position) line's VAT amount, staying within a cent of 21% of its ex amount
    assert invoice.total_inc == D("10.00")
    assert [ln.total_inc for ln in invoice.lines] == [D("3.34"), D("3.33"), D("3.33")]
    assert invoice.lines[0].total_ex == invoice.lines[1].total_ex
    assert check_invoice(invoice) == []


def test_order_to_invoice_ex_priced_order_matches_shop_total():
    # given prices excl. VAT where per-line rounding differs from the shop's total rounding
    order = make_order(
        product(ex="0.333", rate=21, qty=3, desc="A"), product(ex="1.115", rate=21, desc="B"), total="2.56"
    )
    # when converted / then the invoice still equals the shop's total
    invoice = order_to_invoice(order)
    assert invoice.total_inc == D("2.56")
    assert check_invoice(invoice) == []


def test_order_to_invoice_discount_negative_and_same_rate():
    # given one product at 21% and a discount without rate / when converted / then discount at 21%
    order = make_order(product("121.00", 21), line(LineKind.DISCOUNT, "-12.10"), total="108.90")
    invoice = order_to_invoice(order)
    assert summary(invoice)[1] == (D("-10.00"), D(21), D("-2.10"), "completed")
    assert invoice.total_inc == D("108.90")


def test_order_to_invoice_discount_without_rate_on_mixed_rates_raises():
    order = make_order(
        product("121.00", 21), product("10.90", 9), line(LineKind.DISCOUNT, "-5.00"), total="126.90"
    )
    with pytest.raises(RuleError) as info:
        order_to_invoice(order)
    assert (info.value.code, info.value.field) == ("vat_rate_missing", "lines[2]")


def test_order_to_invoice_free_shipping_line_kept_at_product_rate():
    order = make_order(product("10.90", 9), line(LineKind.SHIPPING, "0.00"), total="10.90")
    invoice = order_to_invoice(order)
    assert summary(invoice)[1] == (D("0.00"), D(9), D("0.00"), "completed")


def test_order_to_invoice_gift_card_payment_left_out():
    # given a 60.50 order paid 10.00 by gift card (shop total 50.50 = what was paid in money)
    order = make_order(product("60.50", 21), line(LineKind.GIFT_CARD, "-10.00"), total="50.50")
    invoice = order_to_invoice(order)
    # then the gift card is not a line, the invoice shows the revenue and a warning explains
    assert [ln.kind for ln in invoice.lines] == [LineKind.PRODUCT]
    assert invoice.total_inc == D("60.50")
    assert invoice.gift_card_amount == D("10.00")
    assert any("gift-card payment" in w for w in invoice.warnings)
    assert check_invoice(invoice) == []


def test_order_to_invoice_gift_card_sold_kept_at_zero():
    order = make_order(product("12.10", 21), line(LineKind.GIFT_CARD, "25.00"), total="37.10")
    invoice = order_to_invoice(order)
    assert summary(invoice)[1] == (D("25.00"), D(0), D("0.00"), "regime")
    assert invoice.total_inc == D("37.10")


@pytest.mark.parametrize(("country", "standard", "reduced"), [("BE", D(21), D(6)), ("DE", D(19), D(7))])
def test_order_to_invoice_oss_uses_customer_country_rates(country, standard, reduced):
    # given NL-rated prices incl. VAT for a consumer in another member state, seller on OSS
    order = make_order(
        product("121.00", 21),
        product("10.90", 9),
        line(LineKind.SHIPPING, "6.05"),
        total="137.95",
        customer=Party(name="Kunde", country_code=country),
    )
    # when converted
    invoice = order_to_invoice(order)
    # then the customer's country rates apply, the price paid incl. VAT is kept
    assert invoice.regime == VatRegime.EU_B2C_OSS and invoice.vat_country == country
    assert [ln.vat_rate for ln in invoice.lines] == [standard, reduced, standard]
    assert invoice.total_inc == D("137.95")
    assert check_invoice(invoice) == []


def test_order_to_invoice_oss_keeps_rates_the_shop_already_gave():
    # given a shop that already charged DE 19% / when converted / then kept, source exact
    order = make_order(product("119.00", 19), total="119.00", customer=Party(country_code="DE"))
    invoice = order_to_invoice(order)
    assert summary(invoice) == [(D("100.00"), D(19), D("19.00"), "exact")]


def test_order_to_invoice_oss_missing_rate_completed_from_customer_country():
    order = make_order(
        product(ex="100.00", price_inc="119.00"), total="119.00", customer=Party(country_code="DE")
    )
    assert order_to_invoice(order).lines[0].vat_rate == D(19)


def test_order_to_invoice_oss_ex_priced_order_warns_when_total_changes():
    # given ex prices at NL 21% for a DE consumer / then VAT recomputed at 19%, total differs, warned
    order = make_order(product(ex="100.00", rate=21), total="121.00", customer=Party(country_code="DE"))
    invoice = order_to_invoice(order)
    assert invoice.total_inc == D("119.00")
    assert any("differs from the order's" in w for w in invoice.warnings)


def test_order_to_invoice_icp_zero_percent():
    # given a BE business with a valid VAT number and prices without VAT
    customer = Party(company="Firma BV", country_code="BE", vat_number="BE0403170701")
    order = make_order(
        product(ex="100.00", price_inc="100.00"),
        line(LineKind.SHIPPING, "10.00"),
        total="110.00",
        customer=customer,
    )
    # when converted / then ICP, every line at 0%
    invoice = order_to_invoice(order)
    assert invoice.regime == VatRegime.EU_B2B
    assert all(ln.vat_rate == 0 and ln.vat_amount == 0 for ln in invoice.lines)
    assert invoice.total_inc == D("110.00")
    assert check_invoice(invoice) == []


def test_order_to_invoice_export_zero_percent():
    order = make_order(product("50.00", 0), total="50.00", customer=Party(country_code="US"))
    invoice = order_to_invoice(order)
    assert invoice.regime == VatRegime.EXPORT
    assert summary(invoice) == [(D("50.00"), D(0), D("0.00"), "exact")]


def test_order_to_invoice_export_with_vat_charged_follows_the_shop():
    # given a shop that charged NL 21% to a Swiss customer / when converted / then booked as charged
    order = make_order(product("121.00", 21), total="121.00", customer=Party(country_code="CH"))
    invoice = order_to_invoice(order)
    assert invoice.regime == VatRegime.DOMESTIC
    assert invoice.lines[0].vat_amount == D("21.00")
    assert any("could be 0%" in w for w in invoice.warnings)


def test_order_to_invoice_icp_with_foreign_vat_charged_raises_conflict():
    customer = Party(company="Firma", country_code="FR", vat_number="FR40303265045")
    order = make_order(product("119.00", 19), total="119.00", customer=customer)
    with pytest.raises(RuleError) as info:
        order_to_invoice(order, InvoiceSettings(oss_registered=False))
    assert info.value.code == "vat_regime_conflict"


def test_order_to_invoice_invalid_icp_number_strict_raises():
    customer = Party(company="Firma", country_code="DE", vat_number="DE123456789")
    order = make_order(product(ex="100.00", price_inc="100.00"), total="100.00", customer=customer)
    with pytest.raises(RuleError) as info:
        order_to_invoice(order, InvoiceSettings(strict_icp=True))
    assert info.value.code == "icp_vat_number_invalid"
    # and when not strict / then consumer sale with a warning
    invoice = order_to_invoice(make_order(product("119.00", 19), total="119.00", customer=customer))
    assert invoice.regime == VatRegime.EU_B2C_OSS
    assert any("invalid VAT number" in w for w in invoice.warnings)


def test_order_to_invoice_reverse_charge_zero_percent():
    customer = Party(company="Bouw BV", country_code="NL", vat_number="NL004495445B01")
    order = make_order(
        product(ex="500.00", price_inc="500.00"),
        total="500.00",
        customer=customer,
        vat_hint="reverse_charged_vat",
    )
    invoice = order_to_invoice(order)
    assert invoice.regime == VatRegime.REVERSE_CHARGE
    assert invoice.lines[0].vat_rate == 0


def test_order_to_invoice_nl_2026_accommodation_rate_by_order_date():
    # given a hotel night priced incl. VAT without rate but with category, across the 2026 change
    for day, rate in ((dt.date(2025, 12, 31), D(9)), (dt.date(2026, 1, 1), D(21))):
        order = make_order(product("100.00", category="accommodation"), total="100.00", on=day)
        assert order_to_invoice(order).lines[0].vat_rate == rate


def test_order_to_invoice_unit_price_ex_four_decimals():
    order = make_order(product("9.99", 21, qty=3), total="29.97")
    first = order_to_invoice(order).lines[0]
    assert first.unit_price_ex == D("8.2562")
    assert first.total_ex == D("24.77")


def test_order_to_invoice_bad_description_template_raises():
    with pytest.raises(RuleError) as info:
        order_to_invoice(
            make_order(product("1.21", 21), total="1.21"),
            InvoiceSettings(description_template="Order {nummer}"),
        )
    assert info.value.code == "settings_invalid"


def test_order_to_invoice_date_before_vat_data_raises():
    # given a BE shop and a 2015 order (BE data starts 2019) / when converted / then vat_data_missing
    order = make_order(
        product("1.21", 21), total="1.21", customer=Party(country_code="BE"), on=dt.date(2015, 1, 1)
    )
    with pytest.raises(RuleError) as info:
        order_to_invoice(order, InvoiceSettings(seller_country="BE"))
    assert info.value.code == "vat_data_missing"


def test_check_invoice_reports_inconsistent_lines():
    # given a hand-made invoice with wrong VAT and a fractional cent
    bad = Invoice(
        "X1",
        "x",
        ON,
        VatRegime.EU_B2B,
        CONSUMER_NL,
        [
            InvoiceLine(LineKind.PRODUCT, "a", D(1), D(10), D(21), D("10.00"), D("3.00")),
            InvoiceLine(LineKind.PRODUCT, "b", D(1), D(10), D(0), D("10.005"), D("0")),
        ],
        source_total_inc=D("20.00"),
    )
    problems = check_invoice(bad)
    assert any("does not match 21%" in p for p in problems)
    assert any("whole number of cents" in p for p in problems)
    assert any("eu_b2b invoice with a 21% line" in p for p in problems)
    assert any("differs from the source" in p for p in problems)
