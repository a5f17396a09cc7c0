"""Helpers of the Strato conversion that hold no VAT logic: which payment-method file an order
goes to (``canonical_method``), and which order numbers were seen already (``SeenNumbers``, in flat
memory)."""

from __future__ import annotations

import re

from koppeling.connectors.strato import names

__all__ = ["SeenNumbers", "canonical_method"]


# ---- payment methods -> output files -----------------------------------------------------------

_METHODS: dict[str, str] = {}
for _canonical, _words in {
    "Bank": (
        "bank",
        "banktransfer",
        "bankoverschrijving",
        "overschrijving",
        "overboeking",
        "vooruitbetaling",
        "vooraf",
        "vorkasse",
        "uberweisung",
        "ueberweisung",
        "prepayment",
        "paymentinadvance",
        "sepa",
        "wiretransfer",
        "transfer",
    ),
    "PayPal": ("paypal", "paypalexpress", "paypalplus", "paypalcheckout"),
    "iDEAL": ("ideal",),
    "Creditcard": ("creditcard", "kreditkarte", "visa", "mastercard", "americanexpress", "amex", "card"),
    "Bancontact": ("bancontact", "mistercash", "bancontactmistercash"),
    "Sofort": ("sofort", "sofortuberweisung", "sofortueberweisung", "klarnasofort"),
    "Klarna": ("klarna", "klarnapaylater", "klarnarechnung"),
    "Rembours": ("rembours", "nachnahme", "cashondelivery", "cod", "onrembours"),
    "OpRekening": (
        "oprekening",
        "rechnung",
        "invoice",
        "factuur",
        "achteraf",
        "achterafbetalen",
        "kaufaufrechnung",
    ),
    "Contant": ("contant", "cash", "bar", "barzahlung", "contantbijafhalen", "pin", "pinnen"),
    "AmazonPay": ("amazonpay", "amazonpayments"),
    "Giropay": ("giropay",),
    "Lastschrift": ("lastschrift", "directdebit", "sepalastschrift", "incasso", "automatischeincasso"),
}.items():
    for _w in _words:
        _METHODS[_w] = _canonical


def canonical_method(method: str) -> str:
    """The output file's method name: ``"PayPal Express"`` -> ``PayPal``, ``"Vorkasse"`` -> ``Bank``;
    unknown methods keep their own letters (``"Tikkie"`` -> ``Tikkie``); none -> ``Onbekend``."""
    key = names.normalise(method)
    if not key:
        return "Onbekend"
    if key in _METHODS:
        return _METHODS[key]
    for word, canonical in _METHODS.items():
        if len(word) >= 5 and word in key:
            return canonical
    words = re.findall(r"[0-9A-Za-z]+", names.normalise_keep_case(method))
    return "".join(w[:1].upper() + w[1:] for w in words)[:40] or "Onbekend"


# ---- duplicate order numbers in flat memory ----------------------------------------------------


class SeenNumbers:
    """Order numbers seen so far, in flat memory: numeric parts go into bitmaps (1 bit each).

    ``"1001"``, ``"WA1001"`` -> key ``(prefix, digits)``; leading zeros are kept distinct
    (``"0012"`` is not ``"12"``); only ASCII digits count as digits (``"A١٢"`` is not ``"A12"``).
    A bitmap holds numbers below ``MAX_BIT`` (2 MiB at most) and there are at most
    ``MAX_PREFIXES`` of them; anything else goes into a set, so one odd number such as
    ``999999999`` costs a few bytes, not 125 MB.
    """

    _SPLIT = re.compile(r"(\D*?)([1-9]\d{0,8})", re.ASCII)
    MAX_BIT = 1 << 24
    MAX_PREFIXES = 8

    def __init__(self) -> None:
        self._bits: dict[str, bytearray] = {}
        self._other: set[str] = set()

    def add(self, number: str) -> bool:
        """Record ``number``; False if it was seen before."""
        if number.isascii() and number.isdigit() and number[0] != "0" and len(number) < 10:
            prefix, n = "", int(number)
        else:
            m = self._SPLIT.fullmatch(number)
            if m is None:
                return self._add_other(number)
            prefix, n = m[1], int(m[2])
        if n >= self.MAX_BIT:
            return self._add_other(number)
        bits = self._bits.get(prefix)
        if bits is None:
            if len(self._bits) >= self.MAX_PREFIXES:
                return self._add_other(number)
            bits = self._bits[prefix] = bytearray()
        byte = n >> 3
        if byte >= len(bits):
            grow = max(byte + 1 - len(bits), len(bits) // 2, 1024)
            bits.extend(bytes(min(grow, (self.MAX_BIT >> 3) - len(bits))))
        mask = 1 << (n & 7)
        if bits[byte] & mask:
            return False
        bits[byte] |= mask
        return True

    def _add_other(self, number: str) -> bool:
        if number in self._other:
            return False
        self._other.add(number)
        return True
