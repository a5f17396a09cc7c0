"""Klanten.csv and Bestellingen.xml readers: encodings, delimiters, names, structure variants."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from koppeling.connectors.strato import CustomerReader, OrderError, OrderReader, StratoOrder, UnusableInput

HEADER = "Kundennummer;Vorname;Nachname;Straße;PLZ;Ort;Land;E-Mail;Unbekannt\n"
ROW = "7;Jürgen;Müller;Königstraße 5;70173;Stuttgart;Deutschland;j@example.de;x\n"


@pytest.mark.parametrize(
    ("data", "encoding", "warned"),
    [
        ((HEADER + ROW).encode("utf-8"), "utf-8", False),
        (b"\xef\xbb\xbf" + (HEADER + ROW).encode("utf-8"), "utf-8", False),
        ((HEADER + ROW).encode("cp1252"), "cp1252", True),
        ((HEADER + ROW).replace(";", "\t").encode("utf-16"), "utf-16", False),
    ],
)
def test_customers_any_encoding(data, encoding, warned):
    reader = CustomerReader(io.BytesIO(data))
    rows = list(reader)
    assert (
        reader.encoding == encoding
        and bool(reader.warnings and reader.warnings[0].field == "encoding") is warned
    )
    c = rows[0].customer
    assert (c.customer_number, c.person_name, c.street, c.country, c.country_name) == (
        "7",
        "Jürgen Müller",
        "Königstraße 5",
        "DE",
        "Deutschland",
    )
    assert reader.ignored_columns == ["Unbekannt"]


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_customers_delimiter_detected(delimiter):
    text = (
        f'Voornaam{delimiter}Achternaam{delimiter}Bedrijf\nAnna{delimiter}Visser{delimiter}"A{delimiter} B"\n'
    )
    reader = CustomerReader(io.BytesIO(text.encode()))
    assert reader.delimiter == delimiter
    assert next(iter(reader)).customer.company == f"A{delimiter} B"


def test_customers_multiline_values_keep_their_line_numbers():
    text = 'Naam;Adres;Plaats\n"Jan";"Straat 1\nAchterom";Delft\n;;\nPiet;Dijk 2;Ede\n'
    rows = list(CustomerReader(io.BytesIO(text.encode())))
    assert [(r.line, r.customer.full_name) for r in rows] == [(2, "Jan"), (5, "Piet")]


def test_customers_unusable():
    with pytest.raises(UnusableInput, match="empty"):
        CustomerReader(io.BytesIO(b""))
    with pytest.raises(UnusableInput, match="ZIP"):
        CustomerReader(io.BytesIO(b"PK\x03\x04rest"))


XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<e:Export xmlns:e="urn:example:epages">
  <e:Bestellingen>
    <e:BESTELLING>
      <e:Bestelnummer>A-17</e:Bestelnummer>
      <e:Besteldatum>05-03-2024</e:Besteldatum>
      <e:Factuuradres><e:Voornaam>Anna</e:Voornaam><e:Achternaam>Visser</e:Achternaam><e:Land>NL</e:Land></e:Factuuradres>
      <e:Afleveradres><e:Voornaam>Anna</e:Voornaam><e:Land>Belgie</e:Land></e:Afleveradres>
      <e:Betaling><e:Methode>iDEAL</e:Methode><e:Status>Open</e:Status></e:Betaling>
      <e:Regels>
        <e:Regel><e:Artikelnummer>T1</e:Artikelnummer><e:Omschrijving>Thee</e:Omschrijving><e:Aantal>2</e:Aantal>
          <e:Stukprijs>5.00</e:Stukprijs><e:Btw>21</e:Btw><e:Kleur>groen</e:Kleur></e:Regel>
        <e:Regel><e:Soort>Verzendkosten</e:Soort><e:Bedrag>4.95</e:Bedrag><e:Btw>21</e:Btw></e:Regel>
      </e:Regels>
      <e:Totalen><e:TotaalInclBtw>14.95</e:TotaalInclBtw></e:Totalen>
    </e:BESTELLING>
  </e:Bestellingen>
</e:Export>
"""


def test_orders_dutch_names_namespaces_and_containers():
    reader = OrderReader(io.BytesIO(XML))
    [order] = list(reader)
    assert isinstance(order, StratoOrder), order
    assert (order.number, order.date.isoformat(), order.payment_method, order.paid) == (
        "A-17",
        "2024-03-05",
        "iDEAL",
        False,
    )
    assert order.address("first_name") == "Anna" and order.delivery_country == "BE"
    assert [(ln.kind, ln.quantity, ln.unit_price, ln.total) for ln in order.lines] == [
        ("product", Decimal(2), Decimal("5.00"), None),
        ("shipping", Decimal(1), None, Decimal("4.95")),
    ]
    assert order.grand_total == Decimal("14.95") and order.line_numbers[0] == 11
    assert "Kleur" in reader.unknown_elements.values()


def test_orders_error_records_are_located():
    xml = XML.replace(b"<e:Aantal>2</e:Aantal>", b"<e:Aantal>-2</e:Aantal>")
    [order] = list(OrderReader(io.BytesIO(xml)))
    assert isinstance(order, OrderError)
    issue = order.issues[0]
    assert (issue.line, issue.element, issue.field, issue.value, issue.record) == (
        11,
        "Order #1/LineItem[1]",
        "Quantity",
        "-2",
        "A-17",
    )


def test_identical_lines_are_shared():
    order = (
        b"<Order><OrderNumber>%d</OrderNumber><CreationDate>2024-01-01</CreationDate><LineItems>"
        b"<LineItem><Name>x</Name><Quantity>1</Quantity><UnitPrice>1.00</UnitPrice><TaxRate>21</TaxRate>"
        b"</LineItem></LineItems><GrandTotal>1.00</GrandTotal></Order>"
    )
    xml = b"<Orders>" + order % 1 + order % 2 + b"</Orders>"
    a, b = list(OrderReader(io.BytesIO(xml)))
    assert a.lines[0] is b.lines[0]
