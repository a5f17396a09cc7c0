"""The rules that turn a shop :class:`Order` into an :class:`Invoice` a target can book.

In libAcumulus's spirit the work is *collect → complete → send*: connectors only collect (translate
the shop's record into an ``Order``); this module completes it; the engine sends. Completing is:

a. **Regime** — :func:`koppeling.core.regime.decide_regime` decides domestic / reverse charge /
   ICP / OSS / export and whose rates apply, per the place of supply of the order's goods or
   services, with the facts the runtime looked up (:class:`~koppeling.core.facts.InvoiceFacts`:
   VIES, OSS position). Lines taxed in different places cannot share one invoice.
b. **Missing rates** — per line (``koppeling.core.completion``): ``exact`` (the shop gave the rate)
   → ``category`` (the line names a VAT category) → ``amounts`` (two of ex / inc / VAT amount: the
   nearest known rate whose rounding bound the amounts fit) → shipping, payment fees and discounts
   with a single amount follow the goods: one rate, or **split in proportion over the goods' rates**
   (``fee_allocation``). Zero lines get the highest product rate. Anything else stops the order.
c. **Apply the regime** — ICP, export and reverse charge at 0 %; OSS at the customer country's rate
   for each line's category (never the seller's rate copied). A business the shop charged 0 %
   without a VIES-valid number stops the order with a suggestion: it is never booked at 0 %. If
   the shop charged VAT on a sale the regime says is 0 %, the shop's decision is followed (booked
   as domestic or OSS) with a warning, like libAcumulus picks the VAT type that fits the amounts.
d. **Amounts** — rounded once, half-up, to cents per line (``koppeling.core.rounding``), made to add
   up to the order's total, then **fitted to the target's own computation**
   (``settings.totals_method``, ``koppeling.core.fitting``) so that it books that total exactly.
e. **Header** — reference (prefix + number), description, shop, payment status, credit-note
   reference, exchange rate, the EN 16931 facts.

Dates: VAT rates are those of the supply (``Order.supply_date`` or the order date); a credit note
takes the rates of the supply it credits (``facts.original``), so a 2025 hotel night credited in
2026 is credited at 9 %. Currencies: an order in a currency the target books
(``settings.booking_currencies``) stays in it with the ECB rate stated; any other is converted at
``facts.exchange_rate``; without a rate the order stops — never skipped in silence.

Gift cards: a multi-purpose voucher (the default, ``voucher_kind``) is outside the scope of VAT when
sold (a 0 % line) and a payment when redeemed (left out of the lines, ``gift_card_amount``). A
single-purpose voucher is taxed when sold and, when redeemed, reduces the VAT of the goods it pays
for (a negative line split over their rates) — its VAT was due at the sale (Art. 30a/30b VAT
Directive). Margin-scheme lines are booked under the target's margin VAT type where it has one
(``margin_scheme="target"``), else the order is held.

Nothing here is prose: a refusal is a :class:`RuleError` with a :class:`RuleCode` and parameters,
a warning (``Invoice.warnings``) an :class:`~koppeling.core.messages.Outcome` with a
:class:`WarningCode`, a problem :func:`check_invoice` finds one with a :class:`CheckCode`. Their
texts are registered in :mod:`koppeling.core.texts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from koppeling.core import vat
from koppeling.core.codes import CheckCode, RegimeCode, WarningCode
from koppeling.core.completion import (
    HALF_CENT,
    Work,
    apply_regime,
    charged_rates,
    collect,
    complete_rates,
    data_facts,
    resolve_conflict,
    standard,
)
from koppeling.core.errors import RuleCode, RuleError
from koppeling.core.facts import InvoiceFacts
from koppeling.core.fitting import booked_totals, fit_lines
from koppeling.core.messages import Outcome
from koppeling.core.models import (
    DocumentType,
    Invoice,
    LineKind,
    LineNature,
    Order,
    OrderLine,
    Party,
    PaymentStatus,
    VatRegime,
)
from koppeling.core.money import CENT, HUNDRED, ZERO, round_cents
from koppeling.core.regime import CONSUMER_FALLBACKS, RegimeDecision, decide_regime
from koppeling.core.rounding import add_up, invoice_lines, vat_ok
from koppeling.core.totals import TotalsMethod

__all__ = ["CheckCode", "InvoiceSettings", "OrderLine", "WarningCode", "check_invoice", "order_to_invoice"]

#: EN 16931 VAT category and exemption (text, VATEX code) per regime; services may differ
_CATEGORY: Mapping[VatRegime, tuple[str, str, str]] = {
    VatRegime.DOMESTIC: ("S", "", ""),
    VatRegime.EU_B2C_OSS: ("S", "", ""),
    VatRegime.MARGIN: ("S", "", ""),
    VatRegime.REVERSE_CHARGE: ("AE", "Reverse charge", "VATEX-EU-AE"),
    VatRegime.EU_B2B: ("K", "Intra-Community supply", "VATEX-EU-IC"),
    VatRegime.EXPORT: ("G", "Export outside the EU", "VATEX-EU-G"),
}


@dataclass(frozen=True, slots=True)
class InvoiceSettings:
    """Per-link choices that shape every invoice (the Configuratie screen), and the target's facts.

    ``tolerance`` is how far the order's lines may be from its total incl. VAT (on top of half a
    cent per line whose amount the shop rounded) before the order is refused as inconsistent.
    ``totals_method`` is the target connector's ``totals_method`` (None: lines are not fitted);
    ``booking_currencies`` the currencies the target books in. ``fee_allocation``:
    ``"proportional"`` | ``"highest"``; ``voucher_kind``: ``"multi_purpose"`` |
    ``"single_purpose"``; ``margin_scheme``: ``"hold"`` | ``"target"`` (the target has a margin VAT
    type); ``vies_unavailable``: ``"hold"`` | ``"book"``; ``oss_opt_in``: destination VAT below the
    threshold; ``category_by_rate``: seller rate (``"9"``) → VAT category for OSS sales.
    """

    seller_country: str = "NL"
    oss_registered: bool = True
    reference_prefix: str = ""
    description_template: str = "Bestelling {number}"
    payment_status: PaymentStatus | None = None  # None: PAID if order.paid else DUE
    strict_icp: bool = False
    tolerance: Decimal = Decimal("0.01")
    totals_method: TotalsMethod | None = None
    fee_allocation: str = "proportional"
    voucher_kind: str = "multi_purpose"
    margin_scheme: str = "hold"
    vies_unavailable: str = "hold"
    oss_opt_in: bool = False
    category_by_rate: Mapping[str, str] = field(default_factory=dict)
    booking_currencies: tuple[str, ...] = ("EUR",)
    seller: Party | None = None
    payment_means: str = ""
    payment_terms_days: int | None = None


#: the facts of an order the runtime looked nothing up for (immutable, so one is shared)
_NO_FACTS = InvoiceFacts()


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


def _split_gift_cards(
    order: Order, settings: InvoiceSettings, warnings: list[Outcome]
) -> tuple[list[Work], list[Work], Decimal]:
    """Collect the lines: ``(revenue lines, multi-purpose vouchers sold, gift-card payments)``."""
    works: list[Work] = []
    vouchers_sold: list[Work] = []
    gift_cards = ZERO
    single = settings.voucher_kind == "single_purpose"
    for index, line in enumerate(order.lines):
        work = collect(index, line)
        if line.kind != LineKind.GIFT_CARD:
            works.append(work)
            continue
        amount = work.inc if work.inc is not None else work.ex
        assert amount is not None
        if single:
            works.append(work)
            warnings.append(
                Outcome(WarningCode.VOUCHER_SINGLE_PURPOSE, {**work.facts, "amount": round_cents(amount)})
            )
            continue
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
    order: Order, works: list[Work], vouchers_sold: list[Work], gift_cards: Decimal, settings: InvoiceSettings
) -> None:
    """Refuse an order whose lines (in the shop's terms) do not add up to its total."""
    lines_inc = ZERO
    inexact = 0  # lines whose amount incl. VAT the shop did not give in cents
    for w in works:
        inc = w.inc
        if inc is None:
            lines_inc += w.shop_inc()
            inexact += 1
        else:
            lines_inc += inc
            if inc != round_cents(inc):
                inexact += 1
    vouchers_inc = ZERO
    for w in vouchers_sold:
        vouchers_inc += w.shop_inc()
    order_lines_inc = lines_inc - gift_cards + vouchers_inc
    allowed = settings.tolerance + HALF_CENT * inexact
    if abs(order_lines_inc - order.total_inc) > allowed:
        params = {
            "lines_total": round_cents(order_lines_inc),
            "order_total": round_cents(order.total_inc),
            "difference": round_cents(order.total_inc - order_lines_inc),
        }
        raise RuleError(RuleCode.TOTALS_MISMATCH, params, field="total_inc")


#: a line's ``nature`` text as the member (``""``: goods); ``LineNature(text)`` for anything else
_NATURES: Mapping[str, LineNature] = {"": LineNature.GOODS, **{n.value: n for n in LineNature}}


def _nature_of(text: str) -> LineNature:
    """A line's nature as the source gave it (none: goods)."""
    return _NATURES.get(text) or LineNature(text or LineNature.GOODS)


def _decide(order: Order, settings: InvoiceSettings, facts: InvoiceFacts, on: dt.date) -> RegimeDecision:
    """The regime of the order's supplies; one per invoice (mixed places of supply stop the order)."""
    given = {line.nature for line in order.lines if line.kind == LineKind.PRODUCT}
    if len(given) <= 1:  # the usual case: one nature (or none: goods), no set of members to sort
        nature = given.pop() if given else ""
        return _decide_for(order, settings, facts, on, _nature_of(nature))
    natures = {_nature_of(nature) for nature in given}
    decisions = {nature: _decide_for(order, settings, facts, on, nature) for nature in sorted(natures)}
    places = {(d.regime, d.vat_country) for d in decisions.values()}
    if len(places) > 1:
        params = {
            "natures": ", ".join(sorted(decisions)),
            "regimes": ", ".join(
                f"{n}: {d.regime.value} ({d.vat_country})" for n, d in sorted(decisions.items())
            ),
        }
        raise RuleError(RuleCode.MIXED_PLACE_OF_SUPPLY, params, field="lines")
    return next(iter(decisions.values()))


def _decide_for(
    order: Order, settings: InvoiceSettings, facts: InvoiceFacts, on: dt.date, nature: LineNature
) -> RegimeDecision:
    """The regime of the order's supplies of one nature."""
    where = order.delivery or order.customer
    return decide_regime(
        settings.seller_country,
        order.customer,
        on,
        oss_registered=settings.oss_registered,
        vat_hint=order.vat_hint,
        strict_icp=settings.strict_icp,
        destination=order.country_code,
        postal_code=where.postal_code,
        nature=nature,
        vat_check=facts.vat_check,
        vies_unavailable=settings.vies_unavailable,
        oss=facts.oss,
        oss_opt_in=settings.oss_opt_in,
    )


def _margin(order: Order, decision: RegimeDecision, settings: InvoiceSettings, seller: str) -> RegimeDecision:
    """Margin-scheme lines: the target's margin VAT type (seller's VAT on the margin), or held."""
    margins = [line.margin for line in order.lines]
    if True not in margins or decision.regime is VatRegime.EXPORT:
        return decision
    first = margins.index(True)
    line = order.lines[first]
    if settings.margin_scheme != "target":
        params = {"line": first + 1, "description": line.description or line.kind.value}
        raise RuleError(RuleCode.MARGIN_NOT_SUPPORTED, params, field=f"lines[{first}]")
    reason = Outcome(RegimeCode.MARGIN_SCHEME, {"country": order.country_code, "seller": seller})
    return RegimeDecision(VatRegime.MARGIN, seller, reason, decision.vat_number_valid)


def _complete(
    order: Order,
    collected: tuple[list[Work], list[Work], Decimal],
    decision: RegimeDecision,
    settings: InvoiceSettings,
    on: dt.date,
) -> tuple[list[Work], RegimeDecision, list[Outcome]]:
    """Steps b and c: complete the rates in the shop's terms, check the total, apply the regime."""
    works = collected[0]
    seller = vat.normalize_country(settings.seller_country)
    try:
        if settings.voucher_kind == "single_purpose":
            for work in works:
                if (
                    work.line.kind == LineKind.GIFT_CARD
                    and work.line.vat_rate is None
                    and not work.line.vat_category
                ):
                    if (work.inc or work.ex or ZERO) > 0:
                        work.rate = work.shop_rate = standard(decision.vat_country, on)
                        work.source = "completed"
        works, warnings = _rates_with_total(order, collected, works, decision, seller, settings, on)
        if (
            decision.unproven_icp is not None
            and not charged_rates(works)
            and any(not w.is_zero for w in works)
        ):
            unproven = decision.unproven_icp
            raise RuleError(unproven.code, dict(unproven.params), field="customer.vat_number")
        oss = settings.oss_registered
        decision, conflict = resolve_conflict(works, decision, seller, order.country_code, on, oss)
        warnings += conflict
        warnings += apply_regime(works, decision, seller, on, settings.category_by_rate)
    except vat.VatDataError as exc:
        raise RuleError(RuleCode.VAT_DATA_MISSING, data_facts(exc, decision.vat_country, on)) from exc
    return works, decision, warnings


def _rates_with_total(
    order: Order,
    collected: tuple[list[Work], list[Work], Decimal],
    works: list[Work],
    decision: RegimeDecision,
    seller: str,
    settings: InvoiceSettings,
    on: dt.date,
) -> tuple[list[Work], list[Outcome]]:
    """Complete the rates and check the order total; for net fees, follow what the total says.

    A fee with only its amount excl. VAT has the VAT the shop added to it inside the order total:
    if the chosen allocation does not give that total, the other one is tried (the shop's own
    choice is what the customer paid).
    """
    _, vouchers_sold, gift_cards = collected
    methods = [settings.fee_allocation, "highest" if settings.fee_allocation != "highest" else "proportional"]
    for attempt, method in enumerate(methods):
        fresh = works if attempt == 0 else [_reset(w) for w in works]
        completed, warnings = complete_rates(fresh, decision, seller, on, method)
        try:
            _check_order_total(order, completed, vouchers_sold, gift_cards, settings)
        except RuleError:
            if attempt or not any(w.source == "allocated" or w.inc is None for w in completed):
                raise
            continue
        return completed, warnings
    raise AssertionError("unreachable")  # pragma: no cover


def _reset(work: Work) -> Work:
    """A fresh copy of a line before completion (a second attempt must not see the first's rates)."""
    if work.source == "completed" and work.line.kind == LineKind.GIFT_CARD:
        return replace(work)
    return replace(work, rate=None, source="exact", shop_rate=None)


def _prepare(order: Order, settings: InvoiceSettings, facts: InvoiceFacts, warnings: list[Outcome]) -> Order:
    """Credit orders with positive amounts are negated; foreign currencies converted or kept."""
    if order.is_credit and order.total_inc > 0:
        warnings.append(Outcome(WarningCode.CREDIT_AMOUNTS_NEGATED, {"total": round_cents(order.total_inc)}))
        order = _scaled(order, Decimal(-1))
    currency = order.currency.upper()
    if currency == "EUR":
        return order
    rate = facts.exchange_rate
    if rate is None or rate.currency.upper() != currency:
        params = {"currency": currency, "date": order.supply_date or order.date}
        raise RuleError(RuleCode.EXCHANGE_RATE_MISSING, params, field="currency")
    if currency in {c.upper() for c in settings.booking_currencies}:
        return order
    params = {
        "currency": currency,
        "rate": rate.rate,
        "date": rate.date,
        "source": rate.source,
        "amount": order.total_inc,
    }
    warnings.append(Outcome(WarningCode.CURRENCY_CONVERTED, params))
    converted = _scaled(order, 1 / rate.rate)
    return replace(converted, currency="EUR", total_inc=round_cents(order.total_inc / rate.rate))


def _scaled(order: Order, factor: Decimal) -> Order:
    """The order with every amount multiplied by ``factor`` (-1 to negate, 1/rate to convert)."""

    def times(value: Decimal | None) -> Decimal | None:
        return None if value is None else value * factor

    lines = tuple(
        replace(
            line,
            unit_price_ex=times(line.unit_price_ex),
            unit_price_inc=times(line.unit_price_inc),
            vat_amount=times(line.vat_amount),
            total_ex=times(line.total_ex),
            total_inc=times(line.total_inc),
            cost_price=times(line.cost_price),
        )
        for line in order.lines
    )
    total_vat = None if order.total_vat is None else order.total_vat * factor
    return replace(order, lines=lines, total_inc=order.total_inc * factor, total_vat=total_vat)


def _rate_date(order: Order, facts: InvoiceFacts, warnings: list[Outcome]) -> dt.date:
    """The date whose rates apply: the supply's; for a credit note that of the supply it credits."""
    if order.is_credit:
        if facts.original is not None:
            return facts.original.rate_date
        if order.supply_date is None:
            params = {"credited": order.credited_number or "?", "date": order.date}
            warnings.append(Outcome(WarningCode.CREDIT_ORIGINAL_UNKNOWN, params))
    return order.supply_date or order.date


def order_to_invoice(
    order: Order,
    settings: InvoiceSettings | None = None,
    *,
    today: dt.date | None = None,
    facts: InvoiceFacts | None = None,
) -> Invoice:
    """Complete ``order`` into an invoice (steps a–e of the module docstring).

    Args:
        order: the shop's order as a connector collected it.
        settings: the link's invoice settings (defaults: NL seller, OSS-registered, not fitted).
        today: the processing date, only used to warn about orders dated in the future.
        facts: what the runtime looked up (VIES, OSS position, exchange rate, the credited invoice).

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
    facts = facts or _NO_FACTS
    seller = vat.normalize_country(settings.seller_country)
    warnings: list[Outcome] = []
    if today is not None and order.date > today:
        warnings.append(Outcome(WarningCode.ORDER_DATED_IN_FUTURE, {"date": order.date, "today": today}))
    source_order = order
    order = _prepare(order, settings, facts, warnings)
    on = _rate_date(order, facts, warnings)

    decision = _margin(order, _decide(order, settings, facts, on), settings, seller)  # (a)
    if decision.reason.code in CONSUMER_FALLBACKS:
        warnings.append(_regime_fallback(decision))
    warnings += decision.warnings
    collected = _split_gift_cards(order, settings, warnings)
    works, decision, regime_warnings = _complete(order, collected, decision, settings, on)  # (b), (c)
    warnings += regime_warnings

    category = _CATEGORY[decision.regime]  # (d)
    if decision.reason.code in (RegimeCode.SERVICE_REVERSE_CHARGE,):
        category = ("AE", "Reverse charge", "VATEX-EU-AE")
    elif decision.regime is VatRegime.EXPORT and decision.reason.code != RegimeCode.EXPORT:
        category = (
            ("O", "Not subject to VAT", "VATEX-EU-O") if "service" in decision.reason.code else category
        )
    lines, rerated = invoice_lines([*works, *collected[1]], warnings, category[0])
    if category[1]:
        lines = [replace(line, exemption_reason=category[1], exemption_code=category[2]) for line in lines]
    target = order.total_inc + collected[2]
    lines = add_up(lines, target, rerated, decision.vat_country, warnings)
    if settings.totals_method is not None and not rerated:
        lines, corrected = fit_lines(lines, settings.totals_method, target)
        if corrected:
            amount = sum((line.total_inc for line in lines if line.vat_rate_source == "correction"), ZERO)
            warnings.append(
                Outcome(
                    WarningCode.CORRECTION_LINE_ADDED, {"amount": amount, "method": settings.totals_method}
                )
            )
    return _invoice(order, source_order, settings, facts, decision, lines, warnings, collected[2], on)


def _invoice(
    order: Order,
    source_order: Order,
    settings: InvoiceSettings,
    facts: InvoiceFacts,
    decision: RegimeDecision,
    lines: list,
    warnings: list[Outcome],
    gift_cards: Decimal,
    on: dt.date,
) -> Invoice:
    """Step e: the header around the lines."""
    reference, description = _header(order, settings)
    status = settings.payment_status or (PaymentStatus.PAID if order.paid else PaymentStatus.DUE)
    credit = order.is_credit
    converted = order.currency != source_order.currency.upper() and order.currency == "EUR"
    due = order.date + dt.timedelta(days=settings.payment_terms_days) if settings.payment_terms_days else None
    return Invoice(
        reference=reference,
        description=description,
        issue_date=order.date,
        regime=decision.regime,
        customer=order.customer,
        lines=lines,
        vat_country=decision.vat_country,
        currency=order.currency,
        payment_status=status,
        payment_date=order.date if status == PaymentStatus.PAID else None,
        payment_method=order.payment_method,
        shop=order.shop,
        source_total_inc=order.total_inc,
        warnings=warnings,
        gift_card_amount=gift_cards,
        regime_reason=decision.reason,
        document_type=DocumentType.CREDIT_NOTE if credit else DocumentType.INVOICE,
        credits=(
            facts.original.number if credit and facts.original else order.credited_number if credit else ""
        ),
        credited_date=facts.original.date if credit and facts.original else None,
        supply_date=on,
        delivery_country=order.country_code,
        seller=settings.seller,
        payment_terms=order.payment_terms,
        due_date=due,
        payment_means=settings.payment_means,
        exchange_rate=facts.exchange_rate if order.currency != "EUR" or converted else None,
        source_currency=source_order.currency.upper() if converted else "",
        totals_method=settings.totals_method,
        vat_number_check=decision.vat_check if decision.regime is VatRegime.EU_B2B else None,
    )


def check_invoice(invoice: Invoice, *, tolerance: Decimal = CENT) -> list[Outcome]:
    """Problems that would make a target reject the invoice or book it wrongly; empty when fine.

    Checks every line's amounts are whole cents, its VAT is ``round(total_ex × rate)`` within one
    cent (exactly 0 at 0 %; margin lines carry VAT on the margin), zero-rated regimes have only 0 %
    lines, the lines add up to the source total (``source_total_inc + gift_card_amount``) within
    ``tolerance`` and — when the invoice was fitted to a target — that the target's own computation
    books exactly that total. Each problem is an outcome with a :class:`CheckCode`.
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
        elif line.cost_price is None and not vat_ok(line.total_ex, line.vat_amount, line.vat_rate):
            params = {
                **where,
                "vat_amount": line.vat_amount,
                "rate": line.vat_rate.normalize(),
                "total_ex": line.total_ex,
                "expected": round_cents(line.total_ex * line.vat_rate / HUNDRED),
            }
            problems.append(Outcome(CheckCode.VAT_MISMATCH, params))
        if (
            invoice.regime in (VatRegime.EU_B2B, VatRegime.EXPORT, VatRegime.REVERSE_CHARGE)
            and line.vat_rate != 0
        ):
            params = {**where, "regime": invoice.regime, "rate": line.vat_rate.normalize()}
            problems.append(Outcome(CheckCode.ZERO_RATED_LINE_WITH_VAT, params))
    if invoice.source_total_inc is not None:
        expected_total = invoice.source_total_inc + invoice.gift_card_amount
        if abs(invoice.total_inc - expected_total) > tolerance:
            params = {"total": invoice.total_inc, "expected": expected_total}
            problems.append(Outcome(CheckCode.TOTAL_DIFFERS, params))
        if invoice.totals_method is not None:
            booked = booked_totals(invoice.lines, invoice.totals_method).total_inc
            if booked != invoice.total_inc or booked != expected_total:
                params = {"total": booked, "expected": expected_total, "method": invoice.totals_method}
                problems.append(Outcome(CheckCode.TARGET_TOTAL_DIFFERS, params))
    return problems
