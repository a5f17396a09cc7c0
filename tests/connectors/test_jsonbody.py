"""Decimal money reaches a JSON body with its own digits, never through a float."""

import json
from decimal import Decimal

import pytest

from koppeling.connectors.jsonbody import dumps, encode


def test_decimals_are_written_with_their_own_digits() -> None:
    body = {"a": Decimal("19.95"), "b": Decimal("1234567890123.456789"), "c": Decimal("-0.10")}
    assert dumps(body) == '{"a":19.95,"b":1234567890123.456789,"c":-0.10}'
    assert json.loads(encode(body), parse_float=Decimal) == body


def test_a_float_would_have_lost_what_this_keeps() -> None:
    amount = Decimal("0.1000000000000000055511151231257827")
    assert Decimal(repr(float(amount))) != amount
    assert json.loads(dumps({"x": amount}), parse_float=Decimal)["x"] == amount


def test_exponent_notation_is_written_out() -> None:
    assert dumps([Decimal("1E+2"), Decimal("2.5E-3")]) == "[100,0.0025]"


def test_text_that_looks_like_a_marked_decimal_stays_text() -> None:
    body = {"note": "decimal-0000000000000000:12", "n": Decimal("1"), "t": ("x", 2)}
    assert json.loads(dumps(body)) == {"note": "decimal-0000000000000000:12", "n": 1, "t": ["x", 2]}


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity")])
def test_a_non_number_is_refused(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        dumps({"x": bad})
