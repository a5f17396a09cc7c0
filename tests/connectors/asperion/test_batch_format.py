"""The aXML writer and reader: round trip, escaping, cents, and errors that say where."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from koppeling.connectors.asperion.batch_format import (
    AXML_VERSION,
    READING,
    BatchFormatError,
    read_orders_xml,
    write_orders_xml,
    xsd_text,
)

from .factory import batch, line, order


def replace_line(o, index: int, **changes):
    lines = list(o.lines)
    lines[index] = dataclasses.replace(lines[index], **changes)
    return dataclasses.replace(o, lines=tuple(lines))


def test_write_orders_xml_round_trip() -> None:
    # given two orders, one with a delivery address and a 9% line
    first = order()
    second = order("ORD00002", invoice="", lines=(line("8.95", rate="9", text="Koffie 500g"),))
    second = dataclasses.replace(
        second,
        debtor=dataclasses.replace(
            second.debtor,
            company_name="Koffiehuis BV",
            vat_number="NL123456789B01",
            delivery_address=dataclasses.replace(
                second.debtor.invoice_address, kind="delivery", city="Zeist"
            ),
        ),
    )
    source = batch(first, second)
    # when
    data = write_orders_xml(source)
    # then
    assert read_orders_xml(data) == source
    root = etree.fromstring(data)
    assert (root.tag, root.get("version"), root.get("reading")) == ("Asperion", AXML_VERSION, READING)
    assert root.findtext("Header/OrderCount") == "2"


def test_write_orders_xml_escapes_special_characters() -> None:
    # given text with XML's special characters and the quotes Asperion names („ “)
    name = 'Jansen & Zn. <"Ærø"> „BV“'
    source = batch(order(name=name))
    # when
    data = write_orders_xml(source)
    # then the bytes are ASCII with entities / character references, and read back the same
    data.decode("ascii")
    assert b'Jansen &amp; Zn. &lt;"&#198;r&#248;"&gt; &#8222;BV&#8220;' in data
    assert read_orders_xml(data).orders[0].debtor.name == name


def test_write_orders_xml_writes_amounts_to_the_cent() -> None:
    # given amounts with fewer decimals than the cent and a 4-decimal unit price
    o = replace_line(order(), 0, unit_price_excl=Decimal("16.5"))
    o = replace_line(o, 1, quantity=Decimal("1.000"))
    # when
    data = write_orders_xml(batch(o))
    root = etree.fromstring(data)
    first = root.find("Orders/Order/Orderlines/Orderline")
    # then
    assert first.findtext("UnitPriceExclVat") == "16.50"
    assert first.findtext("AmountExclVat") == "32.98"
    assert first.findtext("VatAmount") == "6.92"
    assert root.findall("Orders/Order/Orderlines/Orderline")[1].findtext("Quantity") == "1"
    assert root.findtext("Orders/Order/TotalInclVat") == "44.85"


@given(cents=st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=6))
@settings(max_examples=50, deadline=None)
def test_write_orders_xml_round_trips_any_cent_amounts(cents: list[int]) -> None:
    # given lines of any price in cents
    lines = tuple(line(f"{Decimal(c) / 100:.2f}") for c in cents)
    source = batch(order(lines=lines))
    # when
    again = read_orders_xml(write_orders_xml(source))
    # then
    assert again == source
    assert again.orders[0].total_incl == sum(Decimal(c) for c in cents) / 100


def test_write_orders_xml_rejects_sub_cent_amount_with_location() -> None:
    # given a VAT amount of a tenth of a cent
    bad = replace_line(order(), 1, vat_amount=Decimal("0.855"))
    # when / then
    with pytest.raises(BatchFormatError) as caught:
        write_orders_xml(batch(bad))
    assert caught.value.location == "orders[0].lines[1].vat_amount"
    assert "more than 2 decimals" in caught.value.message


def test_write_orders_xml_rejects_float_money() -> None:
    # given a float where money must be Decimal
    bad = dataclasses.replace(order(), total_incl=44.85)
    # when / then
    with pytest.raises(BatchFormatError, match=r"orders\[0\]\.total_incl: must be a finite Decimal"):
        write_orders_xml(batch(bad))


def test_write_orders_xml_rejects_totals_that_do_not_add_up() -> None:
    # given an order total one cent off its lines
    bad = dataclasses.replace(order(), total_excl=order().total_excl + Decimal("0.01"))
    # when / then
    with pytest.raises(BatchFormatError) as caught:
        write_orders_xml(batch(bad))
    assert caught.value.location == "orders[0].total_excl"


def test_write_orders_xml_rejects_line_incl_not_excl_plus_vat() -> None:
    # given
    bad = replace_line(order(), 0, amount_incl=Decimal("39.91"))
    # when / then
    with pytest.raises(BatchFormatError, match=r"orders\[0\]\.lines\[0\]\.amount_incl"):
        write_orders_xml(batch(bad))


def test_write_orders_xml_requires_order_and_invoice_number_in_description() -> None:
    # given a description without the shop's invoice number
    bad = dataclasses.replace(order(), description="Bestelling ORD00001")
    # when / then
    with pytest.raises(BatchFormatError, match="must carry INV00001") as caught:
        write_orders_xml(batch(bad))
    assert caught.value.location == "orders[0].description"


def test_write_orders_xml_rejects_duplicate_order_numbers() -> None:
    # given the same order twice in one file
    # when / then
    with pytest.raises(BatchFormatError, match="appears twice") as caught:
        write_orders_xml(batch(order(), order()))
    assert caught.value.location == "orders[1].order_number"


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"payment_code": ""}, "orders[0].payment_code"),
        ({"invoice_status": "Betaald"}, "orders[0].invoice_status"),
        ({"lines": ()}, "orders[0].lines"),
        ({"currency": "USD"}, "orders[0].currency"),
    ],
)
def test_write_orders_xml_rejects_bad_order_fields(changes: dict, location: str) -> None:
    # given
    bad = dataclasses.replace(order(), **changes)
    # when / then
    with pytest.raises(BatchFormatError) as caught:
        write_orders_xml(batch(bad))
    assert caught.value.location == location


def test_write_orders_xml_rejects_control_characters() -> None:
    # given a name with a vertical tab (not allowed in XML 1.0)
    bad = order(name="Jan\x0bde Vries")
    # when / then
    with pytest.raises(BatchFormatError, match="control character") as caught:
        write_orders_xml(batch(bad))
    assert caught.value.location == "orders[0].debtor.name"


def test_write_orders_xml_rejects_vat_category_not_fitting_rate() -> None:
    # given a 21% line marked as VAT-free
    bad = replace_line(order(), 0, vat_category="nul")
    # when / then
    with pytest.raises(BatchFormatError, match="does not fit rate"):
        write_orders_xml(batch(bad))


def test_write_orders_xml_omits_empty_optional_elements() -> None:
    # given an order without a shop invoice number or company
    source = batch(order(invoice=""))
    # when
    root = etree.fromstring(write_orders_xml(source))
    # then
    assert root.find("Orders/Order/ShopInvoiceNumber") is None
    assert root.find("Orders/Order/Debtor/CompanyName") is None


def test_read_orders_xml_locates_a_syntax_error() -> None:
    # given a file cut off in the middle
    data = write_orders_xml(batch())
    broken = data[: data.index(b"<Orderlines>")] + b"<Orderlines><Orderline>"
    # when / then
    with pytest.raises(BatchFormatError) as caught:
        read_orders_xml(broken)
    assert caught.value.line is not None and caught.value.line > 20


def test_read_orders_xml_locates_a_schema_violation() -> None:
    # given a second line whose VAT amount has three decimals
    data = write_orders_xml(batch()).replace(b"<VatAmount>0.86</VatAmount>", b"<VatAmount>0.855</VatAmount>")
    # when / then
    with pytest.raises(BatchFormatError) as caught:
        read_orders_xml(data)
    error = caught.value
    assert error.location == "/Asperion/Orders/Order/Orderlines/Orderline[2]/VatAmount"
    assert error.line == data[: data.index(b"0.855")].count(b"\n") + 1
    assert "0.855" in error.message


def test_read_orders_xml_rejects_order_count_mismatch() -> None:
    # given a header that promises two orders
    data = write_orders_xml(batch()).replace(b"<OrderCount>1<", b"<OrderCount>2<")
    # when / then
    with pytest.raises(BatchFormatError, match="OrderCount says 2"):
        read_orders_xml(data)


def test_read_orders_xml_ignores_external_entities() -> None:
    # given a file that tries to pull in a local file through an entity
    data = write_orders_xml(batch())
    evil = data.replace(
        b'<?xml version="1.0" encoding="UTF-8"?>',
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace(b"<City>Utrecht</City>", b"<City>&x;</City>")
    # when / then the entity is not resolved: the file fails validation instead of leaking
    with pytest.raises(BatchFormatError):
        read_orders_xml(evil)


def test_xsd_text_is_a_schema_that_accepts_the_written_file() -> None:
    # given
    schema = etree.XMLSchema(etree.fromstring(xsd_text().encode()))
    # when
    document = etree.fromstring(write_orders_xml(batch(order(), order("ORD00002", invoice="INV00002"))))
    # then
    assert schema.validate(document), schema.error_log
