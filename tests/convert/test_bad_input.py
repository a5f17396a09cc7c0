"""Every bad input of the issue gives a clear, located error — and loses nothing else."""

from __future__ import annotations

import csv
from decimal import Decimal

from koppeling.convert import StratoOptions, convert_strato
from koppeling.convert.summary import EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE


def convert(tmp_path, **kwargs):
    out = tmp_path / "out"
    return convert_strato(out_dir=out, options=kwargs.pop("options", StratoOptions()), **kwargs), out


def invoice_numbers(out):
    numbers = set()
    for path in out.glob("Acumulus*Facturen.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            numbers |= {row["Ordernummer"] for row in csv.DictReader(fh, delimiter=";")}
    return numbers


def only_error(summary):
    errors = [i for i in summary.issues if i.severity == "error"]
    assert len(errors) == 1, errors
    return errors[0]


def test_truncated_xml_converts_everything_before_the_break(tmp_path, build):
    text = build.document(build.order("1"), build.order("2"), build.order("3"))
    cut = text.rindex("<LineItems>")  # break inside the third order
    path = build.write(tmp_path, "Bestellingen.xml", text[:cut])
    summary, out = convert(tmp_path, orders=path)
    assert summary.exit_code == EXIT_REJECTED
    assert invoice_numbers(out) == {"1", "2"}
    issue = only_error(summary)
    assert issue.field == "xml" and issue.line is not None and issue.line > 1
    assert "2 complete order(s)" in issue.reason


def test_not_well_formed_xml_is_reported_where_it_breaks(tmp_path, build):
    bad = build.order("2").replace("<City>Utrecht</City>", "<City>Utrecht</Stad>")
    path = build.write(tmp_path, "Bestellingen.xml", build.document(build.order("1"), bad, build.order("3")))
    summary, out = convert(tmp_path, orders=path)
    assert summary.exit_code == EXIT_REJECTED
    assert invoice_numbers(out) == {"1"}
    issue = only_error(summary)
    assert issue.line and "not well-formed" in issue.reason


def test_windows_1252_xml_declared_utf8_is_read_with_a_warning(tmp_path, build):
    text = build.document(build.order("1"), build.order("2", last_name="Müller-Lüdenscheidt"))
    path = build.write(tmp_path, "Bestellingen.xml", text, encoding="cp1252")
    summary, out = convert(tmp_path, orders=path)
    assert summary.exit_code == EXIT_OK
    assert invoice_numbers(out) == {"1", "2"}
    warning = next(i for i in summary.issues if i.field == "encoding")
    assert warning.line and warning.line > 10 and "Windows-1252" in warning.reason
    assert "Müller-Lüdenscheidt" in next(out.glob("*.csv")).read_text(encoding="utf-8")


def test_windows_1252_customers_are_read_with_a_warning(tmp_path, build):
    path = build.write(
        tmp_path,
        "Klanten.csv",
        "Kundennummer;Vorname;Nachname;Ort\n1;Jürgen;Müller;Köln\n",
        encoding="cp1252",
    )
    summary, out = convert(tmp_path, customers=path)
    assert summary.exit_code == EXIT_OK
    assert "Jürgen Müller" in (out / "AcumulusKlanten.csv").read_text(encoding="utf-8")
    assert any(i.field == "encoding" and i.line == 2 for i in summary.issues)


def test_missing_required_fields_reject_that_order_only(tmp_path, build):
    orders = [
        build.order("1"),
        build.order(None),  # no order number
        build.order("3", date=None),
        build.order("4", grand=None),
        build.order("5", lines=(("S", "x", "1", "10.00", None, "10.00"),), grand="10.00"),  # no VAT rate
        build.order("6", lines=(("S", "x", None, "10.00", "21", "10.00"),), grand="10.00"),  # no quantity
        build.order("7"),
    ]
    path = build.write(tmp_path, "Bestellingen.xml", build.document(*orders))
    summary, out = convert(tmp_path, orders=path)
    assert summary.exit_code == EXIT_REJECTED
    assert invoice_numbers(out) == {"1", "7"}
    fields = {(i.record, i.field) for i in summary.issues if i.severity == "error"}
    assert fields == {
        ("", "OrderNumber"),
        ("3", "CreationDate"),
        ("4", "GrandTotal"),
        ("5", "TaxRate"),
        ("6", "Quantity"),
    }
    assert all("missing required field" in i.reason for i in summary.issues)
    assert all(i.line and i.element.startswith("Order #") for i in summary.issues)


def test_comma_decimals_and_thousands_separators(tmp_path, build):
    orders = [
        build.order("1", lines=(("S", "x", "1", "34,50", "21", "34,50"),), grand="34,50"),
        build.order("2", lines=(("S", "x", "1", "1.234,50", "21", "1.234,50"),), grand="1.234,50"),
        build.order("3", lines=(("S", "x", "1", "1,234.50", "21", "1,234.50"),), grand="1,234.50"),
        build.order("4", lines=(("S", "x", "1", "1,234", "21", "1,234"),), grand="1,234"),  # ambiguous
    ]
    path = build.write(tmp_path, "Bestellingen.xml", build.document(*orders))
    summary, out = convert(tmp_path, orders=path)
    assert summary.exit_code == EXIT_REJECTED
    assert invoice_numbers(out) == {"1", "2", "3"}
    assert summary.input_total_inc == Decimal("34.50") + Decimal("1234.50") * 2
    warnings = [i for i in summary.issues if i.severity == "warning"]
    assert {i.record for i in warnings} == {"1", "2", "3"}
    assert any("decimal comma" in i.reason for i in warnings)
    assert any("thousands" in i.reason for i in warnings)
    errors = [i for i in summary.issues if i.severity == "error"]
    assert {(e.record, e.field, e.value) for e in errors} == {
        ("4", "UnitPrice", "1,234"),
        ("4", "LineTotal", "1,234"),
        ("4", "GrandTotal", "1,234"),
    }
    assert all("ambiguous" in e.reason and e.line for e in errors)


def test_negative_quantity_is_rejected(tmp_path, build):
    orders = [
        build.order("1"),
        build.order("2", lines=(("S", "x", "-2", "10.00", "21", "-20.00"),), grand="-20.00"),
    ]
    path = build.write(tmp_path, "Bestellingen.xml", build.document(*orders))
    summary, out = convert(tmp_path, orders=path)
    assert invoice_numbers(out) == {"1"}
    error = only_error(summary)
    assert (error.record, error.field, error.value) == ("2", "Quantity", "-2")
    assert "negative quantity" in error.reason and "LineItem[1]" in error.element


def test_unknown_vat_rate_is_rejected(tmp_path, build):
    orders = [
        build.order("1"),
        build.order("2", lines=(("S", "x", "1", "10.00", "17", "10.00"),), grand="10.00"),
    ]
    path = build.write(tmp_path, "Bestellingen.xml", build.document(*orders))
    summary, out = convert(tmp_path, orders=path)
    assert invoice_numbers(out) == {"1"}
    error = only_error(summary)
    # (the reason is now core's own text; 19% would be refused as NL's rate that ended in 2012)
    assert (error.record, error.field, error.value) == ("2", "TaxRate", "17")
    assert "17% is not a NL VAT rate" in error.reason


def test_german_rate_is_fine_for_a_german_consumer(tmp_path, build):
    order = build.order("1", lines=(("S", "x", "1", "11.90", "19", "11.90"),), grand="11.90", country="DE")
    summary, out = convert(tmp_path, orders=build.write(tmp_path, "B.xml", build.document(order)))
    assert summary.exit_code == EXIT_OK
    row = next(out.glob("*.csv")).read_text(encoding="utf-8").splitlines()[1].split(";")
    assert row[11] == "6"  # EU VAT (OSS)


def test_duplicate_order_number_keeps_the_first(tmp_path, build):
    orders = [
        build.order("1"),
        build.order("2"),
        build.order("1", grand="99.00", lines=(("S", "x", "1", "99.00", "21", "99.00"),)),
    ]
    path = build.write(tmp_path, "Bestellingen.xml", build.document(*orders))
    summary, out = convert(tmp_path, orders=path)
    assert invoice_numbers(out) == {"1", "2"}
    assert summary.input_total_inc == Decimal("69.00")
    error = only_error(summary)
    assert (error.record, error.field) == ("1", "OrderNumber") and "more than once" in error.reason
    assert error.element == "Order #3"


def test_lines_that_do_not_add_up_are_rejected(tmp_path, build):
    orders = [build.order("1"), build.order("2", grand="40.00")]
    summary, out = convert(tmp_path, orders=build.write(tmp_path, "B.xml", build.document(*orders)))
    assert invoice_numbers(out) == {"1"}
    assert "add up to €34.50" in only_error(summary).reason


def test_empty_files_are_unusable(tmp_path, build):
    xml = build.write(tmp_path, "Bestellingen.xml", b"")
    customers = build.write(tmp_path, "Klanten.csv", b"\xef\xbb\xbf\r\n")
    summary, out = convert(tmp_path, orders=xml, customers=customers)
    assert summary.exit_code == EXIT_UNUSABLE
    assert [i.reason for i in summary.issues] == ["the file is empty", "the file is empty"]
    assert not list(out.glob("Acumulus*"))


def test_a_pdf_renamed_to_xml_is_unusable_and_the_customers_still_convert(tmp_path, build):
    pdf = build.write(
        tmp_path, "Bestellingen.xml", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"
    )
    customers = build.write(tmp_path, "Klanten.csv", "Vorname;Nachname\nAnna;Visser\n")
    summary, out = convert(tmp_path, orders=pdf, customers=customers)
    assert summary.exit_code == EXIT_UNUSABLE
    assert "PDF" in only_error(summary).reason
    assert "Anna Visser" in (out / "AcumulusKlanten.csv").read_text(encoding="utf-8")


def test_xml_that_is_not_an_orders_export_is_unusable(tmp_path, build):
    path = build.write(
        tmp_path, "Bestellingen.xml", "<?xml version='1.0'?><html><body><p>hi</p></body></html>"
    )
    summary, _ = convert(tmp_path, orders=path)
    assert summary.exit_code == EXIT_UNUSABLE
    assert "no order elements" in only_error(summary).reason


def test_text_that_is_not_xml_is_unusable(tmp_path, build):
    summary, _ = convert(tmp_path, orders=build.write(tmp_path, "B.xml", "Ordernummer;Datum\n1;2024-01-01\n"))
    assert summary.exit_code == EXIT_UNUSABLE
    assert "not an XML file" in only_error(summary).reason


def test_csv_that_is_not_a_customers_export_is_unusable(tmp_path, build):
    summary, _ = convert(tmp_path, customers=build.write(tmp_path, "K.csv", "Artikel;Preis\nTee;3.50\n"))
    assert summary.exit_code == EXIT_UNUSABLE
    assert "no name or company column" in only_error(summary).reason


def test_formula_injection_in_names_is_neutralised(tmp_path, build):
    order = build.order("1", company="=cmd|' /C calc'!A0", last_name='+HYPERLINK("http://x")')
    summary, out = convert(tmp_path, orders=build.write(tmp_path, "B.xml", build.document(order)))
    assert summary.exit_code == EXIT_OK
    with next(out.glob("*.csv")).open(encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh, delimiter=";"))
    assert row["Bedrijfsnaam"] == "'=cmd|' /C calc'!A0"
    assert row["Naam"] == 'Kees +HYPERLINK("http://x")'  # not at the start of the cell: not a formula
    customers = build.write(tmp_path, "K.csv", 'Voornaam;Achternaam;Bedrijf\n"-2+3";"@SUM(A1)";"\tx"\n')
    # a second run into the same folder must replace the first one's files (never mix them)
    convert_strato(customers=customers, out_dir=out, options=StratoOptions(replace=True))
    with (out / "AcumulusKlanten.csv").open(encoding="utf-8", newline="") as fh:
        rel = next(csv.DictReader(fh, delimiter=";"))
    assert rel["Naam"] == "-2+3 @SUM(A1)" or rel["Naam"].startswith("'")
    assert rel["Bedrijfsnaam"] == "x"  # trimmed


def test_customer_rows_with_problems_are_located(tmp_path, build):
    text = (
        "Klantnummer;Voornaam;Achternaam;Plaats\n1;Anna;Visser;Delft\n2;;;Gouda\n"
        "3;Bob;de Boer;Ede;extra\n1;Dup;Licate;Zeist\n"
    )
    summary, out = convert(tmp_path, customers=build.write(tmp_path, "Klanten.csv", text))
    assert summary.exit_code == EXIT_REJECTED
    errors = {(i.line, i.field) for i in summary.issues if i.severity == "error"}
    assert errors == {(3, "name"), (4, "row"), (5, "customer_number")}
    rows = (out / "AcumulusKlanten.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2 and rows[1].startswith("1;;Anna Visser;")
