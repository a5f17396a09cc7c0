"""The Acumulus CSV writers: fixed columns, quoting, formula-injection neutralising."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from koppeling.connectors.acumulus import csvimport as ci


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'=1+1"),  # trimmed first, then neutralised
        ("+31 20 123 4567", "+31 20 123 4567"),
        ("-12.50", "-12.50"),
        ("Jansen; Zonen", '"Jansen; Zonen"'),
        ('Thee "XL"', '"Thee ""XL"""'),
        ("regel 1\nregel 2", '"regel 1\nregel 2"'),
        ("", ""),
        (None, ""),
    ],
)
def test_text_cell(value, cell):
    assert ci.text_cell(value) == cell


def test_join_row_fast_path_equals_slow_path():
    values = ["WA1", "Jansen; Zonen", "=1+1", " x ", "ok"]
    assert ci.join_row(values) == ";".join(map(ci.text_cell, values))
    assert ci.join_row(["a", "b"]) == "a;b"


def test_file_names():
    assert ci.invoice_file_name("PayPal") == "AcumulusPayPalFacturen.csv"
    assert ci.invoice_file_name("") == "AcumulusOnbekendFacturen.csv"
    assert ci.invoice_file_name("../evil") == "AcumulusevilFacturen.csv"


def test_column_orders_are_fixed():
    assert [c.header for c in ci.RELATION_COLUMNS][:3] == ["Klantnummer", "Bedrijfsnaam", "Naam"]
    assert len(ci.RELATION_COLUMNS) == 19 and len(ci.INVOICE_COLUMNS) == 29
    assert (
        ci.INVOICE_COLUMNS[0].header == "Ordernummer"
        and ci.INVOICE_COLUMNS[-1].header == "Factuurtotaal incl. btw"
    )


def test_writers_produce_parseable_csv(tmp_path):
    rel = ci.RelationsWriter(tmp_path / ci.RELATIONS_FILE)
    rel.write(
        [
            "1",
            "=HYPERLINK()",
            "A B",
            "",
            "Straat 1",
            "",
            "1234 AB",
            "Delft",
            "NL",
            "",
            "",
            "",
            "",
            "a@b.nl",
            "",
            "",
            "",
            "1",
            "regel\nnog een",
        ]
    )
    rel.close()
    with (tmp_path / ci.RELATIONS_FILE).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == [c.header for c in ci.RELATION_COLUMNS]
    assert rows[1][1] == "'=HYPERLINK()" and rows[1][-1] == "regel\nnog een"
    with pytest.raises(ValueError, match="expected 19"):
        ci.RelationsWriter(tmp_path / "x.csv").write(["too few"])
    inv = ci.InvoiceWriter(tmp_path / "AcumulusBankFacturen.csv", "Bank")
    body = ci.line_body("S;1", "=evil", "Product", "1", "8.2645", "21", "8.26", "1.74", "10.00")
    inv.write_invoice(
        ["WA1", "2024-01-01"] + [""] * 16, [body], Decimal("8.26"), Decimal("1.74"), Decimal("10.00")
    )
    inv.close()
    with (tmp_path / "AcumulusBankFacturen.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert len(rows[1]) == 29 and rows[1][18:21] == ["1", "S;1", "'=evil"] and rows[1][-1] == "10.00"
    assert (inv.invoices, inv.total_inc) == (1, Decimal("10.00"))


def test_remembered_line_bodies_keep_each_lines_own_digits():
    """Bodies are remembered per line; equal lines with other digits print their own digits."""
    import datetime as dt
    from dataclasses import replace

    from koppeling.core.models import Invoice, InvoiceLine, LineKind, Party, VatRegime

    line = InvoiceLine(
        LineKind.PRODUCT,
        "Pot",
        Decimal("2"),
        Decimal("28.51"),
        Decimal("21"),
        Decimal("57.02"),
        Decimal("11.97"),
    )
    other = replace(line, quantity=Decimal("2.0"), vat_rate=Decimal("21.00"))

    def bodies(*lines):
        invoice = Invoice("1", "x", dt.date(2026, 1, 5), VatRegime.DOMESTIC, Party(), list(lines))
        return ci.invoice_bodies(invoice)

    first, second = bodies(line, other)
    assert first.split(";")[3:5] == ["2", "28.5100"] and first.split(";")[5] == "21"
    assert second.split(";")[3] == "2.0" and second.split(";")[5] == "21.00"
    assert bodies(line) == [first]
