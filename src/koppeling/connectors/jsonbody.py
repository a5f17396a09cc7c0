"""JSON bodies with ``Decimal`` money written as exact JSON numbers.

The standard library writes a number only from ``int`` or ``float``; converting money to a float
first is exact for the cents we send, but only by luck of the shortest repr. Here a Decimal is
written with its own digits, by construction: it is first emitted as a marked string (the mark is
random per call, so no text in the payload can imitate it), and the marked strings are then
replaced by their digits.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "encode"]


def dumps(payload: Any) -> str:
    """Compact JSON text; Decimals as exact numbers, tuples and sets as arrays."""
    mark = f"decimal-{secrets.token_hex(8)}:"

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"not a JSON number: {value}")
            return mark + format(value, "f")
        if isinstance(value, tuple | set | frozenset):
            return list(value)
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=default)
    return re.sub(f'"{re.escape(mark)}(-?[0-9]+(?:\\.[0-9]+)?)"', r"\1", text)


def encode(payload: Any) -> bytes:
    """`dumps` as UTF-8, the body an API receives."""
    return dumps(payload).encode()
