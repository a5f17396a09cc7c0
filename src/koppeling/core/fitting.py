"""Make an invoice's lines total, in the target's own computation, to exactly what was paid.

``fit_lines(lines, method, target)`` takes lines the rules made (each rounded once, adding up to
``target``) and returns lines that the target — computing as its :class:`TotalsMethod` says, see
:func:`booked_totals`, its simulator — books at exactly ``target``:

* ``PER_LINE_FROM_EX``: per line the amount excl. VAT ``e`` is chosen so that
  ``e + round(e × r) = the line's amount incl. VAT``. Not every amount has one (at 21 % the sums
  jump by two cents now and then), so a line may miss by a cent; that cent is moved onto another
  line **of the same rate** whose VAT does not change by it, and only when none can take it does a
  correction line at that rate carry it ("Afrondingscorrectie", as libAcumulus adds a line for a
  missing amount). The VAT base per rate is the same either way; each line's VAT stays exactly
  ``round(e × r)``.
* ``PER_INVOICE``: the same per rate group (the target rounds once per rate); a group whose total
  cannot be reached gets a VAT-free correction line for the cent.
* ``PER_LINE_FROM_INC``: VAT per line is taken from the amount incl. VAT, as the target does.
* ``AS_SENT``: nothing to do.

Unit prices excl. VAT are then given as many decimals (2 to 6) as needed for
``round(quantity × unit) = amount``. Margin-scheme lines are left alone (the target computes VAT on
the margin). Deterministic: the same lines always give the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

from koppeling.core.models import InvoiceLine, LineKind
from koppeling.core.money import CENT, HUNDRED, ZERO, quantize, round_cents
from koppeling.core.remembered import Remembered
from koppeling.core.totals import TotalsMethod

__all__ = ["CORRECTION_DESCRIPTION", "Booked", "booked_totals", "fit_lines", "unit_price_for"]

CORRECTION_DESCRIPTION = "Afrondingscorrectie"
_STEPS = (0, -1, 1, -2, 2)


@dataclass(frozen=True, slots=True)
class Booked:
    """What a target books: totals excl. VAT and VAT."""

    total_ex: Decimal
    total_vat: Decimal

    @property
    def total_inc(self) -> Decimal:
        return self.total_ex + self.total_vat


#: distinct amounts and lines the fitting remembers (bounded memory; a shop's lines repeat)
_CACHE_SIZE = 2048


def _vat(ex: Decimal, rate: Decimal) -> Decimal:
    return round_cents(ex * rate / HUNDRED) if rate > ZERO else ZERO


def booked_totals(lines: Iterable[InvoiceLine], method: TotalsMethod) -> Booked:
    """The totals the target books for ``lines``, by its own computation (the simulator)."""
    total_ex = total_vat = ZERO
    if method is TotalsMethod.PER_INVOICE:
        groups: dict[Decimal, Decimal] = {}
        for line in lines:
            if line.cost_price is not None:
                total_ex += line.total_ex
                total_vat += line.vat_amount
            else:
                groups[line.vat_rate] = groups.get(line.vat_rate, ZERO) + line.total_ex
        for rate, net in groups.items():
            total_ex += net
            total_vat += _vat(net, rate)
        return Booked(total_ex, total_vat)
    for line in lines:
        if method is TotalsMethod.AS_SENT or line.cost_price is not None:
            ex, vat = line.total_ex, line.vat_amount
        elif method is TotalsMethod.PER_LINE_FROM_INC:
            inc = line.total_inc
            vat = round_cents(inc * line.vat_rate / (HUNDRED + line.vat_rate)) if line.vat_rate > 0 else ZERO
            ex = inc - vat
        else:
            ex = line.total_ex
            vat = _vat(ex, line.vat_rate)
        total_ex += ex
        total_vat += vat
    return Booked(total_ex, total_vat)


def unit_price_for(quantity: Decimal, total_ex: Decimal, current: Decimal | None = None) -> Decimal:
    """A unit price with the fewest decimals (2..6) for which ``round(quantity × unit) = total_ex``.

    ``current`` (the rules' own unit price) is kept when it already gives the amount. With no
    quantity, or when no 6-decimal price fits, the 4-decimal price is returned (the connector then
    sends the line as quantity 1 at its amount).
    """
    if not quantity:
        return current if current is not None else total_ex
    if current is not None and round_cents(quantity * current) == total_ex:
        return current
    exact = total_ex / quantity
    for places in (2, 3, 4, 5, 6):
        unit = quantize(exact, places)
        if round_cents(quantity * unit) == total_ex:
            return unit
    return quantize(exact, 4)


def fit_lines(
    lines: Sequence[InvoiceLine], method: TotalsMethod, target: Decimal
) -> tuple[list[InvoiceLine], bool]:
    """Lines the target books at exactly ``target``, and whether a correction line was needed."""
    if method is TotalsMethod.AS_SENT:
        return list(lines), False
    if method is TotalsMethod.PER_LINE_FROM_INC:
        return [_from_inc(line) for line in lines], False
    if method is TotalsMethod.PER_INVOICE:
        return _fit_per_invoice(list(lines), target)
    return _fit_per_line_from_ex(list(lines), target)


#: lines with an amount replaced, by (exact key, amount digits): ``_with_ex``
_REPLACED: Remembered[tuple, InvoiceLine] = Remembered(_CACHE_SIZE)
#: lines fitted by ``_fitted_from_ex``, by exact key (``ExactRecord.exact_key``)
_FITTED: Remembered[str, tuple[InvoiceLine, Decimal | None]] = Remembered(_CACHE_SIZE)


def _with_ex(line: InvoiceLine, ex: Decimal, vat: Decimal) -> InvoiceLine:
    """``line`` with ``ex`` and ``vat`` and a unit price that gives ``ex``: remembered per exact
    value, as the same lines need the same cent moved order after order."""
    if ex == line.total_ex and vat == line.vat_amount:
        return line
    key = (line.exact_key(), str(ex), str(vat))
    made = _REPLACED.get(key)
    if made is None:
        unit = unit_price_for(line.quantity, ex, line.unit_price_ex)
        made = _REPLACED.keep(key, replace(line, total_ex=ex, vat_amount=vat, unit_price_ex=unit))
    return made


def _from_inc(line: InvoiceLine) -> InvoiceLine:
    if line.cost_price is not None or line.vat_rate <= 0:
        return line
    inc = line.total_inc
    vat = round_cents(inc * line.vat_rate / (HUNDRED + line.vat_rate))
    return _with_ex(line, inc - vat, vat)


def _reach(inc: Decimal, rate: Decimal) -> tuple[Decimal, bool]:
    """``(e, exact)``: the amount excl. VAT whose ``e + round(e·r)`` is ``inc`` (or nearest below)."""
    if rate <= ZERO:
        return inc, True
    return _reach_at(inc, rate, str(inc))


@lru_cache(maxsize=_CACHE_SIZE)
def _reach_at(inc: Decimal, rate: Decimal, inc_digits: str | None) -> tuple[Decimal, bool]:
    """``_reach`` at a positive rate, remembered per value (``inc_digits``: ``money.digits``)."""
    start = round_cents(inc * HUNDRED / (HUNDRED + rate))
    if start + _vat(start, rate) == inc:
        return start, True
    for step in _STEPS:
        ex = start + CENT * step
        if ex + _vat(ex, rate) == inc:
            return ex, True
    return start, False


def _fit_per_line_from_ex(lines: list[InvoiceLine], target: Decimal) -> tuple[list[InvoiceLine], bool]:
    residue: dict[Decimal, Decimal] = {}
    booked = ZERO
    for i, line in enumerate(lines):
        rate = line.vat_rate
        if line.cost_price is not None or rate <= ZERO:
            booked += line.total_ex + line.vat_amount
            continue
        key = line.exact_key()
        answer = _FITTED.get(key)
        if answer is None:
            answer = _FITTED.keep(key, _fitted_from_ex(line))
        fitted, missing = answer
        lines[i] = fitted
        booked += fitted.total_ex + fitted.vat_amount
        if missing is not None:
            residue[rate] = residue.get(rate, ZERO) + missing
    if booked + sum(residue.values(), ZERO) != target:  # the rules' lines did not add up: spread it
        rate = max((line.vat_rate for line in lines), default=ZERO)
        residue[rate] = residue.get(rate, ZERO) + target - booked - sum(residue.values(), ZERO)
    corrected = False
    for rate, missing in sorted(residue.items(), reverse=True):
        missing = _absorb(lines, rate, missing, per_invoice=False)
        if missing:
            lines.extend(_correction_lines(missing, rate, lines))
            corrected = True
    return lines, corrected


def _fitted_from_ex(line: InvoiceLine) -> tuple[InvoiceLine, Decimal | None]:
    """One line at a positive rate, its amount excl. VAT ``e`` chosen so that ``e + round(e·r)`` is
    its amount incl. VAT: ``(line, None)``, or the nearest line and the cents it misses.
    Remembered per exact value (``_FITTED``): the same lines come back order after order."""
    inc = line.total_ex + line.vat_amount
    ex, exact = _reach(inc, line.vat_rate)
    vat = _vat(ex, line.vat_rate)
    return _with_ex(line, ex, vat), None if exact else inc - ex - vat


def _absorb(lines: list[InvoiceLine], rate: Decimal, missing: Decimal, *, per_invoice: bool) -> Decimal:
    """Move ``missing`` cents onto lines of ``rate`` whose (group) VAT does not change by it."""
    sizes = []  # (-|amount incl. VAT|, position): largest first, ties by position
    group = ZERO  # the rate's amount excl. VAT, where the target computes VAT per invoice
    for i, line in enumerate(lines):
        if line.vat_rate == rate and line.cost_price is None and line.total_ex:
            sizes.append((-abs(line.total_inc), i))
            if per_invoice:
                group += line.total_ex
    sizes.sort()
    order = [i for _size, i in sizes]
    while missing:
        step = CENT if missing > 0 else -CENT
        moved = False
        for i in order:
            if not missing:
                break
            line = lines[i]
            ex = line.total_ex + step
            if per_invoice:
                if _vat(group + step, rate) != _vat(group, rate):
                    continue
                group += step
                lines[i] = _with_ex(line, ex, line.vat_amount)
            else:
                if _vat(ex, rate) != line.vat_amount:
                    continue
                lines[i] = _with_ex(line, ex, line.vat_amount)
            missing -= step
            moved = True
        if not moved:
            break
    return missing


def _correction_lines(missing: Decimal, rate: Decimal, lines: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """Lines at ``rate`` whose ``ex + round(ex·r)`` add up to ``missing`` (usually one, of a cent)."""
    template = next((line for line in lines if line.vat_rate == rate), None)
    made: list[InvoiceLine] = []
    while missing:
        ex, exact = _reach(missing, rate)
        if not exact:
            ex = CENT if missing > 0 else -CENT
        vat = _vat(ex, rate)
        made.append(_correction(ex, vat, rate, template))
        missing -= ex + vat
    return made


def _correction(ex: Decimal, vat: Decimal, rate: Decimal, template: InvoiceLine | None) -> InvoiceLine:
    """A correction line (one shared record per exact amounts, rate and category: the same cent
    goes missing at the same rate order after order)."""
    category = template.vat_category if template else ("S" if rate else "O")
    reason = template.exemption_reason if template else ""
    code = template.exemption_code if template else ""
    key = (str(ex), str(vat), str(rate), category, reason, code)
    made = _CORRECTIONS.get(key)
    if made is None:
        made = InvoiceLine(
            kind=LineKind.OTHER,
            description=CORRECTION_DESCRIPTION,
            quantity=Decimal(1),
            unit_price_ex=ex,
            vat_rate=rate,
            total_ex=ex,
            vat_amount=vat,
            vat_rate_source="correction",
            vat_category=category,
            exemption_reason=reason,
            exemption_code=code,
            nature="service",
        )
        _CORRECTIONS.keep(key, made)
    return made


_CORRECTIONS: Remembered[tuple, InvoiceLine] = Remembered(_CACHE_SIZE)


def _fit_per_invoice(lines: list[InvoiceLine], target: Decimal) -> tuple[list[InvoiceLine], bool]:
    groups: dict[Decimal, list[int]] = {}
    for i, line in enumerate(lines):
        if line.cost_price is None:
            groups.setdefault(line.vat_rate, []).append(i)
    corrected = False
    for rate, members in groups.items():
        want = sum((lines[i].total_inc for i in members), ZERO)
        net = sum((lines[i].total_ex for i in members), ZERO)
        missing = want - net - _vat(net, rate)
        if missing:
            _absorb(lines, rate, missing, per_invoice=True)
        _spread_group_vat(lines, members, rate)
        short = want - sum((lines[i].total_inc for i in members), ZERO)
        if short:
            lines.append(_correction(short, ZERO, ZERO, None))
            corrected = True
    booked = booked_totals(lines, TotalsMethod.PER_INVOICE).total_inc
    if booked != target:
        lines.append(_correction(target - booked, ZERO, ZERO, None))
        corrected = True
    return lines, corrected


def _spread_group_vat(lines: list[InvoiceLine], members: list[int], rate: Decimal) -> None:
    """Line VAT amounts (informative for this method) that add up to the group's rounded VAT."""
    if rate <= 0:
        for i in members:
            lines[i] = replace(lines[i], vat_amount=ZERO)
        return
    net = sum((lines[i].total_ex for i in members), ZERO)
    want = _vat(net, rate)
    for i in members:
        lines[i] = replace(lines[i], vat_amount=_vat(lines[i].total_ex, rate))
    diff = want - sum((lines[i].vat_amount for i in members), ZERO)
    order = sorted(members, key=lambda i: (-abs(lines[i].total_ex), i))
    while diff and order:
        for i in order:
            if not diff:
                break
            step = CENT if diff > 0 else -CENT
            lines[i] = replace(lines[i], vat_amount=lines[i].vat_amount + step)
            diff -= step
