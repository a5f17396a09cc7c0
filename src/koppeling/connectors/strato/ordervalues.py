"""From the raw texts of one order element to a ``StratoOrder`` (or an ``OrderError``).

``orders.OrderReader`` walks the XML and collects, per order, the texts of the elements it knows
(lists indexed by the ``orderfields`` codes); ``OrderBuilder.build`` turns them into ``Decimal``
amounts, dates, rates and flags, with a located ``Issue`` for every value it cannot use. It does
not judge VAT rates or totals (the converter does).

Plain machine amounts (``12.50``), quantities, rates and dates are parsed once and remembered
(prices repeat a lot in real shops), and so are whole lines that parsed without any remark. Every
cache is bounded and only ever holds values that parsed without a remark, so memory stays flat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from . import names
from .amounts import AmountProblem, parse_amount, parse_date, parse_rate
from .issues import Issue, Severity, clip
from .orderfields import (
    A_CUSTOMER,
    A_EMAIL,
    A_VAT,
    DEFAULT_DESCRIPTION,
    KIND_PAYMENT_FEE,
    KIND_PRODUCT,
    KIND_SHIPPING,
    KIND_WORDS,
    L_KIND,
    L_LINE_TOTAL,
    L_NAME,
    L_QUANTITY,
    L_SKU,
    L_TAX_AMOUNT,
    L_TAX_RATE,
    L_UNIT_PRICE,
    N_ADDRESS,
    O_CURRENCY,
    O_CUSTOMER_NUMBER,
    O_DATE,
    O_EMAIL,
    O_GRAND_TOTAL,
    O_NUMBER,
    O_PAID,
    O_PAID_ON,
    O_PAYMENT_METHOD,
    O_PAYMENT_RATE,
    O_PAYMENT_STATUS,
    O_PRICES_INCL,
    O_SHIPPING_RATE,
    O_STATUS,
    O_TAX_MODEL,
    O_TOTAL_BEFORE_TAX,
    O_TOTAL_TAX,
    O_VAT_NUMBER,
    where,
)
from .orderrecords import OrderError, StratoLine, StratoOrder


class OrderBuilder:
    """Raw order texts -> ``StratoOrder`` | ``OrderError``; one per file (it holds the caches)."""

    AMOUNT_CACHE_SIZE = 50_000
    LINE_MEMO_SIZE = 20_000
    DATE_CACHE_SIZE = 20_000
    SMALL_CACHE_SIZE = 1000  # quantities, rates, flag combinations, delivery countries

    def __init__(self, label: str) -> None:
        self.label = label
        #: raw line tuple -> the StratoLine it parsed to, without any remark (see ``build``)
        self.line_memo: dict[tuple, StratoLine] = {}
        self._amounts: dict[str, Decimal] = {}
        #: plain order totals (``_plain``: its own rules, so not shared with ``_amounts``)
        self._totals: dict[str, Decimal] = {}
        self._date_cache: dict[str, dt.date] = {}
        self._rate_cache: dict[str | None, Decimal] = {}
        self._qty_cache: dict[str | None, Decimal] = {}
        self._flags_cache: dict[tuple, OrderFlags] = {}
        self._codes: dict[str, str] = {}

    def build(
        self,
        index: int,
        sline: int | None,
        values: list,
        billing_raw: list[str] | None,
        delivery: str | None,
        raw_lines: list[tuple],
        numbers: list[int | None],
    ) -> StratoOrder | OrderError:
        """One order: ``values`` the order texts by ``O_*`` code, ``raw_lines`` one tuple per line
        element (``[0]`` the kind its element implies, then the texts by ``L_*`` code) and
        ``numbers`` the source line of each. Lines are parsed here, once the whole order is read,
        because a shipping line may take its VAT rate from the order."""
        issues: list[Issue] = []
        lines = list(map(self.line_memo.get, raw_lines))
        if not all(lines):  # a line not remembered (``None in lines`` would call a line's __eq__ each)
            lines, numbers = self._parse_lines(raw_lines, lines, numbers, index, values, issues)
        number = values[O_NUMBER]
        number = number.strip() if number else ""
        if not number:
            issues.append(
                self._issue(
                    sline, index, "", "OrderNumber", "", "missing required field: the order number", values
                )
            )
        date_text = values[O_DATE]
        date = self._date_cache.get(date_text[:10]) if date_text else None
        if date is None:
            date = self._date(date_text, sline, index, values, issues)
        # order totals are mostly unique: parsed directly when plain, not remembered
        totals = self._totals
        text = values[O_GRAND_TOTAL]
        grand = totals.get(text) if text is not None else None
        if grand is None:
            grand = self._total(text, sline, index, values, "GrandTotal", issues, required=True)
        text = values[O_TOTAL_BEFORE_TAX]
        net = totals.get(text) if text is not None else None
        if net is None and text is not None:
            net = self._total(text, sline, index, values, "TotalBeforeTax", issues)
        text = values[O_TOTAL_TAX]
        tax = totals.get(text) if text is not None else None
        if tax is None and text is not None:
            tax = self._total(text, sline, index, values, "TotalTax", issues)
        if not lines and not issues:
            issues.append(
                self._issue(
                    sline,
                    index,
                    "",
                    "LineItems",
                    "",
                    "missing required field: the order has no lines",
                    values,
                )
            )
        if issues:
            for issue in issues:
                if issue.severity is Severity.ERROR:
                    return OrderError(index, sline, number, [_with_number(i, number) for i in issues])
            issues = [_with_number(i, number) for i in issues]
        billing = billing_raw or [""] * N_ADDRESS
        if not billing[A_EMAIL] and values[O_EMAIL]:
            billing[A_EMAIL] = values[O_EMAIL].strip()
        if not billing[A_VAT] and values[O_VAT_NUMBER]:
            billing[A_VAT] = values[O_VAT_NUMBER].strip()
        customer = values[O_CUSTOMER_NUMBER]
        customer = customer.strip() if customer else billing[A_CUSTOMER]
        delivery_country = ""
        if delivery:
            codes = self._codes
            delivery_country = codes.get(delivery)
            if delivery_country is None:
                delivery_country = names.country_code(delivery) or ""
                _remember(codes, delivery, delivery_country, self.SMALL_CACHE_SIZE)
        paid_on = values[O_PAID_ON]
        flags = (
            values[O_TAX_MODEL],
            values[O_PRICES_INCL],
            values[O_PAYMENT_STATUS],
            values[O_PAID],
            values[O_STATUS],
            None if paid_on is None else bool(paid_on.strip()),
        )
        facts = self._flags_cache.get(flags)
        if facts is None:
            facts = OrderFlags(
                _gross(flags[0], flags[1]),
                _paid(flags[2], flags[3], flags[5]),
                _cancelled(flags[4], flags[2]),
            )
            _remember(self._flags_cache, flags, facts, self.SMALL_CACHE_SIZE)
        currency = values[O_CURRENCY]
        method = values[O_PAYMENT_METHOD]
        status = values[O_STATUS]
        return StratoOrder(
            index,
            sline,
            number,
            date,  # type: ignore[arg-type]
            facts.gross,
            (currency.strip().upper() or "EUR") if currency else "EUR",
            customer,
            billing,
            delivery_country,
            method.strip() if method else "",
            facts.paid,
            status.strip() if status else "",
            lines,  # type: ignore[arg-type]
            numbers,
            grand,  # type: ignore[arg-type]
            net,
            tax,
            issues,
            facts.cancelled,
        )

    # -- lines --------------------------------------------------------------------------------------

    def _parse_lines(self, raw_lines, known, numbers, index, values, issues) -> tuple[list, list]:
        """The lines not in the memo (None in ``known``) parsed; lines that cannot be parsed are
        left out (their issues reject the order)."""
        memo = self.line_memo
        lines: list[StratoLine] = []
        kept: list[int | None] = []
        for position, (raw, line, line_number) in enumerate(zip(raw_lines, known, numbers, strict=True), 1):
            if line is None:  # (an earlier line of this order may have just been remembered)
                line = memo.get(raw) or self._parse_line(raw, line_number, position, index, values, issues)
                if line is None:
                    continue
            lines.append(line)
            kept.append(line_number)
        return lines, kept

    def _parse_line(
        self, v: tuple, sline, pos: int, index: int, values: list, issues: list
    ) -> StratoLine | None:
        """Parse one raw line (``v[0]`` the kind, then the L_* texts); remembered when clean."""
        kind = v[0]
        if v[L_KIND] is not None:
            kind = KIND_WORDS.get(names.normalise(v[L_KIND]), kind)
        before = len(issues)
        text = v[L_QUANTITY]
        quantity = self._qty_cache.get(text)
        if quantity is None:
            quantity = self._quantity(text, kind, sline, pos, index, values, issues)
            if quantity is None:
                return None
        unit = self._line_amount(v[L_UNIT_PRICE], kind, pos, sline, index, values, "UnitPrice", issues)
        total = self._line_amount(v[L_LINE_TOTAL], kind, pos, sline, index, values, "LineTotal", issues)
        if unit is None and total is None:
            if v[L_UNIT_PRICE] is None and v[L_LINE_TOTAL] is None:
                issues.append(
                    self._issue(
                        sline,
                        index,
                        where(kind, pos),
                        "UnitPrice",
                        "",
                        "missing required field: a unit price or a line total",
                        values,
                    )
                )
            return None
        tax_amount = self._line_amount(v[L_TAX_AMOUNT], kind, pos, sline, index, values, "TaxAmount", issues)
        text = v[L_TAX_RATE]
        inherited = False
        if text is None and kind in (KIND_SHIPPING, KIND_PAYMENT_FEE):
            text = values[O_SHIPPING_RATE] if kind is KIND_SHIPPING else values[O_PAYMENT_RATE]
            inherited = text is not None
        rate = self._rate_cache.get(text)
        if rate is None and not (text is None and kind is not KIND_PRODUCT):
            rate = self._rate(text, unit, total, kind, sline, pos, index, values, issues)
            if rate is None:
                return None
        sku = v[L_SKU]
        name = v[L_NAME]
        name = name.strip() if name else ""
        line = StratoLine(
            kind,
            sku.strip() if sku else "",
            name or DEFAULT_DESCRIPTION[kind],
            quantity,
            unit,
            rate,
            total,
            tax_amount,
        )
        if len(issues) == before and not inherited:
            _remember(self.line_memo, v, line, self.LINE_MEMO_SIZE)
        return line

    # -- values -------------------------------------------------------------------------------------

    def _issue(
        self, line, index, where, fieldname, value, reason, values=None, severity=Severity.ERROR
    ) -> Issue:
        element = f"Order #{index}{'/' + where if where else ''}"
        number = (values[O_NUMBER] or "").strip() if values is not None else ""
        return Issue(self.label, line, element, fieldname, clip(value), reason, severity, number)

    def _date(self, text, sline, index, values, issues: list[Issue]) -> dt.date | None:
        if text is None or not text.strip():
            issues.append(
                self._issue(
                    sline, index, "", "CreationDate", "", "missing required field: the order date", values
                )
            )
            return None
        try:
            date = parse_date(text)
        except AmountProblem as exc:
            issues.append(self._issue(sline, index, "", "CreationDate", text, str(exc), values))
            return None
        if len(self._date_cache) < self.DATE_CACHE_SIZE:
            self._date_cache[text[:10]] = date
        return date

    def _total(self, text, sline, index, values, fieldname, issues, *, required=False) -> Decimal | None:
        """An order total: ``Decimal(text)`` at once when plain (remembered: totals repeat too), else
        the careful path."""
        if text is not None:
            totals = self._totals
            value = totals.get(text)
            if value is not None:
                return value
            value = _plain(text)
            if value is not None:
                _remember(totals, text, value, self.AMOUNT_CACHE_SIZE)
                return value
        return self._amount(text, sline, index, "", values, fieldname, issues, required=required)

    def _line_amount(self, text, kind, pos, sline, index, values, fieldname, issues) -> Decimal | None:
        """An optional amount of a line: from the cache when seen before, else the careful path."""
        if text is None:
            return None
        value = self._amounts.get(text)
        if value is None:
            value = self._amount(text, sline, index, where(kind, pos), values, fieldname, issues)
        return value

    def _amount(
        self, text, line, index, where, values, fieldname, issues, *, required=False
    ) -> Decimal | None:
        if text is None or not text.strip():
            if required:
                issues.append(
                    self._issue(
                        line, index, where, fieldname, "", f"missing required field: {fieldname}", values
                    )
                )
            return None
        try:
            value, warning = parse_amount(text)
        except AmountProblem as exc:
            issues.append(self._issue(line, index, where, fieldname, text, str(exc), values))
            return None
        if warning:
            issues.append(self._issue(line, index, where, fieldname, text, warning, values, Severity.WARNING))
        elif len(self._amounts) < self.AMOUNT_CACHE_SIZE:
            self._amounts[text] = value
        return value

    def _quantity(self, text, kind, sline, pos, index, values, issues) -> Decimal | None:
        at = where(kind, pos)
        if text is None or not text.strip():
            if kind is KIND_PRODUCT:
                issues.append(
                    self._issue(
                        sline, index, at, "Quantity", "", "missing required field: the quantity", values
                    )
                )
                return None
            return Decimal(1)
        found: list[Issue] = []
        quantity = self._amount(text, sline, index, at, values, "Quantity", found)
        issues.extend(found)
        if quantity is None:
            return None
        if quantity <= 0:
            reason = (
                (
                    "negative quantity: returns and credits are not part of an orders export; book them as a "
                    "credit invoice"
                )
                if quantity < 0
                else "zero quantity"
            )
            issues.append(self._issue(sline, index, at, "Quantity", text, reason, values))
            return None
        if not found and len(self._qty_cache) < self.SMALL_CACHE_SIZE:
            self._qty_cache[text] = quantity
        return quantity

    def _rate(self, text, unit, total, kind, sline, pos, index, values, issues) -> Decimal | None:
        at = where(kind, pos)
        if text is None or not text.strip():
            if (total is not None and not total) or (total is None and not unit):
                return Decimal(0)  # a free line needs no rate
            issues.append(
                self._issue(sline, index, at, "TaxRate", "", "missing required field: the VAT rate", values)
            )
            return None
        try:
            rate, warning = parse_rate(text)
        except AmountProblem as exc:
            issues.append(self._issue(sline, index, at, "TaxRate", text, f"not a VAT rate: {exc}", values))
            return None
        if warning:
            issues.append(self._issue(sline, index, at, "TaxRate", text, warning, values, Severity.WARNING))
        elif len(self._rate_cache) < self.SMALL_CACHE_SIZE:
            self._rate_cache[text] = rate
        return rate


def _remember(cache: dict, key, value, size: int) -> None:
    """``cache[key] = value``, emptying the cache first when it is full (memory stays flat)."""
    if len(cache) >= size:
        cache.clear()
    cache[key] = value


def _plain(text: str) -> Decimal | None:
    """``Decimal(text)`` for a plain machine amount (``-12.50``), else None (the careful path decides)."""
    body = text[1:] if text[:1] == "-" else text
    if body.replace(".", "", 1).isdigit() and body.isascii():
        return Decimal(text)
    return None


def _with_number(issue: Issue, number: str) -> Issue:
    if issue.record or not number:
        return issue
    return Issue(
        issue.file, issue.line, issue.element, issue.field, issue.value, issue.reason, issue.severity, number
    )


_NET_WORDS = frozenset({"net", "netto", "exclusive", "excl", "exclbtw", "exclusief", "b2b"})
_FALSE_WORDS = frozenset({"0", "false", "no", "nee", "nein", "n", "onwaar"})
_UNPAID_WORDS = frozenset(
    {
        "open",
        "openstaand",
        "unpaid",
        "notpaid",
        "nietbetaald",
        "pending",
        "inbehandeling",
        "due",
        "new",
        "nieuw",
        "offen",
        "unbezahlt",
        "nichtbezahlt",
        "ausstehend",
        "waiting",
        "awaitingpayment",
        "wachtopbetaling",
        "failed",
        "mislukt",
        "cancelled",
        "canceled",
        "geannuleerd",
        "storniert",
        "0",
        "false",
        "nee",
        "no",
        "nein",
    }
)


@dataclass(frozen=True, slots=True)
class OrderFlags:
    """What the status texts of an order say: prices incl. VAT, paid, cancelled."""

    gross: bool
    paid: bool
    cancelled: bool


_CANCELLED_WORDS = frozenset(
    {
        "cancelled",
        "canceled",
        "geannuleerd",
        "storniert",
        "annulliert",
        "annuliert",
        "rejected",
        "abgelehnt",
        "afgewezen",
        "void",
        "voided",
    }
)


def _cancelled(status: str | None, payment_status: str | None) -> bool:
    """Cancelled orders are not sales: they are reported and not booked (neither paid nor due)."""
    return any(text and names.normalise(text) in _CANCELLED_WORDS for text in (status, payment_status))


def _gross(tax_model: str | None, prices_incl: str | None) -> bool:
    if prices_incl is not None and prices_incl.strip():
        return names.normalise(prices_incl) not in _FALSE_WORDS
    if tax_model is not None and tax_model.strip():
        return names.normalise(tax_model) not in _NET_WORDS
    return True


def _paid(status: str | None, paid: str | None, paid_on: bool | None = None) -> bool:
    """Paid unless the order says otherwise (seed 000: 'betaald tenzij de import anders aangeeft').

    The real ePages 6 export says it with ``<PaidOn>``: a date when paid, empty when not — then that
    decides, whatever a status text says."""
    if paid_on is not None:
        return paid_on
    for text in (paid, status):
        if text is not None and text.strip() and names.normalise(text) in _UNPAID_WORDS:
            return False
    return True
