"""Equal Strato lines become one core line (remembered per value), each keeping its own digits."""

from __future__ import annotations

from decimal import Decimal

from koppeling.connectors.strato.orderfields import KIND_PRODUCT
from koppeling.connectors.strato.orderrecords import StratoLine
from koppeling.connectors.strato.translate import line_of


def test_strato_lines_are_translated_once_and_keep_their_digits() -> None:
    def strato(quantity: str) -> StratoLine:
        return StratoLine(
            KIND_PRODUCT, "POT-12", "Theepot", Decimal(quantity), Decimal("34.50"), Decimal(21), None, None
        )

    assert line_of(strato("2"), True) is line_of(strato("2"), True)
    assert str(line_of(strato("2"), True).quantity) == "2"
    assert str(line_of(strato("2.0"), True).quantity) == "2.0"
