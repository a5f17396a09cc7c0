"""Lookup tables with a wildcard default, as bookkeepers configure them.

>>> lookup({"paypal": "2", "*": "1"}, "PayPal")
'1'
>>> lookup({"paypal": "2", "*": "1"}, "paypal")
'2'
"""

from __future__ import annotations

from collections.abc import Mapping

WILDCARD = "*"


def lookup(table: Mapping[str, str], key: str, default: str = "") -> str:
    """Exact key first, then the ``*`` row, then ``default``; keys are matched exactly (ids)."""
    if key in table:
        return table[key]
    return table.get(WILDCARD, default)
