"""Mijnwebwinkel order JSON -> core Order."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koppeling.connectors.errors import DataError
from koppeling.connectors.mijnwebwinkel.translate import fingerprint, record_error, translate_order
from koppeling.core.models import LineKind
from koppeling.core.money import round_cents

from .conftest import missing_params, spec_example_order


def _line_total_inc(order) -> Decimal:
    return sum((round_cents(line.unit_price_inc * line.quantity) for line in order.lines), Decimal(0))


def test_spec_example_order():
    order = translate_order(spec_example_order(), path="orders[0]", shop="demo")
    assert order.source_id == order.number == "27"
    assert order.date == dt.date(2015, 11, 3)
    assert order.status == "1" and order.shop == "demo"
    assert order.payment_method == "advance"
    assert order.paid is True  # payment_status "captured"
    assert order.customer.company == "Voorbeeldig BV"
    assert order.customer.name == "Truus voorbeeldig"
    assert order.customer.street == "Molenstraat 62"
    assert order.customer.postal_code == "5341GE" and order.customer.city == "Oss"
    assert order.customer.country_code == "NL"
    assert order.customer.email == "support@mijnwebwinkel.nl"
    assert order.customer.phone == "06-12345678"
    assert order.total_inc == Decimal("47.45")
    assert order.total_vat == Decimal("7.33")  # 0.83 + 6.50
    # 4 article lines, the split payment line (2 parts) and one more payment line
    assert [line.kind for line in order.lines] == [LineKind.PRODUCT] * 4 + [LineKind.PAYMENT_FEE] * 3
    b = order.lines[1]
    assert b.description == "Article B" and b.quantity == 2
    assert b.unit_price_ex == Decimal("4.090909") and b.unit_price_inc == Decimal("4.95")
    assert b.vat_rate == Decimal("21") and b.vat_amount == Decimal("1.718182")
    split = order.lines[4:6]
    assert [line.vat_rate for line in split] == [Decimal("9"), Decimal("21")]
    assert split[0].description == "Betaalkosten (9% btw)"
    assert _line_total_inc(order) == order.total_inc
    # the example says credited_order_number 28 (and also has credit orders of its own)
    assert order.is_credit is True and order.credited_number == "28"
    assert order.status_changed_at is None  # the example has no status_changed_date


def test_amounts_as_strings_and_numbers_agree():
    record = spec_example_order()
    as_strings = copy.deepcopy(record)
    for line in as_strings["orderlines"]:
        parts = line["price"] if isinstance(line["price"], list) else [line["price"]]
        for part in parts:
            for key in ("amount", "amount_including_tax", "rate"):
                part[key] = f"{Decimal(repr(part[key])):.6f}"
    as_strings["price"]["total"] = "47.450000"
    assert translate_order(as_strings).lines == translate_order(record).lines
    assert translate_order(as_strings).total_inc == Decimal("47.45")


def test_line_types_and_defaults():
    record = spec_example_order()
    record["orderlines"] = [
        {
            "type": "custom",
            "quantity": 3,
            "description": "Maatwerk",
            "price": {"amount": "24.793389", "amount_including_tax": "30.00", "rate": "21.00"},
        },
        {
            "type": "shipping",
            "quantity": 1,
            "price": {"amount": "4.090909", "amount_including_tax": "4.95", "rate": "21.00"},
        },
        {
            "type": "discount",
            "quantity": 1,
            "description": "Korting 10%",
            "price": [
                {"amount": "-1.000000", "amount_including_tax": "-1.09", "rate": "9.00"},
                {"amount": "-2.000000", "amount_including_tax": "-2.42", "rate": "21.00"},
            ],
        },
        {
            "type": "mystery",
            "quantity": 1,
            "price": {"amount": "1.000000", "amount_including_tax": "1.21", "rate": "21.00"},
        },
    ]
    record["price"] = {"tax": {"amount": "6.00", "rate": "21.00"}, "total": "32.65"}
    order = translate_order(record)
    assert [line.kind for line in order.lines] == [
        LineKind.PRODUCT,
        LineKind.SHIPPING,
        LineKind.DISCOUNT,
        LineKind.DISCOUNT,
        LineKind.OTHER,
    ]
    assert order.lines[0].unit_price_inc == Decimal("10")
    assert order.lines[1].description == "Verzendkosten"
    assert order.total_vat == Decimal("6.00")
    assert _line_total_inc(order) == order.total_inc


def test_paid_rules():
    record = spec_example_order()
    for status, paid in (("captured", True), ("authorized", True), ("pending", False), ("refunded", False)):
        record["payment_status"] = status
        assert translate_order(record).paid is paid
    del record["payment_status"]
    record["payment"] = {"method_name": "ideal", "status": {"id": 1, "text": "Successful"}}
    assert translate_order(record).paid is True
    record["payment"]["status"]["id"] = 5
    assert translate_order(record).paid is False


def test_delivery_vat_number_and_status_changed():
    record = spec_example_order()
    record["debtor"]["address"]["invoice"]["taxnumber"] = "nl 8036.63.458.B01"
    record["debtor"]["address"]["delivery"] = {
        "name": "Magazijn",
        "street": "Havenweg",
        "number": "1a",
        "zipcode": "2000",
        "city": "Antwerpen",
        "country_code": "be",
    }
    record["status_changed_date"], record["status_changed_time"] = "2025-03-30", "02:30:00"
    record["tax_strategy"] = "reverse_charged_vat"
    order = translate_order(record)
    assert order.customer.vat_number == "NL803663458B01"
    assert order.delivery.country_code == "BE" and order.delivery.street == "Havenweg 1a"
    assert order.country_code == "BE"
    assert order.vat_hint == "reverse_charged_vat"
    assert order.status_changed_at.tzinfo is not None
    assert order.status_changed_at.isoformat().startswith("2025-03-30T02:30:00")


def test_country_from_name_when_code_missing():
    record = spec_example_order()
    del record["debtor"]["address"]["invoice"]["country_code"]
    assert translate_order(record).customer.country_code == "NL"  # from "Nederland"


def _without_any_country(record: dict) -> None:
    """No country on the invoice address, and none to fall back on (delivery, shipping, tax region)."""
    record["debtor"]["address"]["invoice"].update(country_code="", country="Atlantis")
    record["debtor"]["address"].pop("delivery", None)
    record["shipping"] = []
    record.pop("tax_region", None)


@pytest.mark.parametrize(
    ("mutate", "code", "field", "value"),
    [
        (
            lambda r: r["orderlines"][1]["price"].__setitem__("amount", "abc"),
            "field_not_a_number",
            "orders[3].orderlines[1].price.amount",
            "abc",
        ),
        (
            lambda r: r["orderlines"][4]["price"][1].__setitem__("rate", None),
            "field_missing",
            "orders[3].orderlines[4].price[1].rate",
            None,
        ),
        (lambda r: r["orderlines"][0].pop("price"), "field_missing", "orders[3].orderlines[0].price", None),
        (
            lambda r: r["orderlines"][2].__setitem__("quantity", 0),
            "quantity_zero",
            "orders[3].orderlines[2].quantity",
            0,
        ),
        (lambda r: r.__setitem__("date", "03-11-2015"), "field_not_a_date", "orders[3].date", "03-11-2015"),
        (lambda r: r.pop("debtor"), "field_missing", "orders[3].debtor", None),
        (lambda r: r["price"].__setitem__("total", ""), "field_missing", "orders[3].price.total", None),
        (lambda r: r.__setitem__("orderlines", "none"), "field_wrong_type", "orders[3].orderlines", "none"),
        (
            lambda r: r["price"].__setitem__("tax", [{"rate": "21"}]),
            "field_missing",
            "orders[3].price.tax[0].amount",
            None,
        ),
        (
            _without_any_country,
            "country_missing",
            "orders[3].debtor.address.invoice.country_code",
            None,
        ),
    ],
)
def test_located_errors(mutate, code, field, value):
    record = spec_example_order()
    mutate(record)
    with pytest.raises(DataError) as info:
        translate_order(record, path="orders[3]")
    error = info.value
    assert (error.field, error.value, error.order_number) == (field, value, "27")
    assert error.code == code
    assert error.params["path"] == field and error.params["number"] == "27"
    assert error.params["value"] == ("" if value is None else repr(value))
    assert error.params["system"] == "Mijnwebwinkel"
    assert not missing_params(error.outcome)


def test_wrong_type_names_what_was_expected():
    record = spec_example_order()
    record["orderlines"] = "none"
    with pytest.raises(DataError) as info:
        translate_order(record, path="orders[3]")
    assert info.value.code == "field_wrong_type"
    assert info.value.params["expected"] == "a list of orderlines"
    assert not missing_params(info.value.outcome)


def test_not_an_object():
    with pytest.raises(DataError) as info:
        translate_order(["x"], path="orders[0]")
    assert info.value.field == "orders[0]" and info.value.order_number == ""
    assert info.value.code == "field_wrong_type"
    assert info.value.params["path"] == "orders[0]" and info.value.params["number"] == "?"
    assert info.value.params["value"] == repr(["x"]) and info.value.params["expected"] == "an order object"


def test_record_error_shortens_the_value_but_keeps_it_whole_on_the_error():
    long = "x" * 500
    error = record_error("orders[1].date", "field_not_a_date", long, number=42)
    assert error.code == "field_not_a_date" and error.params["number"] == "42"
    assert error.params["value"] == repr(long)[:80] and error.value == long
    assert (error.field, error.order_number) == ("orders[1].date", "42")


def test_fingerprint_is_stable_and_order_of_keys_irrelevant():
    record = spec_example_order()
    reordered = dict(reversed(list(record.items())))
    assert fingerprint(record) == fingerprint(reordered)
    assert len(fingerprint(record)) == 64


_rates = st.sampled_from([Decimal(0), Decimal(9), Decimal(21)])
_part = st.tuples(st.integers(min_value=1, max_value=50_000), _rates)  # unit price incl. VAT in cents
_line = st.tuples(
    st.sampled_from(["article", "custom", "shipping", "payment"]),
    st.integers(min_value=1, max_value=7),
    st.lists(_part, min_size=1, max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_line, min_size=1, max_size=8))
def test_property_line_totals_sum_to_total_inc(lines):
    record = spec_example_order()
    orderlines = []
    total = Decimal(0)
    for kind, quantity, parts in lines:
        prices = []
        for cents, rate in parts:
            unit_inc = Decimal(cents) / 100
            unit_ex = (unit_inc * 100 / (100 + rate)).quantize(Decimal("0.000001"))
            line_inc = unit_inc * quantity
            total += line_inc
            prices.append(
                {
                    "amount": f"{unit_ex * quantity:.6f}",
                    "amount_including_tax": f"{line_inc:.2f}",
                    "rate": f"{rate:.2f}",
                }
            )
        orderlines.append(
            {"type": kind, "quantity": quantity, "price": prices if len(prices) > 1 else prices[0]}
        )
    record["orderlines"] = orderlines
    record["price"] = {"tax": [], "total": f"{total:.6f}"}
    order = translate_order(record)
    assert len(order.lines) == sum(len(parts) for _, _, parts in lines)
    assert _line_total_inc(order) == order.total_inc
    for line in order.lines:
        assert line.vat_amount == round_cents(line.unit_price_inc * line.quantity) - (
            line.unit_price_ex * line.quantity
        ).quantize(Decimal("0.000001"))
