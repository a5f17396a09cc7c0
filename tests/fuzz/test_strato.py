"""The Strato converter with one odd order or customer among good ones (XML and CSV), and with
arbitrary bytes: it never raises (everything is in its summary), and the good ones are converted."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import event, given
from hypothesis import strategies as st
from tests.convert.conftest import order_xml, orders_document
from tests.fuzz.strategies import FUZZ, ODD_TEXT

from koppeling.connectors.strato.customers import CustomerReader
from koppeling.convert import StratoOptions, convert_strato

DATA = Path(__file__).resolve().parents[1] / "data" / "strato"

#: any text an element or a cell could hold (escaped when written: the file stays well-formed)
VALUES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=25
) | ODD_TEXT.filter(lambda t: "\x00" not in t)
DECIMALS = st.sampled_from(["1.21", "0", "-5", "1,21", "1e3", "1.2.3", "", " 34.50 ", "9" * 20, "1e30"])
FIELDS = ("number", "date", "grand", "method", "country", "company", "last_name", "tax_model", "total_tax")


def _xml_safe(text: str) -> str:
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


@st.composite
def odd_orders(draw: st.DrawFn) -> str:
    """Order "2" with some of its fields and line values replaced by odd text."""
    changes = draw(st.dictionaries(st.sampled_from(FIELDS[1:]), VALUES | DECIMALS, max_size=4))
    changes = {k: _xml_safe(v) for k, v in changes.items()}
    keep = ("SKU-1", "Theepot", "1", "34.50", "21", "34.50")
    line = [draw(st.one_of(st.just(k), st.just(k), st.just(k), st.none(), VALUES, DECIMALS)) for k in keep]
    lines = (tuple(_xml_safe(v) if v is not None else None for v in line),)
    kwargs = {
        k: v for k, v in changes.items() if k not in ("date", "grand", "country", "tax_model", "total_tax")
    }
    text = order_xml(number="2", lines=lines, **kwargs)
    for name, tag in (("date", "CreationDate"), ("grand", "GrandTotal"), ("country", "CountryID")):
        if name in changes:  # order_xml writes these unescaped: put the odd value in escaped
            from xml.sax.saxutils import escape

            start, end = text.index(f"<{tag}>") + len(tag) + 2, text.index(f"</{tag}>")
            text = text[:start] + escape(changes[name]) + text[end:]
    return text


def _converted(out: Path) -> set[str]:
    numbers: set[str] = set()
    for path in out.glob("Acumulus*Facturen.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            numbers |= {row["Ordernummer"] for row in csv.DictReader(fh, delimiter=";")}
    return numbers


def _convert(**sources) -> tuple[object, set[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        summary = convert_strato(out_dir=out, options=StratoOptions(), **sources)
        return summary, _converted(out)


@FUZZ
@given(odd=odd_orders())
def test_one_odd_order_among_good_ones(odd):
    document = orders_document(order_xml(number="1"), odd, order_xml(number="3"))
    summary, converted = _convert(orders=io.BytesIO(document.encode()), orders_label="Bestellingen.xml")
    assert {"1", "3"} <= converted, summary.issues
    event("odd order: " + ("converted" if "2" in converted else "refused"))
    if "2" not in converted:
        assert any("2" in (issue.record or "") or issue.line for issue in summary.issues)


def test_a_huge_amount_is_refused_not_raised():
    odd = order_xml(number="2", lines=((None, None, "1", "9" * 40, "0", None),))
    document = orders_document(order_xml(number="1"), odd, order_xml(number="3"))
    summary, converted = _convert(orders=io.BytesIO(document.encode()), orders_label="Bestellingen.xml")
    assert converted == {"1", "3"} and summary.error_count == 1


@FUZZ
@given(data=st.binary(max_size=400), at=st.integers(0, 10_000))
def test_arbitrary_bytes_in_the_orders_file_never_raise(data, at):
    good = orders_document(order_xml(number="1"), order_xml(number="2")).encode()
    at %= len(good)
    summary, converted = _convert(orders=io.BytesIO(good[:at] + data + good[at:]), orders_label="B.xml")
    # nothing lost silently: either both orders are there, or the summary says what went wrong
    assert len(converted) == 2 or summary.error_count or summary.issues, converted


def _customers_csv(rows: list[list[str]]) -> bytes:
    sample = (DATA / "Klanten.csv").read_text(encoding="utf-8-sig").splitlines()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quotechar='"', lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(next(csv.reader([sample[0]], delimiter=";")))
    writer.writerows(rows)
    return out.getvalue().encode()


def _good_rows() -> list[list[str]]:
    sample = (DATA / "Klanten.csv").read_text(encoding="utf-8-sig").splitlines()
    return [next(csv.reader([line], delimiter=";")) for line in sample[1:4]]


@FUZZ
@given(data=st.data())
def test_one_odd_customer_among_good_ones(data):
    rows = _good_rows()
    middle = list(rows[1])
    for index in data.draw(st.sets(st.integers(0, len(middle) - 1), min_size=1, max_size=4)):
        middle[index] = data.draw(VALUES)
    rows[1] = middle
    read = list(CustomerReader(io.BytesIO(_customers_csv(rows)), "Klanten.csv"))
    blank = not any(cell.strip() for cell in middle)
    assert len(read) == (2 if blank else 3), read  # one result per data row: none lost, none made up
    first, *odd, last = read
    assert first.customer is not None and first.customer.customer_number == rows[0][0].strip()
    assert last.customer is not None and last.customer.customer_number == rows[2][0].strip()
    event("odd customer: " + ("blank" if blank else "read" if odd[0].customer else "refused"))
    if odd and odd[0].customer is None:
        assert odd[0].issues and all(issue.reason for issue in odd[0].issues)


@FUZZ
@given(data=st.binary(max_size=300), at=st.integers(0, 10_000))
def test_arbitrary_bytes_in_the_customers_file_never_raise(data, at):
    good = _customers_csv(_good_rows())
    at %= len(good)
    summary, _ = _convert(customers=io.BytesIO(good[:at] + data + good[at:]), customers_label="Klanten.csv")
    assert summary.error_count >= 0
