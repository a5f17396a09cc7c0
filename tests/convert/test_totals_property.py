"""Property: whatever the orders, the invoice files add up to the orders' own totals, to the cent.

Orders are generated with random lines (quantities, prices with 2-4 decimals, NL rates, gross or
net), shipping, discounts and payment methods; their stated totals are computed independently
here (per line VAT rounded half-up — the documented rule). The output CSVs are read back and
summed column by column.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koppeling.convert import StratoOptions, convert_strato

CENT = Decimal("0.01")
RATES = ("0", "9", "21")
METHODS = ("PayPal", "iDEAL", "Vorkasse", "Kreditkarte", "Op rekening", "")

line_st = st.tuples(
    st.integers(1, 50),  # quantity
    st.integers(1, 50_000),  # unit price in cents
    st.sampled_from(RATES),
)
order_st = st.fixed_dictionaries(
    {
        "lines": st.lists(line_st, min_size=1, max_size=5),
        "shipping": st.sampled_from([None, 0, 495, 695]),
        "discount": st.sampled_from([None, 100, 250]),
        "method": st.sampled_from(METHODS),
        "gross": st.booleans(),
        "state_tax": st.booleans(),
    }
)


def _vat(amount: Decimal, rate: Decimal, gross: bool) -> Decimal:
    base = amount * rate / (100 + rate) if gross else amount * rate / 100
    return base.quantize(CENT, ROUND_HALF_UP)


def render(number: int, spec: dict, build) -> tuple[str, Decimal, Decimal]:
    gross = spec["gross"]
    lines, inc, vat = [], Decimal(0), Decimal(0)
    entries = [(q, Decimal(c) / 100, r) for q, c, r in spec["lines"]]
    for q, unit, r in entries:
        total = unit * q
        lines.append((f"SKU{q}", f"Product {unit}", str(q), str(unit), r, str(total)))
    extra = ""
    amounts = [(unit * q, Decimal(r)) for q, unit, r in entries]
    if spec["shipping"] is not None:
        ship = Decimal(spec["shipping"]) / 100
        extra += f"<ShippingLineItem><Price>{ship}</Price><TaxRate>21</TaxRate></ShippingLineItem>"
        amounts.append((ship, Decimal(21)))
    if spec["discount"] is not None:
        disc = -Decimal(spec["discount"]) / 100
        extra += f"<DiscountLineItem><Price>{disc}</Price><TaxRate>21</TaxRate></DiscountLineItem>"
        amounts.append((disc, Decimal(21)))
    for amount, rate in amounts:
        line_vat = _vat(amount, rate, gross)
        vat += line_vat
        inc += amount if gross else amount + line_vat
    xml = build.order(
        str(number),
        lines=lines,
        grand=str(inc),
        method=spec["method"],
        extra=extra,
        tax_model="gross" if gross else "net",
        total_tax=str(vat) if spec["state_tax"] else None,
    )
    return xml, inc, vat


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(order_st, min_size=1, max_size=12))
def test_output_totals_equal_input_totals(tmp_path_factory, build, specs):
    tmp = tmp_path_factory.mktemp("prop")
    parts, want_inc, want_vat = [], Decimal(0), Decimal(0)
    for n, spec in enumerate(specs, 1):
        xml, inc, vat = render(n, spec, build)
        parts.append(xml)
        want_inc += inc
        want_vat += vat
    path = build.write(tmp, "Bestellingen.xml", build.document(*parts))
    summary = convert_strato(orders=path, out_dir=tmp / "out", options=StratoOptions(prefix="WB"))
    assert summary.exit_code == 0, summary.issues
    assert summary.totals_match
    # what the customers paid is booked to the cent; the VAT is Acumulus's own per-line computation
    # of the fitted lines (round(amount excl. × rate) per line, rounding per line is allowed:
    # Art. 73 VAT Directive, Belastingdienst "afronden per factuurregel"), so it may differ from the
    # shop's by a cent on some lines
    lines = sum(len(spec["lines"]) + 2 for spec in specs)
    assert summary.input_total_inc == want_inc
    assert abs(summary.input_total_vat - want_vat) <= CENT * lines
    # read the files back: per file and overall, line sums equal the stated totals
    got_ex = got_vat = got_inc = Decimal(0)
    invoices = set()
    for report in summary.invoice_outputs:
        f_ex = f_vat = f_inc = Decimal(0)
        per_invoice: dict[str, Decimal] = {}
        stated: dict[str, Decimal] = {}
        with (tmp / "out" / report.file).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                ex, vat, inc = (
                    Decimal(row[k]) for k in ("Bedrag excl. btw", "Btw-bedrag", "Bedrag incl. btw")
                )
                assert ex + vat == inc
                f_ex += ex
                f_vat += vat
                f_inc += inc
                per_invoice[row["Ordernummer"]] = per_invoice.get(row["Ordernummer"], Decimal(0)) + inc
                stated[row["Ordernummer"]] = Decimal(row["Factuurtotaal incl. btw"])
        assert per_invoice == stated  # every invoice's lines add up to its total
        assert (f_ex, f_vat, f_inc) == (report.total_ex, report.total_vat, report.total_inc)
        assert len(per_invoice) == report.records
        invoices |= set(per_invoice)
        got_ex += f_ex
        got_vat += f_vat
        got_inc += f_inc
    assert (got_inc, got_vat, got_ex) == (
        want_inc,
        summary.input_total_vat,
        want_inc - summary.input_total_vat,
    )
    assert invoices == {f"WB{n}" for n in range(1, len(specs) + 1)}
