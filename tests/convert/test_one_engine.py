"""The converter is read → core order → core rules → Acumulus writer: what that changes for files."""

from __future__ import annotations

import csv
from decimal import Decimal

from koppeling.convert import StratoOptions, convert_strato
from koppeling.convert.summary import EXIT_REJECTED, EXIT_UNUSABLE


def convert(tmp_path, path, **options):
    out = tmp_path / "out"
    return convert_strato(orders=path, out_dir=out, options=StratoOptions(**options)), out


def rows(out):
    found = []
    for path in sorted(out.glob("Acumulus*Facturen.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            found.extend(csv.DictReader(fh, delimiter=";"))
    return found


def test_convert_strato_reads_the_epages_shape(tmp_path, build):
    # given the real ePages 6 shape: numeric CountryID, lines in LineItemContainer, an empty PaidOn
    order = build.order("1", country="276", extra="<PaidOn></PaidOn>").replace(
        "LineItems>", "LineItemContainer>"
    )
    _summary, out = convert(tmp_path, build.write(tmp_path, "B.xml", build.document(order)))
    # then it is read: Germany, and due (not paid) because PaidOn is empty
    (row,) = rows(out)
    assert (row["Landcode"], row["Betaalstatus"], row["Betaaldatum"]) == ("DE", "1", "")


def test_convert_strato_does_not_book_cancelled_orders(tmp_path, build):
    # given a cancelled order beside a paid one
    cancelled = build.order("2", extra="<Status>Storniert</Status>")
    summary, out = convert(
        tmp_path, build.write(tmp_path, "B.xml", build.document(build.order("1"), cancelled))
    )
    # then only the paid one is booked; the cancelled one is reported, not booked as paid or due
    assert {r["Ordernummer"] for r in rows(out)} == {"1"}
    assert any(i.record == "2" and "cancelled" in i.reason for i in summary.issues)


def test_convert_strato_spreads_a_basket_discount_over_the_rates(tmp_path, build):
    # given goods at 21% and 9% and a discount without a rate
    lines = (("A", "pot", "1", "34.50", "21", "34.50"), ("B", "thee", "1", "10.90", "9", "10.90"))
    discount = "<DiscountLineItem><Name>Korting</Name><Price>-4.54</Price></DiscountLineItem>"
    order = build.order("1", lines=lines, extra=discount, grand="40.86")
    summary, out = convert(tmp_path, build.write(tmp_path, "B.xml", build.document(order)))
    # then the discount is split in proportion (34.50 : 10.90) over both rates, to the cent
    parts = [(r["Btw-tarief"], Decimal(r["Bedrag incl. btw"])) for r in rows(out) if r["Soort"] == "Korting"]
    assert parts == [("21", Decimal("-3.45")), ("9", Decimal("-1.09"))]
    assert summary.exit_code == 0 and summary.input_total_inc == Decimal("40.86")


def test_convert_strato_placeholder_vat_number_is_no_icp(tmp_path, build):
    # given 0% to a German "business" with DE000000000
    order = build.order(
        "1", country="DE", company="X GmbH", lines=(("A", "x", "1", "100.00", "0", "100.00"),), grand="100.00"
    )
    order = order.replace("</CountryID>", "</CountryID><VATID>DE000000000</VATID>")
    summary, out = convert(tmp_path, build.write(tmp_path, "B.xml", build.document(order)))
    # then it is refused: an ICP needs a valid number; nothing is booked at 0%
    assert summary.exit_code == EXIT_REJECTED and rows(out) == []


def test_convert_strato_repairs_a_stray_windows_1252_byte_per_record(tmp_path, build):
    # given a UTF-8 file (é, ü) with one stray Windows-1252 byte (0xE9) in the second order's name
    good = build.order("1", last_name="Müller").encode("utf-8")
    bad = build.order("2", last_name="Caf\x00").encode("utf-8").replace(b"\x00", b"\xe9")
    document = build.document("@@1", "@@2").encode("utf-8").replace(b"@@1", good).replace(b"@@2", bad)
    summary, out = convert(tmp_path, build.write(tmp_path, "B.xml", document))
    # then both orders are converted, the UTF-8 name intact and the stray byte read as "é";
    # the warning names the order it was in, not the file
    names = {r["Ordernummer"]: r["Naam"] for r in rows(out)}
    assert names == {"1": "Kees Müller", "2": "Kees Café"}
    (warning,) = [i for i in summary.issues if i.field == "encoding"]
    assert warning.record == "2"


def test_convert_strato_refuses_an_output_folder_of_an_earlier_run(tmp_path, build):
    path = build.write(tmp_path, "B.xml", build.document(build.order("1")))
    convert(tmp_path, path)
    # given the files of the first run / when converting again into the same folder
    again, out = convert(tmp_path, path)
    # then refused (never mixed); with replace the old files are removed first
    assert again.exit_code == EXIT_UNUSABLE
    replaced, _ = convert(tmp_path, path, replace=True)
    assert replaced.exit_code == 0 and len(rows(out)) == 1
