"""Every outcome code of the domain has a text, and every text's placeholders are filled.

Each code is produced at least once by the real rules (the scenarios below), and the outcome the
rules produce must carry every parameter its text and suggestion name, and only those listed in
``koppeling.core.texts.PARAMS``.
"""

import datetime as dt
import json
import pickle
import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from koppeling.core.codes import RETIRED, CheckCode, RegimeCode, RuleCode, WarningCode
from koppeling.core.errors import RuleError
from koppeling.core.facts import ExchangeRate, InvoiceFacts, OssPosition, VatCheckStatus, VatNumberCheck
from koppeling.core.invoicing import InvoiceSettings, check_invoice, order_to_invoice
from koppeling.core.messages import Outcome, english, english_suggestion, text_of
from koppeling.core.models import Invoice, InvoiceLine, LineKind, Order, OrderLine, Party, VatRegime
from koppeling.core.regime import check_vat_number, decide_regime
from koppeling.core.texts import PARAMS
from koppeling.core.totals import TotalsMethod

D = Decimal
ON = dt.date(2025, 3, 1)
ALL_CODES = [*RuleCode, *WarningCode, *RegimeCode, *CheckCode]
ERRORS = [*RuleCode, *CheckCode]  # outcomes that stop something: they say what to do about it
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def test_every_code_has_a_text_and_errors_a_suggestion():
    for code in ALL_CODES:
        entry = text_of(code)
        assert entry is not None and entry.text, code
        if code in ERRORS:
            assert entry.suggestion, code


def test_codes_are_unique_across_the_enums():
    values = [str(code) for code in ALL_CODES]
    assert len(values) == len(set(values))


def test_params_table_lists_exactly_the_codes():
    assert set(PARAMS) == set(ALL_CODES)


@pytest.mark.parametrize("code", ALL_CODES, ids=str)
def test_texts_are_well_formed_and_use_listed_params(code):
    entry = text_of(code)
    assert entry is not None
    for template in (entry.text, entry.suggestion):
        # only %(name)s and %% may appear: a stray % would make rendering fall back to the raw text
        assert "%" not in PLACEHOLDER.sub("", template).replace("%%", ""), template
        assert placeholders(template) <= set(PARAMS[code]), template
        template % {name: "x" for name in PARAMS[code]}  # must not raise


def _order(*lines, total, customer=None, on=ON, **kwargs):
    return Order("s", "1", on, customer or Party(country_code="NL"), tuple(lines), D(total), **kwargs)


def _product(price_inc=None, rate=None, *, ex=None, desc="P", category=""):
    return OrderLine(
        LineKind.PRODUCT,
        desc,
        unit_price_inc=None if price_inc is None else D(price_inc),
        unit_price_ex=None if ex is None else D(ex),
        vat_rate=None if rate is None else D(rate),
        vat_category=category,
    )


def _line(kind, price_inc, rate=None):
    return OrderLine(
        kind, kind.value, unit_price_inc=D(price_inc), vat_rate=None if rate is None else D(rate)
    )


def _error(make: Callable[[], object]) -> list[Outcome]:
    with pytest.raises(RuleError) as info:
        make()
    return [info.value.outcome]


def _convert(order, settings=None, today=None, facts=None) -> list[Outcome]:
    invoice = order_to_invoice(order, settings, today=today, facts=facts)
    assert invoice.regime_reason is not None
    return [*invoice.warnings, invoice.regime_reason]


_US = Party(country_code="US")
_OSS_PAST = OssPosition(True, D("12000"), D("0"))
_OSS_BELOW = OssPosition(False, D("100"), D("0"))


def _vies(status):
    return VatNumberCheck(
        "FR40303265045", status, dt.datetime(2025, 3, 1, 9), "WAPI1", detail="MS_UNAVAILABLE"
    )


DE_BUSINESS = Party(company="F", country_code="DE")
FR_ICP = Party(company="F", country_code="FR", vat_number="FR40303265045")
BAD_DE = Party(company="F", country_code="DE", vat_number="DE123456789")

SCENARIOS: dict[str, Callable[[], list[Outcome]]] = {
    "line without price": lambda: _error(lambda: order_to_invoice(_order(_product(rate=21), total="0"))),
    "amounts at no rate": lambda: _error(
        lambda: order_to_invoice(_order(_product("11.50", ex="10.00"), total="11.50"))
    ),
    "no category rate": lambda: _error(
        lambda: order_to_invoice(
            _order(_product("1.27", category="food"), total="1.27", customer=Party(country_code="HU"))
        )
    ),
    "oss rate of neither": lambda: _error(
        lambda: order_to_invoice(
            _order(_product("1.15", 15), total="1.15", customer=Party(country_code="DE"))
        )
    ),
    "one amount, no rate": lambda: _error(lambda: order_to_invoice(_order(_product("1.21"), total="1.21"))),
    "shipping at 0% beside taxed goods": lambda: _error(
        lambda: order_to_invoice(
            _order(_product("12.10", 21), _line(LineKind.SHIPPING, "5.00", 0), total="17.10")
        )
    ),
    "shipping, no product": lambda: _error(
        lambda: order_to_invoice(_order(_line(LineKind.SHIPPING, "6.05"), total="6.05"))
    ),
    "discount over rates": lambda: (
        _error(lambda: decide_regime("NL", Party(country_code="DE"), ON, oss=_OSS_PAST, oss_registered=False))
        + _convert(
            _order(_product("1.21", 21), _product("1.09", 9), _line(LineKind.DISCOUNT, "-1"), total="1.30")
        )
    ),
    "vies": lambda: [
        *_error(lambda: order_to_invoice(_order(_product("1.00", 0), total="1.00", customer=FR_ICP))),
        *_error(
            lambda: order_to_invoice(
                _order(_product("1.00", 0), total="1.00", customer=FR_ICP),
                facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.INVALID)),
            )
        ),
        *_error(
            lambda: order_to_invoice(
                _order(_product("1.00", 0), total="1.00", customer=FR_ICP),
                facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.UNAVAILABLE)),
            )
        ),
        *_convert(
            _order(_product("1.00", 0), total="1.00", customer=FR_ICP),
            InvoiceSettings(vies_unavailable="book"),
            facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.UNAVAILABLE)),
        ),
        *_convert(
            _order(_product("1.20", 20), total="1.20", customer=FR_ICP),
            facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.INVALID)),
        ),
        *_convert(
            _order(_product("1.20", 20), total="1.20", customer=FR_ICP),
            facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.UNAVAILABLE)),
        ),
        decide_regime("NL", FR_ICP, ON, nature="service", vat_check=_vies(VatCheckStatus.VALID)).reason,
        check_vat_number("DE000000000", "DE")[1],
    ],
    "rules of 2026": lambda: [
        *_error(lambda: order_to_invoice(_order(_product("1.06", 6), total="1.06"))),
        *_error(
            lambda: order_to_invoice(
                _order(
                    _product("1.21", 21), _product("1.21", 21, desc="w"), total="2.42", customer=_US
                ).__class__(
                    "s",
                    "1",
                    ON,
                    _US,
                    (
                        _product("1.21", 21),
                        OrderLine(
                            LineKind.PRODUCT, "w", unit_price_inc=D("1.21"), vat_rate=D(21), nature="service"
                        ),
                    ),
                    D("2.42"),
                )
            )
        ),
        *_error(
            lambda: order_to_invoice(
                _order(
                    OrderLine(LineKind.PRODUCT, "m", unit_price_inc=D("5"), vat_rate=D(21), margin=True),
                    total="5",
                )
            )
        ),
        *_error(lambda: order_to_invoice(_order(_product("1.21", 21), total="1.21", currency="USD"))),
        *_convert(
            _order(_product("1.21", 21), _product("1.09", 9), _line(LineKind.SHIPPING, "1.00"), total="3.30"),
        ),
        *_convert(
            _order(_product("10.00", 21), total="10.00"),
            InvoiceSettings(totals_method=TotalsMethod.PER_LINE_FROM_EX),
        ),
        *_convert(_order(_product("1.21", 21), total="1.21", is_credit=True, credited_number="7")),
        *_convert(
            _order(_product("1.21", 21), total="1.21", currency="USD"),
            facts=InvoiceFacts(exchange_rate=ExchangeRate("USD", D("1.1592"), ON)),
        ),
        *_convert(
            _order(_product("1.21", 21), _line(LineKind.GIFT_CARD, "5.00"), total="6.21"),
            InvoiceSettings(voucher_kind="single_purpose"),
        ),
        *_convert(
            _order(
                OrderLine(
                    LineKind.PRODUCT,
                    "m",
                    unit_price_inc=D("5"),
                    vat_rate=D(21),
                    margin=True,
                    cost_price=D("3"),
                ),
                total="5",
            ),
            InvoiceSettings(margin_scheme="target"),
        ),
        decide_regime("NL", Party(country_code="ES", postal_code="35001"), ON).reason,
        decide_regime("NL", Party(country_code="US"), ON, nature="event").reason,
        decide_regime("NL", Party(country_code="US"), ON, nature="service").reason,
        decide_regime("NL", Party(country_code="US"), ON, nature="electronic").reason,
        decide_regime("NL", Party(company="Inc", country_code="US"), ON, nature="service").reason,
        decide_regime("NL", Party(country_code="DE"), ON, oss=_OSS_BELOW).reason,
        *check_invoice(
            Invoice(
                "X",
                "x",
                ON,
                VatRegime.DOMESTIC,
                Party(),
                [InvoiceLine(LineKind.PRODUCT, "a", D(1), D("8.26"), D(21), D("8.26"), D("1.74"))],
                source_total_inc=D("10.00"),
                totals_method=TotalsMethod.PER_LINE_FROM_EX,
            )
        ),
    ],
    "before the vat data": lambda: _error(
        lambda: order_to_invoice(
            _order(_product("1.21", 21), total="1.21", on=dt.date(2015, 1, 1)),
            InvoiceSettings(seller_country="BE"),
        )
    ),
    "regime conflict": lambda: _error(
        lambda: order_to_invoice(
            _order(_product("1.19", 19), total="1.19", customer=FR_ICP),
            InvoiceSettings(oss_registered=False),
            facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.VALID)),
        )
    ),
    "totals mismatch": lambda: _error(lambda: order_to_invoice(_order(_product("1.21", 21), total="5"))),
    "bad template": lambda: _error(
        lambda: order_to_invoice(
            _order(_product("1.21", 21), total="1.21"), InvoiceSettings(description_template="{x}")
        )
    ),
    "seller outside eu": lambda: _error(lambda: decide_regime("US", Party(), ON)),
    "strict, no number": lambda: _error(lambda: decide_regime("NL", DE_BUSINESS, ON, strict_icp=True)),
    "strict, bad number": lambda: _error(lambda: decide_regime("NL", BAD_DE, ON, strict_icp=True)),
    "future, gift cards, carried over": lambda: _convert(
        _order(
            _product("1.09", 9),
            _line(LineKind.GIFT_CARD, "-1.00"),
            _line(LineKind.GIFT_CARD, "5.00"),
            total="5.09",
            customer=Party(country_code="DE"),
        ),
        today=dt.date(2025, 1, 1),
    ),
    "business without number": lambda: _convert(
        _order(_product("1.19", 19), total="1.19", customer=DE_BUSINESS)
    ),
    "invalid number": lambda: _convert(_order(_product("1.19", 19), total="1.19", customer=BAD_DE)),
    "charged on export": lambda: _convert(
        _order(_product("1.21", 21), total="1.21", customer=Party(country_code="CH"))
    ),
    "charged on icp, oss": lambda: _convert(
        _order(_product("1.20", 20), total="1.20", customer=FR_ICP),
        facts=InvoiceFacts(vat_check=_vies(VatCheckStatus.VALID)),
    ),
    "not a seller rate, inconsistent": lambda: _convert(
        _order(_product("1.16", 16), _product("12.50", 21, ex="10.00"), total="13.66")
    ),
    "re-rated ex prices": lambda: _convert(
        _order(_product(ex="100.00", rate=21), total="121.00", customer=Party(country_code="DE"))
    ),
    "reverse charge": lambda: _convert(
        _order(
            _product("5.00", ex="5.00"),
            total="5.00",
            customer=Party(company="B", vat_number="NL004495445B01"),
            vat_hint="reverse_charged_vat",
        )
    ),
    "regimes": lambda: [
        decide_regime("NL", Party(), ON).reason,
        decide_regime("NL", Party(), ON, vat_hint="reverse_charged_vat").reason,
        decide_regime("NL", Party(country_code="US"), ON).reason,
        decide_regime("NL", FR_ICP, ON).reason,
        decide_regime("NL", FR_ICP, ON, vat_check=_vies(VatCheckStatus.VALID)).reason,
        decide_regime("NL", Party(country_code="DE"), ON).reason,
        decide_regime("NL", Party(country_code="DE"), dt.date(2021, 1, 1)).reason,
        decide_regime("NL", Party(country_code="DE"), ON, oss_registered=False).reason,
    ],
    "vat numbers": lambda: [
        problem
        for number, country in (("", "NL"), ("X1", "US"), ("DE136695976", "NL"), ("DE123456789", "DE"))
        if (problem := check_vat_number(number, country)[1]) is not None
    ],
    "checks": lambda: check_invoice(
        Invoice(
            "X",
            "x",
            ON,
            VatRegime.EU_B2B,
            Party(),
            [
                InvoiceLine(LineKind.PRODUCT, "a", D(1), D(10), D(21), D("10.00"), D("3.00")),
                InvoiceLine(LineKind.PRODUCT, "b", D(1), D(10), D(-1), D("1.005"), D("0")),
            ],
            source_total_inc=D("1"),
        )
    ),
}


def _produced() -> list[Outcome]:
    return [outcome for make in SCENARIOS.values() for outcome in make()]


def test_every_code_is_produced_by_some_scenario():
    produced = {outcome.code for outcome in _produced()}
    assert set(ALL_CODES) - produced - RETIRED == set()


def test_produced_outcomes_fill_their_texts():
    for outcome in _produced():
        entry = text_of(outcome.code)
        assert entry is not None, outcome
        names = set(outcome.params)
        assert names <= set(PARAMS[outcome.code]), outcome
        assert placeholders(entry.text) | placeholders(entry.suggestion) <= names, outcome
        assert "?" not in english(outcome) + english_suggestion(outcome), outcome
        # and it stores as JSON and renders the same after the round trip
        stored = Outcome.from_dict(json.loads(json.dumps(outcome.as_dict())))
        assert english(stored) == english(outcome)


def test_rule_error_reads_well_and_survives_pickling():
    err = RuleError(
        RuleCode.TOTALS_MISMATCH, {"lines_total": D("1.00"), "order_total": D("2.00")}, field="total_inc"
    )
    assert err.message.startswith("the order lines add up to €1.00 incl. VAT, but the order total is €2.00")
    assert err.suggestion.startswith("check the order in the shop")
    assert str(err) == f"[totals_mismatch] {err.message} (total_inc)"
    assert err.args == (err.message,)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.params, copy.field, str(copy)) == (err.code, err.params, err.field, str(err))
