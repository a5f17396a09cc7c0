"""Steps b and c of the invoicing rules: complete every line's VAT rate, apply the regime.

Collect → complete, as libAcumulus: each line becomes a :class:`Work` (the shop's unrounded line
totals and the rate found so far); :func:`complete_rates` gives every line the rate the shop's
amounts are at, :func:`apply_regime` the rate the invoice uses. See ``koppeling.core.invoicing``
for the strategies and ``docs/decisions/0002`` and ``0004`` for why.

Shipping, payment fees and discounts without a rate of their own follow the goods: on an order
whose goods all have one rate they take it; over several rates they are **split in proportion to
the goods' amounts per rate** (the default; ``fee_allocation="highest"`` puts shipping and fees at
the highest rate instead, as Acumulus does — discounts are always split, because a discount at the
highest rate would reduce VAT that was never charged). The split is exact: the parts add up to the
line's amount to the cent, the largest share taking the remainder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from koppeling.core import vat
from koppeling.core.codes import RegimeCode, WarningCode
from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.messages import Outcome
from koppeling.core.models import LineKind, OrderLine, VatRegime
from koppeling.core.money import HUNDRED, ZERO, round_cents
from koppeling.core.regime import RegimeDecision

__all__ = ["ZERO_RATED", "Work", "apply_regime", "collect", "complete_rates", "resolve_conflict"]

HALF_CENT = Decimal("0.005")
ZERO_RATED = (VatRegime.EU_B2B, VatRegime.EXPORT, VatRegime.REVERSE_CHARGE)
_FEES = (LineKind.SHIPPING, LineKind.PAYMENT_FEE)


@dataclass(slots=True)
class Work:
    """A line being completed; ``ex``/``inc`` are the shop's unrounded line totals, when known."""

    index: int
    line: OrderLine
    ex: Decimal | None
    inc: Decimal | None
    rate: Decimal | None = None
    source: str = "exact"
    shop_rate: Decimal | None = None  # the rate the shop's amounts are at (before the regime)
    part: int = 0  # the n-th part of a line split over several rates

    @property
    def field(self) -> str:
        return f"lines[{self.index}]"

    @property
    def facts(self) -> dict[str, Any]:
        """The line as outcome parameters: its number (from 1) and description (or kind)."""
        return {"line": self.index + 1, "description": self.line.description or self.line.kind.value}

    @property
    def is_zero(self) -> bool:
        return (self.ex is None or self.ex == ZERO) and (self.inc is None or self.inc == ZERO)

    def shop_inc(self) -> Decimal:
        """The line's total incl. VAT as the shop sees it (computed when only ex is known)."""
        if self.inc is not None:
            return self.inc
        assert self.ex is not None and self.shop_rate is not None
        return self.ex * (HUNDRED + self.shop_rate) / HUNDRED


def rate_text(rates: Iterable[Decimal]) -> str:
    """A list of rates as one parameter, e.g. ``21%, 9%, 0%``."""
    return ", ".join(f"{rate.normalize():f}%" for rate in rates)


def data_facts(exc: vat.VatDataError, country: str, on: dt.date) -> dict[str, Any]:
    """Parameters of ``vat_data_missing``: what the VAT data could not answer."""
    return {"country": exc.country or country, "date": exc.on or on, "category": exc.category}


def collect(index: int, line: OrderLine) -> Work:
    """Line totals from the shop's line totals or unit prices and the stated VAT, unrounded."""
    qty = line.quantity
    ex = (
        line.total_ex
        if line.total_ex is not None
        else (qty * line.unit_price_ex if line.unit_price_ex is not None else None)
    )
    inc = (
        line.total_inc
        if line.total_inc is not None
        else (qty * line.unit_price_inc if line.unit_price_inc is not None else None)
    )
    if line.vat_amount is not None:
        if inc is None and ex is not None:
            inc = ex + line.vat_amount
        elif ex is None and inc is not None:
            ex = inc - line.vat_amount
    work = Work(index, line, ex, inc)
    if ex is None and inc is None:
        raise RuleError(RuleCode.LINE_AMOUNT_MISSING, work.facts, field=work.field)
    return work


def _fit_rate(work: Work, candidates: tuple[Decimal, ...]) -> Decimal | None:
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


@lru_cache(maxsize=4096)
def candidates(vat_country: str, seller: str, on: dt.date) -> tuple[Decimal, ...]:
    """Rates a shop could have used: the VAT country's first, then the seller's, highest first."""
    countries = [vat_country] if vat_country == seller else [vat_country, seller]
    ordered: list[Decimal] = []
    for country in countries:
        for rate in sorted(vat.known_rates(country, on), reverse=True):
            if rate not in ordered:
                ordered.append(rate)
    return tuple(ordered)


def complete_rates(
    works: list[Work], decision: RegimeDecision, seller: str, on: dt.date, allocation: str
) -> tuple[list[Work], list[Outcome]]:
    """Give every line the rate the shop's amounts are at (step b); fees may be split over rates."""
    found = candidates(decision.vat_country, seller, on)
    deferred = [work for work in works if not _complete_own_rate(work, decision, on, found)]
    if not deferred:
        return works, []
    rates = [
        w.rate for w in works if w.line.kind == LineKind.PRODUCT and w.rate is not None and not w.is_zero
    ]
    warnings: list[Outcome] = []
    result: list[Work] = [w for w in works if w not in deferred]
    for work in deferred:
        if work.is_zero or len(set(rates)) <= 1 or (allocation == "highest" and work.line.kind in _FEES):
            work.rate = _deferred_rate(work, rates, decision, on)
            work.source = "completed"
            work.shop_rate = work.rate
            result.append(work)
            continue
        parts = _split(work, works)
        params = {**work.facts, "rates": rate_text(sorted({p.rate for p in parts}, reverse=True))}  # type: ignore[misc]
        warnings.append(Outcome(WarningCode.FEE_ALLOCATED, {**params, "method": "proportional"}))
        result.extend(parts)
    result.sort(key=lambda w: (w.index, w.part))
    return result, warnings


def _split(work: Work, works: list[Work]) -> list[Work]:
    """``work`` split over the product lines' rates in proportion to their amounts (see module doc)."""
    weights: dict[Decimal, Decimal] = {}
    for other in works:
        if other.line.kind == LineKind.PRODUCT and other.rate is not None and not other.is_zero:
            weights[other.rate] = weights.get(other.rate, ZERO) + abs(other.shop_inc())
    total = sum(weights.values(), ZERO)
    amount = work.inc if work.inc is not None else work.ex
    assert amount is not None
    ordered = sorted(weights.items(), key=lambda item: (-item[1], -item[0]))
    shares = {rate: round_cents(amount * weight / total) for rate, weight in ordered[1:]}
    shares[ordered[0][0]] = amount - sum(shares.values(), ZERO)
    parts: list[Work] = []
    for n, (rate, share) in enumerate(sorted(shares.items(), reverse=True)):
        if not share:
            continue
        line = replace(work.line, description=f"{work.line.description} ({rate.normalize():f}%)")
        inc = share if work.inc is not None else None
        ex = share if work.inc is None else None
        parts.append(Work(work.index, line, ex, inc, rate, "allocated", rate, n))
    return parts


def _complete_own_rate(work: Work, decision: RegimeDecision, on: dt.date, found: tuple[Decimal, ...]) -> bool:
    """Complete a line's rate from the line itself; False when it must wait for the product lines."""
    line = work.line
    if work.rate is not None and work.source == "completed":
        pass  # set before completion (a single-purpose voucher sold at the standard rate)
    elif line.vat_rate is not None:
        work.rate, work.source = line.vat_rate, "exact"
    elif work.is_zero:
        return False
    elif line.vat_category:
        work.rate, work.source = category_rate(work, decision.vat_country, on), "completed"
    elif work.ex is not None and work.inc is not None:
        rate = _fit_rate(work, found)
        if rate is None:
            raise _unknown_rate(work, decision.vat_country, on, found)
        work.rate, work.source = rate, "completed"
    elif line.kind in (*_FEES, LineKind.DISCOUNT, LineKind.GIFT_CARD):
        return False
    else:
        raise RuleError(RuleCode.VAT_RATE_MISSING, work.facts, field=work.field)
    work.shop_rate = work.rate
    return True


def _unknown_rate(work: Work, country: str, on: dt.date, found: tuple[Decimal, ...]) -> RuleError:
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
        "known": rate_text(found),
    }
    return RuleError(RuleCode.VAT_RATE_UNKNOWN, params, field=work.field)


def _deferred_rate(
    work: Work, product_rates: list[Decimal], decision: RegimeDecision, on: dt.date
) -> Decimal:
    """The rate of a zero-amount line, or of shipping / fee / discount with one amount."""
    if work.is_zero:
        if product_rates:
            return max(product_rates)
        return Decimal(0) if decision.regime in ZERO_RATED else standard(decision.vat_country, on)
    if not product_rates:
        params = {**work.facts, "kind": work.line.kind.value}
        raise RuleError(RuleCode.VAT_RATE_MISSING_NO_PRODUCT, params, field=work.field)
    return max(product_rates)  # one rate among the goods, or fees at the highest ("highest" setting)


def standard(country: str, on: dt.date) -> Decimal:
    try:
        return vat.standard_rate(country, on)
    except vat.VatDataError as exc:
        raise RuleError(RuleCode.VAT_DATA_MISSING, data_facts(exc, country, on)) from exc


def category_rate(work: Work, country: str, on: dt.date, category: str = "") -> Decimal:
    category = category or work.line.vat_category
    try:
        return vat.rate_for(country, category, on)
    except vat.VatDataError as exc:
        params = {
            **work.facts,
            "category": category,
            "country": exc.country or vat.normalize_country(country),
            "date": on,
        }
        raise RuleError(
            RuleCode.VAT_RATE_UNKNOWN_CATEGORY, params, field=f"{work.field}.vat_category"
        ) from exc


def charged_rates(works: Iterable[Work]) -> set[Decimal]:
    return {w.rate for w in works if w.rate and not w.is_zero}  # type: ignore[misc]


def resolve_conflict(
    works: list[Work], decision: RegimeDecision, seller: str, destination: str, on: dt.date, oss: bool
) -> tuple[RegimeDecision, list[Outcome]]:
    """Follow the shop when it charged VAT on a sale the rules would make 0 %.

    Like libAcumulus choosing the VAT type that fits the amounts: VAT the customer paid at the
    seller's rates makes a domestic sale; at the customer's country rates (EU, OSS seller) an OSS
    sale. Anything else cannot be booked as charged and stops the order.
    """
    charged = charged_rates(works)
    dest = vat.normalize_country(destination)
    if decision.regime is VatRegime.DOMESTIC and charged and _charged_destination(charged, seller, dest, on):
        # a consumer sale below the threshold (or not on OSS) that the shop charged at the customer's
        # country's rates: the customer paid that VAT; book it where it was charged (OSS)
        rates = rate_text(sorted(charged))
        reason = Outcome(RegimeCode.CHARGED_OSS, {"country": dest, "rates": rates, "seller": seller})
        return RegimeDecision(VatRegime.EU_B2C_OSS, dest, reason, decision.vat_number_valid), []
    if decision.regime not in ZERO_RATED or not charged:
        return decision, []
    rates = rate_text(sorted(charged))
    zero = {"rates": rates, "regime": decision.regime, "reason": decision.reason.code, "country": dest}
    warning = Outcome(WarningCode.VAT_CHARGED_ON_ZERO_RATED, zero)
    if charged <= vat.known_rates(seller, on):
        reason = Outcome(RegimeCode.CHARGED_DOMESTIC, {"seller": seller, "rates": rates, "country": dest})
        return RegimeDecision(VatRegime.DOMESTIC, seller, reason, decision.vat_number_valid), [warning]
    oss_possible = oss and on >= vat.OSS_START and vat.is_eu(dest, on)
    if decision.regime == VatRegime.EU_B2B and oss_possible and charged <= vat.known_rates(dest, on):
        reason = Outcome(RegimeCode.CHARGED_OSS, {"country": dest, "rates": rates, "seller": seller})
        return RegimeDecision(VatRegime.EU_B2C_OSS, dest, reason, decision.vat_number_valid), [warning]
    raise RuleError(RuleCode.VAT_REGIME_CONFLICT, {**zero, "seller": seller}, field="lines")


def _charged_destination(charged: set[Decimal], seller: str, dest: str, on: dt.date) -> bool:
    """Whether every rate charged is the destination's and one of them is not a seller rate."""
    if dest == seller or not vat.is_eu(dest, on) or on < vat.OSS_START:
        return False
    return charged <= vat.known_rates(dest, on) and not charged <= vat.known_rates(seller, on)


def apply_regime(
    works: list[Work],
    decision: RegimeDecision,
    seller: str,
    on: dt.date,
    category_by_rate: Mapping[str, str],
) -> list[Outcome]:
    """Set the rates the invoice uses under the regime (step c); returns warnings."""
    if decision.regime in ZERO_RATED:
        for work in works:
            if work.rate != ZERO:  # only zero-amount lines can get here (conflicts were resolved)
                work.rate, work.source = Decimal(0), "regime"
        return []
    if decision.regime in (VatRegime.DOMESTIC, VatRegime.MARGIN):
        return _check_domestic(works, seller, on)
    return _oss_rates(works, decision.vat_country, seller, on, category_by_rate)


def _check_domestic(works: list[Work], seller: str, on: dt.date) -> list[Outcome]:
    """Domestic rates: a rate the seller's country no longer has is refused, an unknown one warned;
    shipping or payment costs at 0 % beside taxed goods are refused (an ancillary cost shares the
    VAT of the supply it goes with: Art. 78(b) VAT Directive, Belastingdienst "bijkomende kosten")."""
    _check_ancillary(works)
    warnings: list[Outcome] = []
    known = vat.known_rates(seller, on)
    for work in works:
        assert work.rate is not None
        if work.rate in known:
            continue
        ended = vat.ended_on(seller, work.rate, on)
        params = {**work.facts, "rate": work.rate.normalize(), "date": on}
        if ended is not None and not work.is_zero:
            raise RuleError(
                RuleCode.VAT_RATE_ENDED, {**params, "country": seller, "ended": ended}, field=work.field
            )
        warnings.append(Outcome(WarningCode.RATE_NOT_SELLER_RATE, {**params, "seller": seller}))
    return warnings


def _check_ancillary(works: list[Work]) -> None:
    for work in works:
        if work.line.kind in _FEES and work.rate == ZERO and not work.is_zero and work.source == "exact":
            goods = {w.rate for w in works if w.line.kind == LineKind.PRODUCT and w.rate}
            if not goods:
                return
            rates = rate_text(sorted(goods, reverse=True))
            params = {**work.facts, "kind": work.line.kind.value, "rates": rates}
            raise RuleError(RuleCode.SHIPPING_WITHOUT_VAT, params, field=work.field)


def _oss_rates(
    works: list[Work], dest: str, seller: str, on: dt.date, category_by_rate: Mapping[str, str]
) -> list[Outcome]:
    """OSS: the customer country's rate for each line's category — never the seller's rate copied.

    A line's ``vat_category`` decides; else the link's ``category_by_rate`` (seller rate → category);
    else the default: the seller's standard rate is ``standard``, any other seller rate ``food``
    (most goods a webshop sells at a reduced rate), with a warning. Rates the shop evidently took
    from the customer's country (one of them is no seller rate) are kept.
    """
    warnings: list[Outcome] = []
    dest_known = vat.known_rates(dest, on)
    seller_known = vat.known_rates(seller, on)
    charged = charged_rates(works)
    if charged <= dest_known and not charged <= seller_known:
        return warnings  # the shop already used the customer's country rates
    seller_standard = vat.standard_rate(seller, on)
    for work in works:
        assert work.rate is not None
        old = work.rate
        if work.line.vat_category:
            new = category_rate(work, dest, on)
        elif old == 0:
            continue
        elif old in seller_known:
            mapped = category_by_rate.get(format(old.normalize(), "f"), "")
            category = mapped or ("standard" if old == seller_standard else "food")
            new = category_rate(work, dest, on, category)
            if not mapped and category != "standard":
                params = {**work.facts, "seller": seller, "rate": old.normalize(), "category": category}
                params |= {"country": dest, "new_rate": new.normalize()}
                warnings.append(Outcome(WarningCode.REDUCED_RATE_CARRIED_OVER, params))
        elif old in dest_known:
            new = old
        else:
            params = {**work.facts, "rate": old.normalize(), "seller": seller, "country": dest, "date": on}
            raise RuleError(RuleCode.VAT_RATE_UNKNOWN_OSS, params, field=work.field)
        if new != old:
            work.rate, work.source = new, "regime"
    return warnings
