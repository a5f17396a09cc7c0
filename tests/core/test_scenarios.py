"""The scenario matrix: one order per case, each expected outcome written out by hand with its source.

Every booked scenario is also pushed through every target computation that exists (each
``TotalsMethod``'s simulator and the Acumulus connector's own ``invoice_add`` lines): each books
exactly what the customer paid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from koppeling.connectors.acumulus.client import AcumulusTarget, acumulus_totals
from koppeling.connectors.base import ConnectionConfig
from koppeling.core.codes import RegimeCode, RuleCode, WarningCode
from koppeling.core.errors import RuleError
from koppeling.core.facts import (
    ExchangeRate,
    InvoiceFacts,
    OriginalInvoice,
    OssPosition,
    VatCheckStatus,
    VatNumberCheck,
)
from koppeling.core.fitting import booked_totals
from koppeling.core.invoicing import InvoiceSettings, check_invoice, order_to_invoice
from koppeling.core.models import DocumentType, LineKind, Order, OrderLine, Party, VatRegime
from koppeling.core.totals import TotalsMethod

ON = dt.date(2026, 3, 2)
CHECKED = dt.datetime(2026, 3, 2, 9, 30)
DE_B2B = Party(company="Teekontor GmbH", country_code="DE", vat_number="DE136695976")
ABOVE = InvoiceFacts(oss=OssPosition(True, D("12500"), D("8000")))
BELOW = InvoiceFacts(oss=OssPosition(False, D("2500"), D("3000")))


def vies(status: VatCheckStatus) -> InvoiceFacts:
    return InvoiceFacts(
        vat_check=VatNumberCheck("DE136695976", status, CHECKED, "WAPIAAAAZ7UJ5F2N", detail="MS_UNAVAILABLE")
    )


def p(
    inc: str,
    rate: int | None = None,
    *,
    qty: int = 1,
    category: str = "",
    nature: str = "",
    kind=LineKind.PRODUCT,
    **kw,
):
    return OrderLine(
        kind,
        kind.value,
        D(qty),
        unit_price_inc=D(inc),
        vat_rate=None if rate is None else D(rate),
        vat_category=category,
        nature=nature,
        **kw,
    )


def order(*lines, total: str, customer: Party | None = None, on: dt.date = ON, **kw) -> Order:
    return Order(
        "o",
        "1001",
        on,
        customer or Party(name="An", country_code="NL"),
        tuple(lines),
        D(total),
        paid=True,
        **kw,
    )


def rates(invoice) -> list[tuple[D, D, D]]:
    return [(line.vat_rate, line.total_ex, line.vat_amount) for line in invoice.lines]


def assert_exact_everywhere(source: Order, settings: InvoiceSettings, facts: InvoiceFacts | None) -> None:
    """Each target computation books exactly what the customer paid."""
    for method in TotalsMethod:
        invoice = order_to_invoice(
            source, InvoiceSettings(**{**_fields(settings), "totals_method": method}), facts=facts
        )
        assert booked_totals(invoice.lines, method).total_inc == source.total_inc, method
        assert check_invoice(invoice) == [], (method, check_invoice(invoice))
    target = AcumulusTarget(ConnectionConfig("acumulus", "http://acumulus.sim/acumulus", {}))
    invoice = order_to_invoice(source, settings, facts=facts)
    if invoice.currency == "EUR" and invoice.regime is not VatRegime.MARGIN:
        payload, warnings = target.invoice_payload(invoice)
        lines = payload["customer"]["invoice"]["line"]
        booked = acumulus_totals([(D(x["quantity"]), D(x["unitprice"]), D(x["vatrate"])) for x in lines])[1]
        assert booked == source.total_inc and warnings == []


def _fields(settings: InvoiceSettings) -> dict:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


def test_scenario_domestic_mixed_rates_with_fees():
    # given tea at 9% (10.90), a teapot at 21% (34.50) and shipping of 6.95 without a rate
    source = order(p("10.90", 9), p("34.50", 21), p("6.95", kind=LineKind.SHIPPING), total="52.35")
    invoice = order_to_invoice(source)
    # then shipping follows the goods in proportion (Art. 78(b) VAT Directive: incidental expenses
    # share the supply's taxable amount; CJEU C-463/16 Stadion Amsterdam; Belastingdienst
    # "verzendkosten bij verschillende tarieven": split by the value of the goods): 5.28 at 21%
    # (34.50/45.40 of 6.95) and 1.67 at 9%
    assert rates(invoice) == [
        (D(9), D("10.00"), D("0.90")),
        (D(21), D("28.51"), D("5.99")),
        (D(21), D("4.36"), D("0.92")),
        (D(9), D("1.53"), D("0.14")),
    ]
    assert invoice.regime is VatRegime.DOMESTIC and invoice.total_inc == D("52.35")
    assert_exact_everywhere(source, InvoiceSettings(), None)


def test_scenario_eu_consumer_below_threshold_pays_dutch_vat():
    # given a German consumer and the seller's EU distance sales below EUR 10,000 (Art. 59c)
    source = order(p("10.90", 9), total="10.90", customer=Party(country_code="DE"))
    invoice = order_to_invoice(source, facts=BELOW)
    # then the seller's own VAT applies: NL 9%
    assert (invoice.regime, invoice.vat_country) == (VatRegime.DOMESTIC, "NL")
    assert invoice.regime_reason.code == RegimeCode.DOMESTIC_BELOW_THRESHOLD
    assert rates(invoice) == [(D(9), D("10.00"), D("0.90"))]
    assert_exact_everywhere(source, InvoiceSettings(), BELOW)


def test_scenario_eu_consumer_above_threshold_food_and_general_goods():
    # given food and general goods to a German consumer, past the threshold (Art. 33, 59c)
    source = order(
        p("10.90", 9, category="food"), p("121.00", 21), total="131.90", customer=Party(country_code="DE")
    )
    invoice = order_to_invoice(source, facts=ABOVE)
    # then German rates by category (§12(2) Nr. 1 UStG: food 7%; §12(1): 19%), never NL 9% copied;
    # the amounts the customer paid are kept
    assert (invoice.regime, invoice.vat_country) == (VatRegime.EU_B2C_OSS, "DE")
    assert rates(invoice) == [(D(7), D("10.19"), D("0.71")), (D(19), D("101.68"), D("19.32"))]
    assert_exact_everywhere(source, InvoiceSettings(), ABOVE)


def test_scenario_oss_estonia_food_at_the_standard_rate():
    # given NL 9% food to an Estonian consumer past the threshold (the old code copied 9%)
    source = order(p("10.90", 9), total="10.90", customer=Party(country_code="EE"))
    invoice = order_to_invoice(source, facts=ABOVE)
    # then Estonia's rate for food: the standard 24% since 2025-07-01 (Estonian VAT Act; food has
    # no reduced rate there), with a warning that the category was the default for 9%
    assert rates(invoice)[0][0] == D(24)
    assert [w.code for w in invoice.warnings] == [WarningCode.REDUCED_RATE_CARRIED_OVER]


def test_scenario_icp_valid_in_vies():
    source = order(p("100.00", 0), total="100.00", customer=DE_B2B)
    invoice = order_to_invoice(source, facts=vies(VatCheckStatus.VALID))
    # then an intra-community supply at 0% (Art. 138(1) VAT Directive), the VIES proof kept
    assert invoice.regime is VatRegime.EU_B2B and invoice.lines[0].vat_category == "K"
    assert invoice.vat_number_check.consultation_number == "WAPIAAAAZ7UJ5F2N"
    assert_exact_everywhere(source, InvoiceSettings(), vies(VatCheckStatus.VALID))


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (None, RuleCode.ICP_VIES_CHECK_MISSING),
        (vies(VatCheckStatus.INVALID), RuleCode.ICP_VIES_INVALID),
        (vies(VatCheckStatus.UNAVAILABLE), RuleCode.ICP_VIES_UNAVAILABLE),
    ],
)
def test_scenario_icp_without_a_valid_number_is_held(facts, code):
    # given 0% charged to a business whose number VIES did not confirm: never booked at 0% (Art.
    # 138(1)(b): the customer's valid VAT number is a substantive condition since 2020)
    with pytest.raises(RuleError) as info:
        order_to_invoice(order(p("100.00", 0), total="100.00", customer=DE_B2B), facts=facts)
    assert info.value.code == code and info.value.suggestion


def test_scenario_vies_down_booked_per_setting():
    source = order(p("100.00", 0), total="100.00", customer=DE_B2B)
    invoice = order_to_invoice(
        source, InvoiceSettings(vies_unavailable="book"), facts=vies(VatCheckStatus.UNAVAILABLE)
    )
    assert invoice.regime is VatRegime.EU_B2B
    assert WarningCode.VIES_UNAVAILABLE_BOOKED in [w.code for w in invoice.warnings]


def test_scenario_export_goods():
    source = order(p("50.00", 0), total="50.00", customer=Party(country_code="US"))
    invoice = order_to_invoice(source)
    # Art. 146(1)(a): goods dispatched outside the EU are exempt with deduction (category G)
    assert invoice.regime is VatRegime.EXPORT and invoice.lines[0].vat_category == "G"
    assert_exact_everywhere(source, InvoiceSettings(), None)


def test_scenario_special_territory_canary_islands_is_an_export():
    source = order(p("50.00", 0), total="50.00", customer=Party(country_code="ES", postal_code="35001"))
    invoice = order_to_invoice(source)
    # Art. 6(2)(b) VAT Directive: the Canary Islands are outside the EU VAT area
    assert invoice.regime is VatRegime.EXPORT
    assert invoice.regime_reason.code == RegimeCode.EXPORT_SPECIAL_TERRITORY


def test_scenario_monaco_is_france():
    source = order(p("121.00", 21), total="121.00", customer=Party(country_code="MC"))
    invoice = order_to_invoice(source, facts=ABOVE)
    # Art. 7(1): Monaco is treated as France: French VAT, 20%
    assert (invoice.regime, invoice.vat_country) == (VatRegime.EU_B2C_OSS, "FR")
    assert rates(invoice) == [(D(20), D("100.83"), D("20.17"))]


def test_scenario_northern_ireland_goods_at_uk_rates():
    source = order(p("121.00", 21), total="121.00", customer=Party(country_code="XI"))
    invoice = order_to_invoice(source, facts=ABOVE)
    # Windsor Framework Art. 8: EU VAT rules for goods in Northern Ireland, at UK rates (20%)
    assert (invoice.regime, invoice.vat_country) == (VatRegime.EU_B2C_OSS, "XI")
    assert rates(invoice)[0][0] == D(20)


def test_scenario_workshop_for_a_us_consumer_is_dutch_vat():
    source = order(p("121.00", 21, nature="event"), total="121.00", customer=Party(country_code="US"))
    invoice = order_to_invoice(source)
    # Art. 53/54: admission to an event or workshop is taxed where it is held (NL), not an export
    assert invoice.regime is VatRegime.DOMESTIC and rates(invoice) == [(D(21), D("100.00"), D("21.00"))]
    assert invoice.regime_reason.code == RegimeCode.SERVICE_WHERE_HELD


def test_scenario_service_to_an_eu_business_is_reverse_charged():
    source = order(p("100.00", 0, nature="service"), total="100.00", customer=DE_B2B)
    invoice = order_to_invoice(source, facts=vies(VatCheckStatus.VALID))
    # Art. 44 and 196: place of supply with the business customer, VAT reverse-charged (AE)
    assert invoice.regime is VatRegime.EU_B2B and invoice.lines[0].vat_category == "AE"


def test_scenario_vouchers_single_and_multi_purpose():
    voucher = p("25.00", kind=LineKind.GIFT_CARD)
    multi = order_to_invoice(order(voucher, total="25.00"))
    single = order_to_invoice(order(voucher, total="25.00"), InvoiceSettings(voucher_kind="single_purpose"))
    # Art. 30b: a single-purpose voucher is taxed when sold; a multi-purpose one when redeemed
    assert rates(multi) == [(D(0), D("25.00"), D("0.00"))]
    assert rates(single) == [(D(21), D("20.66"), D("4.34"))]


def test_scenario_margin_goods_booked_under_the_margin_type_or_held():
    line = p("150.00", 21, margin=True, cost_price=D("100.00"))
    # Art. 311-315: VAT on the margin 50.00 incl. VAT: 8.68
    invoice = order_to_invoice(order(line, total="150.00"), InvoiceSettings(margin_scheme="target"))
    assert invoice.regime is VatRegime.MARGIN and rates(invoice) == [(D(21), D("141.32"), D("8.68"))]
    with pytest.raises(RuleError) as info:
        order_to_invoice(order(line, total="150.00"))
    assert info.value.code == RuleCode.MARGIN_NOT_SUPPORTED


def test_scenario_credit_full_and_partial_across_the_2026_rate_change():
    # given a hotel night of 2025 (9%) credited in 2026, when accommodation is 21% (Belastingplan 2025)
    night = p("-109.00", category="accommodation")
    original = InvoiceFacts(original=OriginalInvoice("F2025-0042", dt.date(2025, 12, 20)))
    full = order_to_invoice(
        order(night, total="-109.00", is_credit=True, credited_number="1000"), facts=original
    )
    half = order_to_invoice(
        order(p("-54.50", category="accommodation"), total="-54.50", is_credit=True), facts=original
    )
    # then the rate of the original supply (Art. 90 / 73: the correction follows the supply): 9%
    assert rates(full) == [(D(9), D("-100.00"), D("-9.00"))]
    assert (full.document_type, full.credits, full.credited_date) == (
        DocumentType.CREDIT_NOTE,
        "F2025-0042",
        dt.date(2025, 12, 20),
    )
    assert rates(half) == [(D(9), D("-50.00"), D("-4.50"))]


def test_scenario_credit_order_with_positive_amounts_is_negated():
    invoice = order_to_invoice(order(p("121.00", 21), total="121.00", is_credit=True))
    assert invoice.total_inc == D("-121.00")
    assert WarningCode.CREDIT_AMOUNTS_NEGATED in [w.code for w in invoice.warnings]


def test_scenario_usd_order_converted_at_the_ecb_rate():
    rate = ExchangeRate("USD", D("1.1592"), dt.date(2026, 2, 27))
    source = order(p("140.27", 21), total="140.27", currency="USD")
    invoice = order_to_invoice(source, facts=InvoiceFacts(exchange_rate=rate))
    # Art. 91(2): VAT in euros at the latest ECB rate; 140.27 / 1.1592 = 121.01, the rate stated
    assert (invoice.currency, invoice.source_currency, invoice.total_inc) == ("EUR", "USD", D("121.01"))
    assert invoice.exchange_rate == rate
    with pytest.raises(RuleError) as info:
        order_to_invoice(source)
    assert info.value.code == RuleCode.EXCHANGE_RATE_MISSING  # never skipped in silence
