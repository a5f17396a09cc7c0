"""Money helpers. Amounts are ``Decimal`` everywhere; rounding happens once, half-up, to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


class AmountError(ValueError):
    """A value that should be an amount is not one; says which value and why."""


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Parse an API or file value into a Decimal without ever passing through float.

    Accepts Decimal, int, str ("12.50", " 12.5 ") and — because JSON decoders hand them out —
    float, converted via ``repr`` so 0.1 stays 0.1 rather than 0.1000000000000000055.

    >>> to_decimal("12.396694")
    Decimal('12.396694')
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise AmountError(f"{field}: expected an amount, got {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise AmountError(f"{field}: empty amount")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise AmountError(f"{field}: {value!r} is not a number") from None
    else:
        raise AmountError(f"{field}: expected an amount, got {type(value).__name__}")
    if not result.is_finite():
        raise AmountError(f"{field}: {value!r} is not a finite number")
    return result


def round_cents(amount: Decimal) -> Decimal:
    """Round half-up to cents: the one rounding rule of the product.

    >>> round_cents(Decimal("0.125")), round_cents(Decimal("-0.125"))
    (Decimal('0.13'), Decimal('-0.13'))
    """
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


_PLACES = tuple(Decimal(1).scaleb(-places) for places in range(10))


def quantize(amount: Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (unit prices keep more precision than cents)."""
    exponent = _PLACES[places] if 0 <= places < len(_PLACES) else Decimal(1).scaleb(-places)
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def digits(value: Decimal | None) -> str | None:
    """``value`` as part of a cache key, telling ``Decimal("2")`` from ``Decimal("2.0")``.

    Decimals that are equal compare and hash alike whatever their digits, but a record taken from a
    cache must carry the very digits it was given (a quantity written as ``2.0`` stays ``2.0`` in
    the output), so a key holds the text of every value that is passed through unchanged.
    """
    return None if value is None else str(value)


def vat_of(amount_ex: Decimal, rate: Decimal) -> Decimal:
    """VAT on an amount excluding VAT, unrounded."""
    return amount_ex * rate / HUNDRED


def ex_from_inc(amount_inc: Decimal, rate: Decimal) -> Decimal:
    """Amount excluding VAT from one including it, unrounded."""
    return amount_inc * HUNDRED / (HUNDRED + rate)
