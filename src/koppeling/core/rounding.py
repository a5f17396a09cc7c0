"""Step d of the invoicing rules: each line rounded once to cents, the invoice made to add up.

Where the shop gave the price including VAT, that is what the customer paid and it is kept:
``total_ex`` is rounded from it and ``vat_amount = inc − total_ex``. Then the invoice is made to add
up to the order's total to the cent by moving single cents (:func:`distribute_cents`); making it
add up *in the target's own computation* is ``koppeling.core.fitting``'s job, after this.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from koppeling.core.codes import WarningCode
from koppeling.core.completion import Work
from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.messages import Outcome
from koppeling.core.models import InvoiceLine, OrderLine
from koppeling.core.money import CENT, HUNDRED, ZERO, digits, quantize, round_cents
from koppeling.core.remembered import Remembered

__all__ = ["LINE_CACHE_SIZE", "add_up", "distribute_cents", "invoice_lines", "rounded_line", "vat_ok"]

#: distinct lines the per-line steps remember: a shop's lines repeat (the same products at the same
#: prices); bounded so memory stays flat (core's line caches together: ~12 MB when every line is new)
LINE_CACHE_SIZE = 2048


def amounts(work: Work) -> tuple[Decimal, Decimal, bool]:
    """``(total_ex, vat_amount, inconsistent)`` rounded once to cents.

    The price incl. VAT, when the shop gave it, is what the customer paid and is kept; when the
    regime changed the rate of an ex-only line, ex is kept and VAT recomputed.
    """
    rate = work.rate
    assert rate is not None
    inconsistent = False
    if work.inc is not None and work.ex is not None and rate == work.shop_rate:
        total_ex = round_cents(work.ex)
        vat_amount = round_cents(work.inc) - total_ex
        if abs(vat_amount - round_cents(total_ex * rate / HUNDRED)) <= CENT:
            return total_ex, vat_amount, False
        inconsistent = True
    if work.inc is not None:
        inc = round_cents(work.inc)
        total_ex = round_cents(work.inc * HUNDRED / (HUNDRED + rate))
        return total_ex, inc - total_ex, inconsistent
    assert work.ex is not None
    return round_cents(work.ex), round_cents(work.ex * rate / HUNDRED), False


def unit_price_ex(work: Work, total_ex: Decimal) -> Decimal:
    """Unit price excl. VAT: the shop's own when still valid, else derived, at up to 4 decimals."""
    line, rate = work.line, work.rate
    assert rate is not None
    if line.unit_price_ex is not None and rate == work.shop_rate and work.inc is None and not work.part:
        exact = line.unit_price_ex
    elif line.quantity:
        exact = (work.inc * HUNDRED / (HUNDRED + rate) if work.inc is not None else total_ex) / line.quantity
    elif line.unit_price_inc is not None:
        exact = line.unit_price_inc * HUNDRED / (HUNDRED + rate)
    else:
        exact = line.unit_price_ex or ZERO
    four = quantize(exact, 4)
    two = quantize(exact, 2)
    return two if two == four else four


def vat_ok(total_ex: Decimal, vat_amount: Decimal, rate: Decimal) -> bool:
    if rate == ZERO:
        return vat_amount == ZERO
    return abs(vat_amount - round_cents(total_ex * rate / HUNDRED)) <= CENT


def invoice_lines(
    works: list[Work], warnings: list[Outcome], category: str
) -> tuple[list[InvoiceLine], bool]:
    """Each line rounded once; also whether an ex-only line was re-rated by the regime."""
    lines: list[InvoiceLine] = []
    rerated_ex_only = False
    for work in works:
        assert work.rate is not None
        line = work.line
        if line.margin:
            lines.append(_margin_line(work))
            continue
        if work.inc is None and work.rate != work.shop_rate and not work.is_zero:
            # re-rated by the regime (OSS): what the customer paid incl. the shop's VAT is kept, and
            # split at the new rate — the target books what was paid, the VAT due is the new rate's
            work.inc = work.shop_inc()
        key = (
            line.exact_key(),
            digits(work.ex),
            digits(work.inc),
            str(work.rate),
            work.shop_rate,
            work.source,
            work.part,
            category,
        )
        answer = _ROUNDED.get(key)
        if answer is None:
            answer = _ROUNDED.keep(
                key,
                rounded_line(
                    line, work.ex, work.inc, work.rate, work.shop_rate, work.source, work.part, category
                ),
            )
        invoice_line, inconsistent = answer
        if inconsistent:
            params = {**work.facts, "rate": work.rate.normalize()}
            warnings.append(Outcome(WarningCode.LINE_AMOUNTS_INCONSISTENT, params))
        lines.append(invoice_line)
    return lines, rerated_ex_only


#: rounded lines by exact inputs (``invoice_lines``): the line's exact key, the digits of its
#: amounts and rate (a remembered line keeps the very digits, and the sign of a zero, it was given)
_ROUNDED: Remembered[tuple, tuple[InvoiceLine, bool]] = Remembered(LINE_CACHE_SIZE)


def rounded_line(
    line: OrderLine,
    ex: Decimal | None,
    inc: Decimal | None,
    rate: Decimal,
    shop_rate: Decimal | None,
    source: str,
    part: int,
    category: str,
) -> tuple[InvoiceLine, bool]:
    """One completed line rounded once to cents: ``(invoice line, amounts inconsistent)``.

    A pure function of its arguments, remembered per exact value by ``invoice_lines``: a shop's
    lines repeat (the same products at the same prices), so each distinct line is rounded once.
    """
    work = Work(0, line, ex, inc, rate, source, shop_rate, part)
    total_ex, vat_amount, inconsistent = amounts(work)
    made = InvoiceLine(
        kind=line.kind,
        description=line.description,
        quantity=line.quantity,
        unit_price_ex=unit_price_ex(work, total_ex),
        vat_rate=rate,
        total_ex=total_ex,
        vat_amount=vat_amount,
        sku=line.sku,
        vat_rate_source=source,
        vat_category=category if rate or category != "S" else "Z",
        unit_code=line.unit_code or "C62",
        nature=line.nature or "goods",
    )
    return made, inconsistent


def _margin_line(work: Work) -> InvoiceLine:
    """A margin-scheme line: VAT is on the margin (price − purchase price), included in the price."""
    assert work.rate is not None
    line = work.line
    inc = round_cents(work.inc if work.inc is not None else work.shop_inc())
    cost = round_cents(line.cost_price * line.quantity) if line.cost_price is not None else inc
    margin = max(inc - cost, ZERO)
    vat_amount = round_cents(margin * work.rate / (HUNDRED + work.rate))
    total_ex = inc - vat_amount
    return InvoiceLine(
        kind=line.kind,
        description=line.description,
        quantity=line.quantity,
        unit_price_ex=quantize(total_ex / line.quantity, 4) if line.quantity else total_ex,
        vat_rate=work.rate,
        total_ex=total_ex,
        vat_amount=vat_amount,
        sku=line.sku,
        vat_rate_source=work.source,
        vat_category="S",
        exemption_reason="Margin scheme - Second hand goods",
        exemption_code="VATEX-EU-F",
        unit_code=line.unit_code or "C62",
        nature="goods",
        cost_price=cost,
    )


def distribute_cents(lines: list[InvoiceLine], difference: Decimal) -> list[InvoiceLine] | None:
    """Make the lines add up to ``total + difference`` by moving single cents, deterministically.

    The rule: lines are visited largest first (by absolute amount incl. VAT, ties by position),
    skipping zero-amount and margin lines; each visit moves one cent onto the line's VAT amount if
    the VAT stays within one cent of ``round(total_ex × rate)`` (never on a 0 % line), else onto its
    ``total_ex`` under the same condition; rounds repeat while cents remain and some line took one.
    Returns ``None`` when the difference cannot be absorbed that way.
    """
    result = list(lines)
    step = CENT if difference > 0 else -CENT
    remaining = abs(difference) / CENT
    if remaining != remaining.to_integral_value():
        return None  # not whole cents (a total the shop did not round): no cent-moving makes it
    order = sorted(
        (i for i, line in enumerate(result) if line.total_inc != 0 and line.cost_price is None),
        key=lambda i: (-abs(result[i].total_inc), i),
    )
    while remaining:
        moved = False
        for i in order:
            if not remaining:
                break
            line = result[i]
            if line.vat_rate != 0 and vat_ok(line.total_ex, line.vat_amount + step, line.vat_rate):
                result[i] = replace(line, vat_amount=line.vat_amount + step)
            elif vat_ok(line.total_ex + step, line.vat_amount, line.vat_rate):
                result[i] = replace(line, total_ex=line.total_ex + step)
            else:
                continue
            remaining -= 1
            moved = True
        if not moved:
            return None
    return result


def add_up(
    lines: list[InvoiceLine],
    target: Decimal,
    rerated_ex_only: bool,
    vat_country: str,
    warnings: list[Outcome],
) -> list[InvoiceLine]:
    """Make the lines add up to ``target`` (or warn when re-rated ex-only prices cannot)."""
    total = ZERO
    for line in lines:
        total += line.total_ex + line.vat_amount  # InvoiceLine.total_inc
    if rerated_ex_only:
        if total != target:
            params = {
                "invoice_total": round_cents(total),
                "order_total": round_cents(target),
                "country": vat_country,
            }
            warnings.append(Outcome(WarningCode.TOTAL_DIFFERS_AFTER_RERATING, params))
        return lines
    difference = target - total
    if not difference:
        return lines
    distributed = distribute_cents(lines, difference)
    if distributed is None:
        params = {
            "lines_total": round_cents(total),
            "order_total": round_cents(target),
            "difference": round_cents(difference),
        }
        raise RuleError(RuleCode.TOTALS_MISMATCH, params, field="total_inc")
    return distributed
