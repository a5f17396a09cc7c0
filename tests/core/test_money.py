"""money.py: parsing without float, the one rounding rule, VAT helpers."""

from decimal import Decimal

import pytest

from koppeling.core.money import AmountError, ex_from_inc, quantize, round_cents, to_decimal, vat_of


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", Decimal("12.50")),
        (" 12.5 ", Decimal("12.5")),
        (7, Decimal(7)),
        (0.1, Decimal("0.1")),
        (Decimal("1.005"), Decimal("1.005")),
    ],
)
def test_to_decimal_accepts_amounts(value, expected):
    # given an amount as an API or file hands it out / when parsed / then exact, never via binary float
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", [None, True, "", "abc", "NaN", "Infinity", [1], object()])
def test_to_decimal_rejects_non_amounts_naming_the_field(value):
    # given something that is not an amount / when parsed / then the error names the field
    with pytest.raises(AmountError, match="price"):
        to_decimal(value, field="price")


def test_round_cents_half_up_both_signs():
    # given exact halves / when rounded / then away from zero (half-up), never banker's rounding
    assert round_cents(Decimal("0.125")) == Decimal("0.13")
    assert round_cents(Decimal("-0.125")) == Decimal("-0.13")
    assert round_cents(Decimal("2.675")) == Decimal("2.68")
    assert round_cents(Decimal("0.124999")) == Decimal("0.12")


def test_quantize_keeps_unit_price_precision():
    # given a unit price from an inc-VAT price / when kept at 4 decimals / then half-up at the 4th
    assert quantize(Decimal("10") * 100 / 121, 4) == Decimal("8.2645")
    assert quantize(Decimal("0.00005"), 4) == Decimal("0.0001")


def test_vat_of_and_ex_from_inc_are_inverse():
    # given 21% / when going inc -> ex -> vat / then the amounts add up exactly before rounding
    ex = ex_from_inc(Decimal("12.10"), Decimal(21))
    assert ex == Decimal(10)
    assert vat_of(ex, Decimal(21)) == Decimal("2.1")
