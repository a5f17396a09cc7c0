"""The rules that turn a shop :class:`Order` into an :class:`Invoice` a target can book.

In libAcumulus's spirit the work is *collect → complete → send*: connectors only collect (translate
the shop's record into an ``Order``); this module completes it; the engine sends. Completing is:

a. **Regime** — :func:`koppeling.core.regime.decide_regime` decides domestic / reverse charge /
   ICP / OSS / export and whose rates apply.
b. **Missing rates** — per line, in this order of strategies:
   ``exact`` (the shop gave the rate) → ``category`` (the line names a VAT category) →
   ``amounts`` (two of ex / inc / VAT amount are known: the nearest known rate of the VAT country
   whose rounding error bound the amounts fit) → ``highest product rate`` (shipping and payment
   fees with a single amount, as Acumulus does for shipping) → ``same rate`` (a discount with a
   single amount when all product lines share one rate). Lines whose amounts are all zero get the
   highest product rate (a free-shipping line then reads "0.00 at 21 %", as the shop shows it), or
   the standard rate when there are no product lines. Anything else stops the order with a
   :class:`RuleError` naming the line.
c. **Apply the regime** — ICP, export and reverse charge at 0 %; OSS at the customer country's rate
   (NL standard → their standard, NL reduced → their ``reduced`` category, a named category → their
   rate for it; rates the shop already gave in the customer's country are kept). If the shop charged
   VAT on a sale the regime says is 0 %, the shop's decision is followed (booked as domestic or OSS)
   with a warning, like libAcumulus picks the VAT type that fits the amounts.
d. **Amounts** — rounded once, half-up, to cents per line. Where the shop gave the price including
   VAT, that is what the customer paid and it is kept: ``total_ex`` is rounded from it and
   ``vat_amount = inc − total_ex``. Then the invoice is made to add up to the order's total to the
   cent (see :func:`_distribute_cents`). Orders whose lines do not add up stop with
   ``totals_mismatch``.
e. **Header** — reference (prefix + number), description, shop, payment status. Which account and
   cost center a booking goes to is the target connector's choice, from its own settings.

Gift-card lines with a negative amount are payments, not revenue: they are left out of the lines
and recorded in ``Invoice.gift_card_amount`` with a warning. A positive gift-card line (a voucher
*sold*) is kept as a 0 % line: a multi-purpose voucher carries no VAT when sold (single-purpose
vouchers do; that case is not modelled and gets a warning).

Nothing here is prose: a refusal is a :class:`RuleError` with a :class:`RuleCode` and parameters,
a warning (``Invoice.warnings``) an :class:`~koppeling.core.messages.Outcome` with a
:class:`WarningCode`, a problem :func:`check_invoice` finds one with a :class:`CheckCode`. Their
texts are registered in :mod:`koppeling.core.texts`. RuleError codes raised here:
``line_amount_missing``, ``vat_rate_missing`` (and ``…_no_product``, ``…_mixed_discount``),
``vat_rate_unknown`` (and ``…_category``, ``…_oss``), ``vat_regime_conflict``, ``totals_mismatch``,
``settings_invalid``, ``vat_data_missing``, plus those of
:func:`~koppeling.core.regime.decide_regime`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from koppeling.core import vat
from koppeling.core.codes import CheckCode, RegimeCode, WarningCode
from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.messages import Outcome
from koppeling.core.models import (
    Invoice,
    InvoiceLine,
    LineKind,
    Order,
    OrderLine,
    PaymentStatus,
    VatRegime,
)
from koppeling.core.money import CENT, HUNDRED, ZERO, quantize, round_cents
from koppeling.core.regime import CONSUMER_FALLBACKS, RegimeDecision, decide_regime

__all__ = ["CheckCode", "InvoiceSettings", "WarningCode", "check_invoice", "order_to_invoice"]

HALF_CENT = Decimal("0.005")
ZERO_RATED = (VatRegime.EU_B2B, VatRegime.EXPORT, VatRegime.REVERSE_CHARGE)


@dataclass(frozen=True, slots=True)
class InvoiceSettings:
    """Per-link choices that shape every invoice (the Configuratie screen).

    ``tolerance`` is how far the order's lines may be from its total incl. VAT (on top of half a
    cent per line whose amount the shop rounded) before the order is refused as inconsistent.
    """

    seller_country: str = "NL"
    oss_registered: bool = True
    reference_prefix: str = ""
    description_template: str = "Bestelling {number}"
    payment_status: PaymentStatus | None = None  # None: PAID if order.paid else DUE
    strict_icp: bool = False
    tolerance: Decimal = Decimal("0.01")


@dataclass(slots=True)
class _Work:
    """A line being completed; ``ex``/``inc`` are the shop's unrounded line totals, when known."""

    index: int
    line: OrderLine
    ex: Decimal | None
    inc: Decimal | None
    rate: Decimal | None = None
    source: str = "exact"
    shop_rate: Decimal | None = None  # the rate the shop's amounts are at (before the regime)

    @property
    def field(self) -> str:
        return f"lines[{self.index}]"

    @property
    def facts(self) -> dict[str, Any]:
        """The line as outcome parameters: its number (from 1) and description (or kind)."""
        return {"line": self.index + 1, "description": self.line.description or self.line.kind.value}

    @property
    def is_zero(self) -> bool:
        return all(amount is None or amount == 0 for amount in (self.ex, self.inc))

    def shop_inc(self) -> Decimal:
        """The line's total incl. VAT as the shop sees it (computed when only ex is known)."""
        if self.inc is not None:
            return self.inc
        assert self.ex is not None and self.shop_rate is not None
        return self.ex * (HUNDRED + self.shop_rate) / HUNDRED


def _rate(rate: Decimal) -> Decimal:
    """A rate as a parameter: ``21``, not ``21.00`` (texts add the ``%``)."""
    return rate.normalize()


def _rates_text(rates: Iterable[Decimal]) -> str:
    """A list of rates as one parameter, e.g. ``21%, 9%, 0%``."""
    return ", ".join(f"{rate.normalize():f}%" for rate in rates)


def _data_facts(exc: vat.VatDataError, country: str, on: dt.date) -> dict[str, Any]:
    """Parameters of ``vat_data_missing``: what the VAT data could not answer."""
    return {"country": exc.country or country, "date": exc.on or on, "category": exc.category}


def _collect(index: int, line: OrderLine) -> _Work:
    """Line totals from unit prices and the stated VAT amount, without any rounding."""
    qty = line.quantity
    ex = qty * line.unit_price_ex if line.unit_price_ex is not None else None
    inc = qty * line.unit_price_inc if line.unit_price_inc is not None else None
    if line.vat_amount is not None:
        if inc is None and ex is not None:
            inc = ex + line.vat_amount
        elif ex is None and inc is not None:
            ex = inc - line.vat_amount
    work = _Work(index, line, ex, inc)
    if ex is None and inc is None:
        raise RuleError(RuleCode.LINE_AMOUNT_MISSING, work.facts, field=work.field)
    return work


def _fit_rate(work: _Work, candidates: list[Decimal]) -> Decimal | None:
    """The candidate rate nearest to the line's ex/inc amounts within their rounding error.

    Both unit prices (or the VAT amount) may have been rounded to cents by the shop, so
    ``ex × (1 + r)`` may miss ``inc`` by up to half a cent per unit on each side; a candidate is
    accepted within that bound and the nearest one wins, ties going to the earlier candidate (the
    VAT country's rates come first).
    """
    assert work.ex is not None and work.inc is not None
    units = max(abs(work.line.quantity), Decimal(1))
    best: tuple[Decimal, int, Decimal] | None = None
    for order, rate in enumerate(candidates):
        distance = abs(work.ex * (HUNDRED + rate) / HUNDRED - work.inc)
        bound = HALF_CENT * units * (2 + rate / HUNDRED) + HALF_CENT
        if distance <= bound and (best is None or (distance, order) < (best[0], best[1])):
            best = (distance, order, rate)
    return None if best is None else best[2]


def _candidates(decision: RegimeDecision, seller: str, on: dt.date) -> list[Decimal]:
    """Rates a shop could have used: the VAT country's first, then the seller's, highest first."""
    countries = [decision.vat_country] if decision.vat_country == seller else [decision.vat_country, seller]
    ordered: list[Decimal] = []
    for country in countries:
        for rate in sorted(vat.known_rates(country, on), reverse=True):
            if rate not in ordered:
                ordered.append(rate)
    return ordered


def _complete_rates(works: list[_Work], decision: RegimeDecision, seller: str, on: dt.date) -> None:
    """Give every line the rate the shop's amounts are at (step b); see the module docstring."""
    candidates = _candidates(decision, seller, on)
    deferred = [work for work in works if not _complete_own_rate(work, decision, on, candidates)]
    product_rates = [w.rate for w in works if w.line.kind == LineKind.PRODUCT and w.rate is not None]
    for work in deferred:
        work.rate = _deferred_rate(work, product_rates, decision, on)
        work.source = "completed"
        work.shop_rate = work.rate


def _complete_own_rate(work: _Work, decision: RegimeDecision, on: dt.date, candidates: list[Decimal]) -> bool:
    """Complete a line's rate from the line itself; False when it must wait for the product lines."""
    line = work.line
    if line.vat_rate is not None:
        work.rate, work.source = line.vat_rate, "exact"
    elif work.is_zero:
        return False
    elif line.vat_category:
        work.rate, work.source = _category_rate(work, decision.vat_country, on), "completed"
    elif work.ex is not None and work.inc is not None:
        rate = _fit_rate(work, candidates)
        if rate is None:
            raise _unknown_rate(work, decision.vat_country, on, candidates)
        work.rate, work.source = rate, "completed"
    elif line.kind in (LineKind.SHIPPING, LineKind.PAYMENT_FEE, LineKind.DISCOUNT):
        return False
    else:
        raise RuleError(RuleCode.VAT_RATE_MISSING, work.facts, field=work.field)
    work.shop_rate = work.rate
    return True


def _unknown_rate(work: _Work, country: str, on: dt.date, candidates: list[Decimal]) -> RuleError:
    """``vat_rate_unknown``: the line's two amounts fit none of the candidate rates."""
    assert work.ex is not None and work.inc is not None
    implied: Decimal | str = (
        ((work.inc - work.ex) * HUNDRED / work.ex).quantize(Decimal("0.1")) if work.ex else "∞"
    )
    params = {
        **work.facts,
        "ex": round_cents(work.ex),
        "inc": round_cents(work.inc),
        "implied": implied,
        "country": country,
        "date": on,
        "known": _rates_text(candidates),
    }
    return RuleError(RuleCode.VAT_RATE_UNKNOWN, params, field=work.field)


def _deferred_rate(
    work: _Work, product_rates: list[Decimal], decision: RegimeDecision, on: dt.date
) -> Decimal:
    """The rate of a zero-amount line, or of shipping / fee / discount with one amount."""
    if work.is_zero:
        if product_rates:
            return max(product_rates)
        return Decimal(0) if decision.regime in ZERO_RATED else _standard(decision, on)
    if not product_rates:
        params = {**work.facts, "kind": work.line.kind.value}
        raise RuleError(RuleCode.VAT_RATE_MISSING_NO_PRODUCT, params, field=work.field)
    if work.line.kind == LineKind.DISCOUNT:
        if len(set(product_rates)) > 1:
            params = {**work.facts, "rates": _rates_text(sorted(set(product_rates)))}
            raise RuleError(RuleCode.VAT_RATE_MISSING_MIXED_DISCOUNT, params, field=work.field)
        return product_rates[0]
    return max(product_rates)  # shipping / payment fee: same rate as the highest-rated product line


def _standard(decision: RegimeDecision, on: dt.date) -> Decimal:
    try:
        return vat.standard_rate(decision.vat_country, on)
    except vat.VatDataError as exc:
        raise RuleError(RuleCode.VAT_DATA_MISSING, _data_facts(exc, decision.vat_country, on)) from exc


def _category_rate(work: _Work, country: str, on: dt.date) -> Decimal:
    try:
        return vat.rate_for(country, work.line.vat_category, on)
    except vat.VatDataError as exc:
        params = {
            **work.facts,
            "category": work.line.vat_category,
            "country": exc.country or vat.normalize_country(country),
            "date": on,
        }
        raise RuleError(
            RuleCode.VAT_RATE_UNKNOWN_CATEGORY, params, field=f"{work.field}.vat_category"
        ) from exc


def _charged_rates(works: Iterable[_Work]) -> set[Decimal]:
    return {w.rate for w in works if w.rate and not w.is_zero}  # type: ignore[misc]


def _resolve_conflict(
    works: list[_Work],
    decision: RegimeDecision,
    seller: str,
    destination: str,
    on: dt.date,
    settings: InvoiceSettings,
) -> tuple[RegimeDecision, list[Outcome]]:
    """Follow the shop when it charged VAT on a sale the rules would make 0 %.

    Like libAcumulus choosing the VAT type that fits the amounts: VAT the customer paid at the
    seller's rates makes a domestic sale; at the customer's country rates (EU, OSS seller) an OSS
    sale. Anything else cannot be booked as charged and stops the order.
    """
    charged = _charged_rates(works)
    if decision.regime not in ZERO_RATED or not charged:
        return decision, []
    dest = vat.normalize_country(destination)
    rates = _rates_text(sorted(charged))
    zero = {"rates": rates, "regime": decision.regime, "reason": decision.reason.code, "country": dest}
    warning = Outcome(WarningCode.VAT_CHARGED_ON_ZERO_RATED, zero)
    if charged <= vat.known_rates(seller, on):
        reason = Outcome(RegimeCode.CHARGED_DOMESTIC, {"seller": seller, "rates": rates, "country": dest})
        return RegimeDecision(VatRegime.DOMESTIC, seller, reason, decision.vat_number_valid), [warning]
    oss_possible = settings.oss_registered and on >= vat.OSS_START and vat.is_eu(dest, on)
    if decision.regime == VatRegime.EU_B2B and oss_possible and charged <= vat.known_rates(dest, on):
        reason = Outcome(RegimeCode.CHARGED_OSS, {"country": dest, "rates": rates, "seller": seller})
        return RegimeDecision(VatRegime.EU_B2C_OSS, dest, reason, decision.vat_number_valid), [warning]
    raise RuleError(RuleCode.VAT_REGIME_CONFLICT, {**zero, "seller": seller}, field="lines")


def _apply_regime(works: list[_Work], decision: RegimeDecision, seller: str, on: dt.date) -> list[Outcome]:
    """Set the rates the invoice uses under the regime (step c); returns warnings."""
    warnings: list[Outcome] = []
    if decision.regime in ZERO_RATED:
        for work in works:
            if work.rate != 0:  # only zero-amount lines can get here (conflicts were resolved)
                work.rate, work.source = Decimal(0), "regime"
        return warnings
    if decision.regime == VatRegime.DOMESTIC:
        known = vat.known_rates(seller, on)
        for work in works:
            assert work.rate is not None
            if work.rate not in known:
                params = {**work.facts, "rate": _rate(work.rate), "seller": seller, "date": on}
                warnings.append(Outcome(WarningCode.RATE_NOT_SELLER_RATE, params))
        return warnings
    # OSS: the customer country's rates.
    dest = decision.vat_country
    dest_known = vat.known_rates(dest, on)
    if _charged_rates(works) <= dest_known:
        return warnings  # the shop already used the customer's country rates
    seller_standard = vat.standard_rate(seller, on)
    seller_known = vat.known_rates(seller, on)
    for work in works:
        assert work.rate is not None
        old = work.rate
        if work.line.vat_category:
            new = _category_rate(work, dest, on)
        elif old == 0:
            new = old
        elif old == seller_standard:
            new = vat.standard_rate(dest, on)
        elif old in seller_known:
            try:
                new = vat.rate_for(dest, "reduced", on)
            except vat.VatDataError as exc:
                raise RuleError(
                    RuleCode.VAT_DATA_MISSING, _data_facts(exc, dest, on), field=work.field
                ) from exc
            params = {
                **work.facts,
                "seller": seller,
                "rate": _rate(old),
                "country": dest,
                "new_rate": _rate(new),
            }
            warnings.append(Outcome(WarningCode.REDUCED_RATE_CARRIED_OVER, params))
        elif old in dest_known:
            new = old
        else:
            params = {**work.facts, "rate": _rate(old), "seller": seller, "country": dest, "date": on}
            raise RuleError(RuleCode.VAT_RATE_UNKNOWN_OSS, params, field=work.field)
        if new != old:
            work.rate, work.source = new, "regime"
    return warnings


def _amounts(work: _Work) -> tuple[Decimal, Decimal, bool]:
    """``(total_ex, vat_amount, inconsistent)`` rounded once to cents (step d).

    The price incl. VAT, when the shop gave it, is what the customer paid and is kept; when the
    regime changed the rate of an ex-only line, ex is kept and VAT recomputed.
    """
    rate = work.rate
    assert rate is not None
    same_rate = rate == work.shop_rate
    if work.inc is not None and work.ex is not None and same_rate:
        total_ex = round_cents(work.ex)
        vat_amount = round_cents(work.inc) - total_ex
        if abs(vat_amount - round_cents(total_ex * rate / HUNDRED)) <= CENT:
            return total_ex, vat_amount, False
        inconsistent = True
    else:
        inconsistent = False
    if work.inc is not None:
        inc = round_cents(work.inc)
        total_ex = round_cents(work.inc * HUNDRED / (HUNDRED + rate))
        return total_ex, inc - total_ex, inconsistent
    assert work.ex is not None
    return round_cents(work.ex), round_cents(work.ex * rate / HUNDRED), False


def _unit_price_ex(work: _Work, total_ex: Decimal) -> Decimal:
    """Unit price excl. VAT: the shop's own when still valid, else derived, at up to 4 decimals."""
    line, rate = work.line, work.rate
    assert rate is not None
    if line.unit_price_ex is not None and rate == work.shop_rate and work.inc is None:
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


def _vat_ok(total_ex: Decimal, vat_amount: Decimal, rate: Decimal) -> bool:
    if rate == 0:
        return vat_amount == 0
    return abs(vat_amount - round_cents(total_ex * rate / HUNDRED)) <= CENT


def _distribute_cents(lines: list[InvoiceLine], difference: Decimal) -> list[InvoiceLine] | None:
    """Make the lines add up to ``total + difference`` by moving single cents, deterministically.

    The rule: lines are visited largest first (by absolute amount incl. VAT, ties by position),
    skipping zero-amount lines; each visit moves one cent onto the line's VAT amount if the VAT
    stays within one cent of ``round(total_ex × rate)`` (never on a 0 % line), else onto its
    ``total_ex`` under the same condition; rounds repeat while cents remain and some line took one.
    Returns ``None`` when the difference cannot be absorbed that way.
    """
    result = list(lines)
    step = CENT if difference > 0 else -CENT
    remaining = abs(difference) / CENT
    if remaining != remaining.to_integral_value():
        return None  # not whole cents (a total the shop did not round): no cent-moving makes it
    order = sorted(
        (i for i, line in enumerate(result) if line.total_inc != 0),
        key=lambda i: (-abs(result[i].total_inc), i),
    )
    while remaining:
        moved = False
        for i in order:
            if not remaining:
                break
            line = result[i]
            if line.vat_rate != 0 and _vat_ok(line.total_ex, line.vat_amount + step, line.vat_rate):
                result[i] = _replace(line, vat_amount=line.vat_amount + step)
            elif _vat_ok(line.total_ex + step, line.vat_amount, line.vat_rate):
                result[i] = _replace(line, total_ex=line.total_ex + step)
            else:
                continue
            remaining -= 1
            moved = True
        if not moved:
            return None
    return result


def _replace(line: InvoiceLine, **changes: Decimal) -> InvoiceLine:
    return replace(line, **changes)


def _header(order: Order, settings: InvoiceSettings) -> tuple[str, str]:
    reference = f"{settings.reference_prefix}{order.number}"
    try:
        description = settings.description_template.format_map(
            {"number": reference, "order_number": order.number, "shop": order.shop, "date": order.date}
        )
    except (KeyError, ValueError, IndexError) as exc:
        params = {"template": settings.description_template, "detail": str(exc)}
        raise RuleError(RuleCode.SETTINGS_INVALID, params, field="settings.description_template") from exc
    return reference, description


def _regime_fallback(decision: RegimeDecision) -> Outcome:
    """The warning for an EU business sale decided as a consumer sale (no valid VAT number)."""
    facts = decision.reason.params
    params = {
        "reason": decision.reason.code,
        "country": facts.get("country", ""),
        "vat_country": decision.vat_country,
        "vat_number": facts.get("vat_number", ""),
    }
    return Outcome(WarningCode.REGIME_FALLBACK, params)


def _split_gift_cards(order: Order, warnings: list[Outcome]) -> tuple[list[_Work], list[_Work], Decimal]:
    """Collect the lines: ``(revenue lines, vouchers sold, gift-card payments)``."""
    works: list[_Work] = []
    vouchers_sold: list[_Work] = []
    gift_cards = ZERO
    for index, line in enumerate(order.lines):
        work = _collect(index, line)
        if line.kind != LineKind.GIFT_CARD:
            works.append(work)
            continue
        amount = work.inc if work.inc is not None else work.ex
        assert amount is not None
        work.ex = work.inc = amount
        work.rate = work.shop_rate = Decimal(0)
        work.source = "regime"
        if amount < 0:
            gift_cards -= amount
            params = {**work.facts, "amount": round_cents(-amount)}
            warnings.append(Outcome(WarningCode.GIFT_CARD_PAYMENT_LEFT_OUT, params))
        else:
            vouchers_sold.append(work)
            params = {**work.facts, "amount": round_cents(amount)}
            warnings.append(Outcome(WarningCode.GIFT_CARD_SOLD_AT_ZERO, params))
    return works, vouchers_sold, gift_cards


def _check_order_total(
    order: Order,
    works: list[_Work],
    vouchers_sold: list[_Work],
    gift_cards: Decimal,
    settings: InvoiceSettings,
) -> None:
    """Refuse an order whose lines (in the shop's terms) do not add up to its total."""
    order_lines_inc = (
        sum((w.shop_inc() for w in works), ZERO)
        - gift_cards
        + sum((w.shop_inc() for w in vouchers_sold), ZERO)
    )
    inexact = sum(1 for w in works if w.inc is None or w.inc != round_cents(w.inc))
    allowed = settings.tolerance + HALF_CENT * inexact
    if abs(order_lines_inc - order.total_inc) > allowed:
        params = {
            "lines_total": round_cents(order_lines_inc),
            "order_total": round_cents(order.total_inc),
            "difference": round_cents(order.total_inc - order_lines_inc),
        }
        raise RuleError(RuleCode.TOTALS_MISMATCH, params, field="total_inc")


def _complete(
    order: Order,
    lines: tuple[list[_Work], list[_Work], Decimal],
    decision: RegimeDecision,
    seller: str,
    settings: InvoiceSettings,
) -> tuple[RegimeDecision, list[Outcome]]:
    """Steps b and c: complete the rates in the shop's terms, check the total, apply the regime."""
    works, vouchers_sold, gift_cards = lines
    on = order.date
    try:
        _complete_rates(works, decision, seller, on)
        _check_order_total(order, works, vouchers_sold, gift_cards, settings)
        decision, warnings = _resolve_conflict(works, decision, seller, order.country_code, on, settings)
        warnings += _apply_regime(works, decision, seller, on)
    except vat.VatDataError as exc:
        raise RuleError(RuleCode.VAT_DATA_MISSING, _data_facts(exc, decision.vat_country, on)) from exc
    return decision, warnings


def _invoice_lines(works: list[_Work], warnings: list[Outcome]) -> tuple[list[InvoiceLine], bool]:
    """Step d: each line rounded once; also whether an ex-only line was re-rated by the regime."""
    lines: list[InvoiceLine] = []
    rerated_ex_only = False
    for work in sorted(works, key=lambda w: w.index):  # the shop's line order
        assert work.rate is not None
        total_ex, vat_amount, inconsistent = _amounts(work)
        if inconsistent:
            warnings.append(
                Outcome(WarningCode.LINE_AMOUNTS_INCONSISTENT, {**work.facts, "rate": _rate(work.rate)})
            )
        if work.inc is None and work.rate != work.shop_rate and not work.is_zero:
            rerated_ex_only = True
        lines.append(
            InvoiceLine(
                kind=work.line.kind,
                description=work.line.description,
                quantity=work.line.quantity,
                unit_price_ex=_unit_price_ex(work, total_ex),
                vat_rate=work.rate,
                total_ex=total_ex,
                vat_amount=vat_amount,
                sku=work.line.sku,
                vat_rate_source=work.source,
            )
        )
    return lines, rerated_ex_only


def _add_up(
    lines: list[InvoiceLine],
    target: Decimal,
    rerated_ex_only: bool,
    vat_country: str,
    warnings: list[Outcome],
) -> list[InvoiceLine]:
    """Make the lines add up to ``target`` (or warn when re-rated ex-only prices cannot)."""
    total = sum((line.total_inc for line in lines), ZERO)
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
    distributed = _distribute_cents(lines, difference)
    if distributed is None:
        params = {
            "lines_total": round_cents(total),
            "order_total": round_cents(target),
            "difference": round_cents(difference),
        }
        raise RuleError(RuleCode.TOTALS_MISMATCH, params, field="total_inc")
    return distributed


def order_to_invoice(
    order: Order, settings: InvoiceSettings | None = None, *, today: dt.date | None = None
) -> Invoice:
    """Complete ``order`` into an invoice (steps a–e of the module docstring).

    Args:
        order: the shop's order as a connector collected it.
        settings: the link's invoice settings (defaults: NL seller, OSS-registered).
        today: the processing date, only used to warn about orders dated in the future.

    Raises:
        RuleError: when the order cannot become a correct invoice as it stands; ``code``,
            ``params`` and ``field`` say which line and what is wrong.

    >>> from koppeling.core.models import Party
    >>> book = OrderLine(LineKind.PRODUCT, "Boek", unit_price_inc=Decimal("10.90"), vat_rate=Decimal(9))
    >>> shipping = OrderLine(LineKind.SHIPPING, "Verzending", unit_price_inc=Decimal("4.95"))
    >>> order = Order("1", "1001", dt.date(2026, 1, 5), Party(name="An"), (book, shipping),
    ...               total_inc=Decimal("15.85"), paid=True)
    >>> invoice = order_to_invoice(order)
    >>> [(line.total_ex, line.vat_rate, line.vat_amount) for line in invoice.lines]
    [(Decimal('10.00'), Decimal('9'), Decimal('0.90')), (Decimal('4.54'), Decimal('9'), Decimal('0.41'))]
    >>> invoice.total_inc, invoice.regime_reason.code
    (Decimal('15.85'), <RegimeCode.DOMESTIC: 'regime_domestic'>)
    """
    settings = settings or InvoiceSettings()
    seller = vat.normalize_country(settings.seller_country)
    on = order.date
    warnings: list[Outcome] = []
    if today is not None and on > today:
        warnings.append(Outcome(WarningCode.ORDER_DATED_IN_FUTURE, {"date": on, "today": today}))

    # (a) regime
    decision = decide_regime(
        seller,
        order.customer,
        on,
        oss_registered=settings.oss_registered,
        vat_hint=order.vat_hint,
        strict_icp=settings.strict_icp,
        destination=order.country_code,
    )
    if decision.reason.code in CONSUMER_FALLBACKS:
        warnings.append(_regime_fallback(decision))

    # collect: split gift-card payments from revenue lines; (b), (c) complete rates, apply the regime
    works, vouchers_sold, gift_cards = collected = _split_gift_cards(order, warnings)
    decision, regime_warnings = _complete(order, collected, decision, seller, settings)
    warnings += regime_warnings

    # (d) amounts, rounded once per line, made to add up
    lines, rerated_ex_only = _invoice_lines([*works, *vouchers_sold], warnings)
    lines = _add_up(lines, order.total_inc + gift_cards, rerated_ex_only, decision.vat_country, warnings)

    # (e) header
    reference, description = _header(order, settings)
    status = settings.payment_status or (PaymentStatus.PAID if order.paid else PaymentStatus.DUE)
    return Invoice(
        reference=reference,
        description=description,
        issue_date=on,
        regime=decision.regime,
        customer=order.customer,
        lines=lines,
        vat_country=decision.vat_country,
        currency=order.currency,
        payment_status=status,
        payment_date=on if status == PaymentStatus.PAID else None,
        payment_method=order.payment_method,
        shop=order.shop,
        source_total_inc=order.total_inc,
        warnings=warnings,
        gift_card_amount=gift_cards,
        regime_reason=decision.reason,
    )


def check_invoice(invoice: Invoice, *, tolerance: Decimal = CENT) -> list[Outcome]:
    """Problems that would make a target reject the invoice or book it wrongly; empty when fine.

    Checks every line's amounts are whole cents, its VAT is ``round(total_ex × rate)`` within one
    cent (exactly 0 at 0 %), zero-rated regimes have only 0 % lines, and the lines add up to the
    source total (``source_total_inc + gift_card_amount``) within ``tolerance``. Each problem is an
    outcome with a :class:`CheckCode`.
    """
    problems: list[Outcome] = []
    for i, line in enumerate(invoice.lines):
        where = {"index": i, "description": line.description}
        for name in ("total_ex", "vat_amount"):
            amount: Decimal = getattr(line, name)
            if amount != round_cents(amount):
                problems.append(
                    Outcome(CheckCode.AMOUNT_NOT_CENTS, {**where, "name": name, "amount": amount})
                )
        if line.vat_rate < 0:
            problems.append(Outcome(CheckCode.NEGATIVE_VAT_RATE, {**where, "rate": line.vat_rate}))
        elif not _vat_ok(line.total_ex, line.vat_amount, line.vat_rate):
            params = {
                **where,
                "vat_amount": line.vat_amount,
                "rate": _rate(line.vat_rate),
                "total_ex": line.total_ex,
                "expected": round_cents(line.total_ex * line.vat_rate / HUNDRED),
            }
            problems.append(Outcome(CheckCode.VAT_MISMATCH, params))
        if invoice.regime in ZERO_RATED and line.vat_rate != 0:
            params = {**where, "regime": invoice.regime, "rate": _rate(line.vat_rate)}
            problems.append(Outcome(CheckCode.ZERO_RATED_LINE_WITH_VAT, params))
    if invoice.source_total_inc is not None:
        expected_total = invoice.source_total_inc + invoice.gift_card_amount
        if abs(invoice.total_inc - expected_total) > tolerance:
            params = {"total": invoice.total_inc, "expected": expected_total}
            problems.append(Outcome(CheckCode.TOTAL_DIFFERS, params))
    return problems
