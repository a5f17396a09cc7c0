"""Amounts, quantities, rates and dates as Strato exports write them — and as people mangle them.

Machine exports write ``12.50``. Files that went through a spreadsheet come back as ``12,50``,
``1.234,56`` or ``1,234.56``. The rules (all results are ``Decimal``, never float):

* ``12.50``, ``-3``, ``0.125`` — plain decimal point: accepted as is (the fast path).
* ``12,50``, ``12,5``, ``0,1250`` (a comma followed by 1, 2 or 4+ digits) — comma decimal:
  accepted **with a warning**.
* ``1.234,56`` / ``1 234,56`` — dot or space thousands, comma decimal: accepted with a warning.
* ``1,234.56`` — comma thousands, dot decimal: accepted with a warning.
* ``1,234`` or ``1.234.567`` — ambiguous (thousands or decimals?): **rejected**.
* anything else (``EUR 12``, ``12.5.1``, ``NaN``, ``1e3``, empty): rejected.

A leading currency sign or code (``€ 12,50``, ``EUR 12.50``) is stripped with a warning.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

PLAIN = re.compile(r"-?\d+(?:\.\d+)?")
_CURRENCY = re.compile(r"^\s*(?:€|EUR|eur)\s*")
_COMMA_DECIMAL = re.compile(r"(-?)(\d{1,3}(?:[. \u00a0]\d{3})*|\d+),(\d{1,2}|\d{4,})")
_DOT_DECIMAL_COMMA_THOUSANDS = re.compile(r"(-?)(\d{1,3}(?:,\d{3})+)\.(\d+)")


class AmountProblem(ValueError):
    """Raised with a plain-language reason; the caller adds file/line/field."""


def parse_amount(text: str | None, *, allow_negative: bool = True) -> tuple[Decimal, str]:
    """``(value, warning)``: warning is "" when the text was a plain machine number."""
    if text is None:
        raise AmountProblem("missing")
    raw = text.strip()
    if PLAIN.fullmatch(raw):
        return _checked(Decimal(raw), allow_negative), ""
    return _parse_slow(raw, allow_negative)


def _parse_slow(raw: str, allow_negative: bool) -> tuple[Decimal, str]:
    if not raw:
        raise AmountProblem("empty")
    warning = ""
    stripped = _CURRENCY.sub("", raw)
    if stripped != raw:
        warning = "currency sign removed; "
        raw = stripped.strip()
        if PLAIN.fullmatch(raw):
            return _checked(Decimal(raw), allow_negative), warning.rstrip("; ")
    m = _COMMA_DECIMAL.fullmatch(raw)
    if m:
        sign, whole, frac = m.groups()
        grouped = any(sep in whole for sep in ". \u00a0")
        value = Decimal(sign + whole.replace(".", "").replace(" ", "").replace("\u00a0", "") + "." + frac)
        kind = "thousands separators and a decimal comma" if grouped else "a decimal comma"
        return _checked(value, allow_negative), f"{warning}written with {kind}; read as {value}"
    m = _DOT_DECIMAL_COMMA_THOUSANDS.fullmatch(raw)
    if m:
        sign, whole, frac = m.groups()
        value = Decimal(sign + whole.replace(",", "") + "." + frac)
        return _checked(
            value, allow_negative
        ), f"{warning}written with comma thousands separators; read as {value}"
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+", raw) or re.fullmatch(r"-?\d{1,3}(?:\.\d{3}){2,}", raw):
        raise AmountProblem("ambiguous: the separator could mean thousands or decimals; write e.g. 1234.00")
    try:
        Decimal(raw)
    except InvalidOperation:
        pass
    raise AmountProblem("not an amount (expected e.g. 12.50)")


#: no shop order holds a thousand billion euros; larger "amounts" are garbage (and would overflow
#: the cent arithmetic of the invoice engine)
MAX_AMOUNT = Decimal("1e15")


def _checked(value: Decimal, allow_negative: bool) -> Decimal:
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise AmountProblem("too large to be an amount")
    if not allow_negative and value < 0:
        raise AmountProblem("must not be negative")
    return value


_RATE_SUFFIX = re.compile(r"\s*%\s*$")


def parse_rate(text: str | None) -> tuple[Decimal, str]:
    """A VAT rate in percent: ``21``, ``21.00``, ``21%``, ``9,0``; ``0.21`` (a fraction) is refused."""
    if text is None:
        raise AmountProblem("missing")
    raw = _RATE_SUFFIX.sub("", text.strip())
    value, warning = parse_amount(raw, allow_negative=False)
    if value and value < 1 and value != Decimal("0.5"):
        raise AmountProblem("looks like a fraction; expected a percentage such as 21")
    return value.normalize() if value else Decimal(0), warning


_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{2})-(\d{2})"),  # ISO 2024-03-05[T..]
    re.compile(r"(\d{2})[.-](\d{2})[.-](\d{4})"),  # 05.03.2024 / 05-03-2024 (day first: NL/DE)
)


def parse_date(text: str | None) -> dt.date:
    """ISO dates and datetimes (``2024-03-05``, ``2024-03-05T14:12:09+01:00``), or day-first
    ``05-03-2024`` / ``05.03.2024`` as Dutch and German exports write them."""
    if text is None or not text.strip():
        raise AmountProblem("missing")
    raw = text.strip()
    m = _DATE_PATTERNS[0].match(raw)
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        m = _DATE_PATTERNS[1].match(raw)
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        raise AmountProblem("not a valid date") from None
    raise AmountProblem("not a date (expected e.g. 2024-03-05)")
