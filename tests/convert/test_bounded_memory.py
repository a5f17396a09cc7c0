"""Review fixes: memory stays bounded on odd order numbers and many payment methods; every text
cell of the errors file is neutralised, the file name included."""

from __future__ import annotations

import csv
import tracemalloc

from koppeling.convert import StratoOptions, convert_strato
from koppeling.convert.methods import SeenNumbers
from koppeling.convert.strato_orders import MAX_INVOICE_FILES, OTHER_METHOD


def test_a_large_order_number_costs_no_large_bitmap():
    tracemalloc.start()
    try:
        seen = SeenNumbers()
        for number in ("999999999", "A999999999", "B16777216"):
            assert seen.add(number) and not seen.add(number)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # was 375 MB: a bitmap up to the number


def test_many_prefixes_fall_back_to_the_set():
    seen = SeenNumbers()
    numbers = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}{i + 1}" for i in range(200)]
    assert all(seen.add(n) for n in numbers)
    assert not any(seen.add(n) for n in numbers)
    assert len(seen._bits) <= SeenNumbers.MAX_PREFIXES


def test_non_ascii_digits_are_not_the_same_number():
    seen = SeenNumbers()
    assert seen.add("A12")
    assert seen.add("A\u0661\u0662")  # Arabic-Indic 12: a different order number
    assert not seen.add("A12")


def test_many_payment_methods_stay_within_a_bounded_number_of_files(tmp_path, build):
    n = MAX_INVOICE_FILES + 10
    doc = build.document(*(build.order(str(1000 + i), method=f"Methode {i}") for i in range(n)))
    out = tmp_path / "out"
    summary = convert_strato(orders=build.write(tmp_path, "B.xml", doc), out_dir=out, options=StratoOptions())
    files = list(out.glob("Acumulus*Facturen.csv"))
    assert len(files) == MAX_INVOICE_FILES + 1
    assert (out / f"Acumulus{OTHER_METHOD}Facturen.csv").is_file()
    assert sum(o.records for o in summary.invoice_outputs) == n and summary.totals_match
    warned = [i for i in summary.issues if i.field == "PaymentMethod"]
    assert len(warned) == n - MAX_INVOICE_FILES and warned[0].severity == "warning"


def test_errors_file_neutralises_the_file_name(tmp_path, build):
    path = build.write(tmp_path, "B.xml", build.document(build.order("1", grand="99.00")))
    out = tmp_path / "out"
    convert_strato(orders=path, out_dir=out, orders_label='=HYPERLINK("http://x").xml')
    with (out / "conversion-errors.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert rows and all(r["file"].startswith("'=") for r in rows)
