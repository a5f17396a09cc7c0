"""Rate data (sources, ended rates, sub-categories), territories, the OSS threshold, ECB parsing,
fee allocation and the EN 16931 VAT breakdown."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koppeling.core import territories, vat
from koppeling.core.errors import RuleError
from koppeling.core.exchange import ExchangeRateError, parse_ecb_xml
from koppeling.core.invoicing import InvoiceSettings, order_to_invoice
from koppeling.core.models import LineKind, Order, OrderLine, Party
from koppeling.core.oss import oss_status
from koppeling.core.regime import check_vat_number


def test_vat_rates_every_rate_has_a_source():
    doc = json.loads(resources.files("koppeling.core").joinpath("vat_rates.json").read_text("utf-8"))
    missing = [
        (code, entry["rate"], entry["valid_from"])
        for code, country in doc["countries"].items()
        for entry in country["rates"]
        if not str(entry.get("source", "")).strip()
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("country", "rate", "last_day"),
    [
        ("NL", D(6), dt.date(2018, 12, 31)),
        ("EE", D(22), dt.date(2025, 6, 30)),
        ("RO", D(19), dt.date(2025, 7, 31)),
    ],
)
def test_rate_for_refuses_an_ended_rate_after_its_end(country, rate, last_day):
    # given a rate that ended / then it is known on its last day and refused the day after
    assert rate in vat.known_rates(country, last_day)
    assert rate not in vat.known_rates(country, last_day + dt.timedelta(days=1))
    assert vat.ended_on(country, rate, last_day + dt.timedelta(days=1)) == last_day


def test_rate_for_2026_changes_and_sub_categories():
    new_year = dt.date(2026, 1, 1)
    # NL: hotels 21% from 2026, camping pitches stay at 9% (Belastingplan 2025)
    assert vat.rate_for("NL", "accommodation", new_year) == D(21)
    assert vat.rate_for("NL", "camping", new_year) == D(9)
    # a country without a camping rate of its own: its accommodation rate
    assert vat.rate_for("BE", "camping", new_year) == vat.rate_for("BE", "accommodation", new_year)
    # FI: the 14% group at 13.5% from 2026-01-01 (books, food, accommodation, culture)
    assert {vat.rate_for("FI", c, new_year) for c in ("food", "books", "accommodation", "culture")} == {
        D("13.5")
    }
    assert vat.rate_for("FI", "books", dt.date(2025, 6, 1)) == D(14)


@pytest.mark.parametrize(
    ("country", "postcode", "inside", "vat_country"),
    [
        ("ES", "38001", False, "ES"),
        ("ES", "51001", False, "ES"),
        ("FR", "97400", False, "FR"),
        ("DE", "27498", False, "DE"),
        ("IT", "23041", False, "IT"),
        ("GR", "63086", False, "GR"),
        ("FI", "22100", False, "FI"),
        ("MC", "98000", True, "FR"),
        ("XI", "BT1 1AA", True, "XI"),
        ("DE", "10115", None, "DE"),
    ],
)
def test_resolve_special_territories(country, postcode, inside, vat_country):
    territory = territories.resolve(country, postcode)
    assert (territory.in_eu_vat_area, territory.vat_country) == (inside, vat_country)


def test_check_vat_number_refuses_placeholders():
    valid, problem = check_vat_number("DE000000000", "DE")
    assert not valid and problem is not None


def test_oss_status_crossing_counts_from_that_sale():
    # given 9,950 this year (ledger 9,000 + starting figure 950) and nothing last year
    ledger = {2026: D("9000")}
    # when a sale of 40 / of 60 comes in / then below, then past the threshold (from that sale on)
    assert not oss_status(ledger, D("950"), year=2026, sale_amount=D("40")).past_threshold
    assert oss_status(ledger, D("950"), year=2026, sale_amount=D("60")).past_threshold
    # and last year's total above the threshold makes every sale of this year destination-taxed
    assert oss_status({2025: D("10000.01")}, year=2026).past_threshold


def test_parse_ecb_xml_refuses_what_is_not_a_feed():
    with pytest.raises(ExchangeRateError):
        parse_ecb_xml(b"<html/>")
    with pytest.raises(ExchangeRateError):
        parse_ecb_xml(b"not xml")


@settings(max_examples=200, deadline=None)
@given(
    goods=st.lists(st.tuples(st.integers(1, 100_000), st.sampled_from([21, 9])), min_size=2, max_size=5),
    fee=st.integers(-5_000, 5_000).filter(bool),
    kind=st.sampled_from([LineKind.SHIPPING, LineKind.PAYMENT_FEE, LineKind.DISCOUNT]),
    highest=st.booleans(),
)
def test_order_to_invoice_fee_allocation_preserves_totals(goods, fee, kind, highest):
    # given goods at mixed rates and a fee or discount without a rate
    lines = [OrderLine(LineKind.PRODUCT, "P", unit_price_inc=D(c) / 100, vat_rate=D(r)) for c, r in goods]
    lines.append(OrderLine(kind, "fee", unit_price_inc=D(fee) / 100))
    total = sum((D(c) for c, _ in goods), D(0)) / 100 + D(fee) / 100
    order = Order("1", "1", dt.date(2026, 3, 2), Party(), tuple(lines), total)
    allocation = "highest" if highest else "proportional"
    try:
        invoice = order_to_invoice(order, InvoiceSettings(fee_allocation=allocation))
    except RuleError:
        return  # e.g. a discount larger than the goods at one rate cannot be split: stopped, not guessed
    # then the fee's parts add up to the fee exactly, and the invoice to what was paid
    parts = [line for line in invoice.lines if line.kind == kind]
    assert sum((p.total_inc for p in parts), D(0)) == D(fee) / 100
    assert invoice.total_inc == total


def test_vat_breakdown_from_summed_net_amounts():
    lines = (
        OrderLine(LineKind.PRODUCT, "a", unit_price_ex=D("0.33"), vat_rate=D(21), quantity=D(1)),
        OrderLine(LineKind.PRODUCT, "b", unit_price_ex=D("0.33"), vat_rate=D(21), quantity=D(1)),
    )
    invoice = order_to_invoice(Order("1", "1", dt.date(2026, 3, 2), Party(), lines, D("0.80")))
    (row,) = invoice.vat_breakdown()
    # EN 16931 BR-CO-17: VAT = round(Σ net × rate) = round(0.66 × 21%) = 0.14
    assert (row.category, row.rate, row.taxable, row.vat) == ("S", D(21), D("0.66"), D("0.14"))
