"""Street, house number and addition from one address line, the Dutch way.

AccountView and eAccounting keep an address as one line; other targets want street, number and
addition apart. The house number is the last number that follows a space (so "1e Helmersstraat 5"
and "Plein 1940 12" keep their numbers in the street); what follows it is the addition ("12-A",
"12 bis", "12a", "12 hs", "12/3"), written without the separator.

>>> split_street("1e Helmersstraat 5")
('1e Helmersstraat', '5', '')
>>> split_street("Kerkstraat 12-A")
('Kerkstraat', '12', 'A')
>>> split_street("Dorpsweg 7 bis")
('Dorpsweg', '7', 'bis')
"""

from __future__ import annotations

import re

__all__ = ["split_street"]

_ADDITION = r"(?:\s*[-/]\s*[A-Za-z0-9]{1,6}|\s*[A-Za-z][A-Za-z0-9]{0,5}(?:\s+[A-Za-z0-9]{1,4})?)"
_SPACED = re.compile(rf"^(?P<street>.*\S)\s+(?P<number>\d{{1,6}})(?P<addition>{_ADDITION})?\s*$")
_JOINED = re.compile(r"^(?P<street>.*[^\d\s])(?P<number>\d{1,6})(?P<addition>[A-Za-z]{0,3})\s*$")
_SEPARATORS = " -/"


def split_street(line: str) -> tuple[str, str, str]:
    """``(street, number, addition)``; a line without a house number is all street."""
    text = " ".join((line or "").split())
    match = _SPACED.match(text) or _JOINED.match(text)
    if not match or not match.group("street").strip(" ,"):
        return text, "", ""
    addition = (match.group("addition") or "").strip(_SEPARATORS)
    return match.group("street").strip(" ,"), match.group("number"), addition
