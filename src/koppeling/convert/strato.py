"""Strato Webshop Pro exports -> Acumulus import files (what Strato2Acumulus did, everywhere).

``convert_strato(customers=..., orders=..., out_dir=..., options=...) -> Summary``

* ``Klanten.csv`` -> ``AcumulusKlanten.csv`` (relations import, ``csvimport.RELATION_COLUMNS``);
* ``Bestellingen.xml`` -> one ``Acumulus<Method>Facturen.csv`` per payment method (import type
  "Strato uit convertor (.csv)", ``csvimport.INVOICE_COLUMNS``), streamed: memory stays flat;
* ``conversion-summary.json`` always, ``conversion-errors.csv`` when there was anything to report.

The amounts rule, applied per order (Decimal throughout, **one rounding, half-up, to cents**):

1. a line's amount is its ``LineTotal``, or ``Quantity x UnitPrice`` rounded to cents; when both are
   given they must agree within half a cent per unit;
2. the line's VAT is computed once from that amount and the rate and rounded half-up to cents:
   gross shops (prices incl. VAT) ``vat = amount x rate / (100 + rate)``, ``excl = amount - vat``;
   net shops ``vat = amount x rate / 100``, ``incl = amount + vat``. A ``TaxAmount`` on the line
   within a cent of that replaces it;
3. the order's own totals win: ``GrandTotal`` must equal the sum of the lines incl. VAT, and a
   stated ``TotalTax`` (or ``GrandTotal - TotalBeforeTax``) the sum of the line VAT. A difference
   of at most one cent per line is a rounding difference: it is put on the VAT of the largest line
   (with a warning); a larger one rejects the order, because a line is then missing or wrong.

So each invoice written adds up, to the cent, to the order it came from, and the summary's totals
per output file add up to the totals of the converted orders (checked, and reported).

Validation that rejects an order (the others go on): missing order number, date, total or lines;
an amount that is not a number or is ambiguous (``1,234``); a negative or zero quantity; a VAT rate
that is not a rate of the shop's country or the customer's country on the order date (dated rates
from ``koppeling.core.vat``); an order number that appeared earlier in the file (the first one is
converted); lines that do not add up to the order's totals.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from koppeling.connectors.acumulus import csvimport
from koppeling.connectors.strato import names
from koppeling.connectors.strato.customers import CustomerReader
from koppeling.connectors.strato.issues import Issue, Severity, UnusableInput, clip
from koppeling.connectors.strato.orders import (
    ADDRESS_FIELDS,
    KIND_DISCOUNT,
    KIND_PAYMENT_FEE,
    KIND_PRODUCT,
    KIND_SHIPPING,
    OrderError,
    OrderReader,
    StratoOrder,
    WrongEncoding,
)
from koppeling.connectors.strato.orders import (
    FORMAT_VERSION as ORDERS_FORMAT,
)
from koppeling.core import vat as core_vat

from .summary import ERRORS_FILE, SUMMARY_FILE, InputReport, IssueLog, OutputReport, Summary

CUSTOMERS_FORMAT = "strato-klanten/1"
CENT = Decimal("0.01")
UNIT = Decimal("0.0001")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
HALF_CENT = Decimal("0.005")
SKIPPED_SHOWN = 20
#: lines already computed, by content: shops sell the same products in the same quantities all day
MEMO_SIZE = 20_000
#: bound of the small per-conversion caches (countries, rate sets, payment method texts)
SMALL_CACHE_SIZE = 1000
#: invoice files opened at most; the orders of further payment methods go to OTHER_METHOD's file
MAX_INVOICE_FILES = 50
OTHER_METHOD = "Overig"
_MISSING = object()

Source = str | os.PathLike | BinaryIO


@dataclass(frozen=True, slots=True)
class StratoOptions:
    """``cost_center``: Acumulus cost center for this shop; ``prefix``: the shop's unique order
    number prefix (``WA`` -> ``WA1001``); ``limit``: convert at most this many invoices (trial
    accounts: 40), report the rest as skipped; ``shop_country``: where the shop is (VAT rates)."""

    cost_center: str = ""
    prefix: str = ""
    limit: int | None = None
    shop_country: str = "NL"

    def as_dict(self) -> dict[str, object]:
        return {
            "cost_center": self.cost_center,
            "prefix": self.prefix,
            "limit": self.limit,
            "shop_country": self.shop_country,
        }


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


# ---- VAT rates -------------------------------------------------------------------------------


class RateBook:
    """Which VAT rates are plausible for a sale on a date: the shop country's and the customer
    country's (OSS), plus 0 (exports, ICP). From ``koppeling.core.vat``, cached per (country, date)."""

    def __init__(self, shop_country: str) -> None:
        self.shop = shop_country.upper()
        self._cache: dict[tuple[str, dt.date], frozenset | None] = {}

    def allowed(self, country: str, on: dt.date) -> frozenset | None:
        """The rates allowed, or None when the dated data cannot answer (then nothing is checked)."""
        key = (country, on)
        if key in self._cache:
            return self._cache[key]
        try:
            rates = set(core_vat.known_rates(self.shop, on))
        except core_vat.VatDataError:
            result = None
        else:
            if country and country != self.shop:
                try:
                    rates |= core_vat.known_rates(country, on)
                except core_vat.VatDataError:
                    pass  # outside the EU data: 0 % (export) and the shop's rates are what can apply
            result = frozenset(rates)
        if len(self._cache) > 50000:
            self._cache.clear()
        self._cache[key] = result
        return result

    def vat_type(self, country: str, vat_number: str, rates: set, on: dt.date) -> int:
        """Acumulus ``vattype``: 1 national, 3 EU reverse charge, 4 outside the EU, 6 EU VAT (OSS)."""
        if not country or country == self.shop:
            return 1
        try:
            in_eu = core_vat.is_eu(country, on)
        except core_vat.VatDataError:  # pragma: no cover - is_eu answers False for unknown countries
            in_eu = False
        nonzero = {r for r in rates if r}
        if not in_eu:
            return 4 if not nonzero else 1
        if not nonzero and vat_number:
            return 3
        if nonzero:
            try:
                shop_rates = core_vat.known_rates(self.shop, on)
            except core_vat.VatDataError:
                return 1
            return 1 if nonzero <= shop_rates else 6
        return 1


# ---- the conversion --------------------------------------------------------------------------


class _Reject(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.reason)
        self.issue = issue


ProgressFactory = Callable[[str, int], Callable[[int], None]]
"""``factory(label, total_bytes)`` -> ``advance(bytes_done)``; used for the CLI progress bar."""


def convert_strato(
    *,
    customers: Source | None = None,
    orders: Source | None = None,
    out_dir: str | os.PathLike,
    options: StratoOptions | None = None,
    customers_label: str | None = None,
    orders_label: str | None = None,
    progress: ProgressFactory | None = None,
) -> Summary:
    """Convert what is given; never raises for bad input — it is all in the returned ``Summary``."""
    options = options or StratoOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary(options=options.as_dict())
    log = IssueLog(out / ERRORS_FILE)
    try:
        if customers is not None:
            label = customers_label or _label(customers, "Klanten.csv")
            with _binary(customers) as stream:
                _convert_customers(stream, label, out, summary, log)
        if orders is not None:
            label = orders_label or _label(orders, "Bestellingen.xml")
            with _binary(orders) as stream:
                _convert_orders(stream, label, out, options, summary, log, progress)
    finally:
        log.close()
    summary.issues = list(log.kept)
    summary.error_count = log.errors
    summary.warning_count = log.warnings
    if log.total:
        summary.files.append(ERRORS_FILE)
    else:
        (out / ERRORS_FILE).unlink(missing_ok=True)
    summary.files.append(SUMMARY_FILE)
    summary.write_json(out / SUMMARY_FILE)
    return summary


def _label(source: Source, default: str) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else default


class _binary:
    """Open a path, or use a binary stream; non-seekable streams are spooled to a temp file."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._close = False

    def __enter__(self) -> BinaryIO:
        src = self.source
        if isinstance(src, str | os.PathLike):
            self.stream = open(src, "rb")
            self._close = True
        elif getattr(src, "seekable", lambda: False)():
            self.stream = src  # type: ignore[assignment]
        else:
            spool = tempfile.TemporaryFile()
            shutil.copyfileobj(src, spool, 1 << 20)  # type: ignore[misc]
            spool.seek(0)
            self.stream = spool  # type: ignore[assignment]
            self._close = True
        return self.stream

    def __exit__(self, *exc: object) -> None:
        if self._close:
            self.stream.close()


def _size(stream: BinaryIO) -> int:
    try:
        here = stream.tell()
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(here)
        return size
    except (OSError, ValueError):
        return 0


# ---- customers --------------------------------------------------------------------------------


def _convert_customers(stream: BinaryIO, label: str, out: Path, summary: Summary, log: IssueLog) -> None:
    report = InputReport(label, "customers", CUSTOMERS_FORMAT)
    summary.inputs.append(report)
    try:
        reader = CustomerReader(stream, label)
    except UnusableInput as exc:
        report.usable = False
        log.add(exc.as_issue())
        return
    report.encoding = reader.encoding
    report.ignored = list(reader.ignored_columns)
    log.extend(reader.warnings)
    path = out / csvimport.RELATIONS_FILE
    writer = csvimport.RelationsWriter(path)
    seen: dict[str, int] = {}
    try:
        for row in reader:
            report.read += 1
            log.extend(row.issues)
            c = row.customer
            if c is None:
                report.rejected += 1
                continue
            if c.customer_number:
                first = seen.get(c.customer_number)
                if first is not None:
                    report.rejected += 1
                    log.add(
                        Issue(
                            label,
                            row.line,
                            "column " + repr(reader.column_names.get("customer_number", "")),
                            "customer_number",
                            c.customer_number,
                            f"customer number appears twice (first at line {first}); the first was converted",
                            Severity.ERROR,
                            c.customer_number,
                        )
                    )
                    continue
                seen[c.customer_number] = row.line
            writer.write(
                [
                    c.customer_number,
                    c.company,
                    c.person_name,
                    c.salutation,
                    c.address_line,
                    c.street2,
                    c.postal_code,
                    c.city,
                    c.country,
                    c.country_name,
                    c.phone,
                    c.mobile,
                    c.fax,
                    c.email,
                    c.website,
                    c.vat_number,
                    c.iban,
                    "1",
                    c.note,
                ]
            )
            report.converted += 1
    finally:
        writer.close()
    summary.outputs.append(
        OutputReport(csvimport.RELATIONS_FILE, "relations", records=writer.rows, rows=writer.rows)
    )
    summary.files.append(csvimport.RELATIONS_FILE)


# ---- orders -----------------------------------------------------------------------------------


def _convert_orders(
    stream: BinaryIO,
    label: str,
    out: Path,
    options: StratoOptions,
    summary: Summary,
    log: IssueLog,
    progress: ProgressFactory | None,
) -> None:
    encoding: str | None = None
    while True:
        report = InputReport(label, "orders", ORDERS_FORMAT, encoding or "as declared")
        attempt = _OrderConversion(stream, label, out, options, report, encoding, progress)
        try:
            attempt.run()
        except WrongEncoding as exc:
            attempt.discard()
            if encoding is not None:  # pragma: no cover - cp1252 decodes every byte sequence libxml2 accepts
                raise
            encoding = "cp1252"
            log.add(
                Issue(
                    label,
                    exc.line,
                    "",
                    "encoding",
                    "",
                    f"the file is not in the encoding it declares ({exc.message}); it was read as "
                    "Windows-1252. Export again as UTF-8 to be sure every character is right.",
                    Severity.WARNING,
                )
            )
            continue
        break
    summary.inputs.append(report)
    log.extend(attempt.issues_in_order())
    attempt.finish_into(summary)


class _OrderConversion:
    """One pass over Bestellingen.xml. Collects its issues itself so a restart (after
    ``WrongEncoding``) leaves no half results behind."""

    def __init__(self, stream, label, out, options, report, encoding, progress) -> None:
        self.stream = stream
        self.label = label
        self.out = out
        self.options = options
        self.report = report
        self.encoding = encoding
        self.progress = progress
        self.writers: dict[str, csvimport.InvoiceWriter] = {}
        self.issues: list[Issue] = []
        self.issue_overflow: list[Issue] = []
        self.input_ex = ZERO
        self.input_vat = ZERO
        self.input_inc = ZERO
        self.rates = RateBook(options.shop_country)
        self._countries: dict[str, str] = {}
        self._allowed: dict[tuple, frozenset | None] = {}
        self._iso: dict[dt.date, str] = {}
        self._memo: dict[bool, dict[int, tuple]] = {True: {}, False: {}}
        self._by_method: dict[str, csvimport.InvoiceWriter] = {}

    # Issues of one pass are buffered (a restart must be able to drop them); to keep memory flat
    # they spill to a temporary IssueLog-like list only up to a cap; beyond it only counts remain.
    MAX_BUFFERED = 100_000

    def add(self, issue: Issue) -> None:
        if len(self.issues) < self.MAX_BUFFERED:
            self.issues.append(issue)
        else:
            self.dropped = getattr(self, "dropped", 0) + 1

    def issues_in_order(self) -> list[Issue]:
        dropped = getattr(self, "dropped", 0)
        if dropped:
            self.issues.append(
                self._file_warning("issues", str(dropped), f"{dropped} more issues were not listed")
            )
        return self.issues

    def _file_warning(self, fieldname: str, value: str, reason: str) -> Issue:
        """A warning about the file as a whole (no line, no order)."""
        return Issue(self.label, None, "", fieldname, value, reason, Severity.WARNING)

    def discard(self) -> None:
        for w in self.writers.values():
            w.discard()
        self.writers.clear()

    def run(self) -> None:
        advance = None
        if self.progress is not None:
            advance = self.progress(self.label, _size(self.stream))
        try:
            reader = OrderReader(self.stream, self.label, encoding=self.encoding, progress=advance)
        except UnusableInput as exc:
            self.report.usable = False
            self.add(exc.as_issue())
            return
        options = self.options
        limit = options.limit
        prefix = options.prefix
        cost_center = options.cost_center
        seen = SeenNumbers()
        report = self.report
        converted = 0
        skipped_numbers = report.skipped_numbers
        write = self._write
        try:
            for order in reader:
                report.read += 1
                if limit is not None and converted >= limit:
                    report.skipped += 1
                    if len(skipped_numbers) < SKIPPED_SHOWN:
                        skipped_numbers.append(order.number)
                    continue
                if type(order) is OrderError:
                    report.rejected += 1
                    for issue in order.issues:
                        self.add(issue)
                    continue
                if order.warnings:
                    for issue in order.warnings:
                        self.add(issue)
                if not seen.add(order.number):
                    report.rejected += 1
                    self.add(
                        Issue(
                            self.label,
                            order.line,
                            order.element,
                            "OrderNumber",
                            order.number,
                            "order number appears more than once in this file; the first one was "
                            "converted, this one was not",
                            Severity.ERROR,
                            order.number,
                        )
                    )
                    continue
                try:
                    write(order, prefix, cost_center)
                except _Reject as exc:
                    report.rejected += 1
                    self.add(exc.issue)
                    continue
                converted += 1
        finally:
            for w in self.writers.values():
                w.close()
        report.converted = converted
        if reader.broken is not None:
            report.rejected += 1
            self.add(reader.broken)
        if reader.unknown_elements:
            report.ignored = sorted(reader.unknown_elements.values())
            self.add(
                self._file_warning(
                    "elements",
                    clip(", ".join(report.ignored), 300),
                    "elements not used by the conversion (ignored)",
                )
            )
        if report.skipped:
            shown = ", ".join(report.skipped_numbers)
            more = "" if report.skipped <= len(report.skipped_numbers) else ", …"
            self.add(
                self._file_warning(
                    "limit",
                    str(limit),
                    f"--limit {limit}: {report.skipped} more order(s) were not converted ({shown}{more})",
                )
            )
        reader.close()

    # -- one order -> one invoice --------------------------------------------------------------

    def _write(self, o: StratoOrder, prefix: str, cost_center: str) -> None:
        b = o.billing
        raw_country = b[A_COUNTRY]
        country = self._countries.get(raw_country)
        if country is None:
            if len(self._countries) >= SMALL_CACHE_SIZE:
                self._countries.clear()
            country = self._countries[raw_country] = (
                (names.country_code(raw_country) or "") if raw_country else ""
            )
        # VAT follows the goods: the delivery country when the order has one, else the billing country
        vat_country = o.delivery_country or country
        key = (vat_country, o.date)
        rates_allowed = self._allowed.get(key, _MISSING)
        if rates_allowed is _MISSING:
            if len(self._allowed) >= SMALL_CACHE_SIZE:
                self._allowed.clear()
            rates_allowed = self._allowed[key] = self.rates.allowed(vat_country, o.date)
        gross = o.gross
        amounts: list[tuple] = []  # (line, ex, vat, inc, body) per line
        sum_inc = sum_vat = ZERO
        memo = self._memo[gross]
        i = 0
        for ln in o.lines:
            rate = ln[5]
            if rates_allowed is not None and rate not in rates_allowed:
                raise self._reject(
                    o, i, "TaxRate", rate, self._unknown_rate(rate, vat_country, o.date, rates_allowed)
                )
            done = memo.get(id(ln))
            if done is None or done[0] is not ln:
                done = (ln, *self._line_amounts(o, i, ln, gross))
                if ln[0] is not KIND_DISCOUNT:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[id(ln)] = done
            amounts.append(done)
            sum_inc += done[3]
            sum_vat += done[2]
            i += 1
        # the order's totals win (see the module doc)
        grand = o.grand_total
        if sum_inc != grand:
            diff = grand - sum_inc
            if gross or abs(diff) > CENT * len(amounts):
                raise self._reject(
                    o,
                    None,
                    "GrandTotal",
                    grand,
                    f"the lines add up to {sum_inc} incl. VAT but GrandTotal is {grand}; "
                    "is a line missing or wrong?",
                )
            self._put_on_vat(o, amounts, diff, "GrandTotal")  # net: the excl. amounts stay
            sum_vat += diff
        target_vat = o.total_tax
        if target_vat is not None:
            if o.total_before_tax is not None and o.total_before_tax + target_vat != grand:
                raise self._reject(
                    o,
                    None,
                    "TotalTax",
                    target_vat,
                    f"TotalBeforeTax {o.total_before_tax} + TotalTax {target_vat} is not GrandTotal {grand}",
                )
        elif o.total_before_tax is not None:
            target_vat = grand - o.total_before_tax
        if target_vat is not None and target_vat != sum_vat:
            diff = target_vat - sum_vat
            if abs(diff) > CENT * len(amounts):
                raise self._reject(
                    o,
                    None,
                    "TotalTax",
                    target_vat,
                    f"the lines' VAT adds up to {sum_vat} but the order states {target_vat}",
                )
            self._put_on_vat(o, amounts, diff, "TotalTax")  # the incl. amounts stay
            sum_vat = target_vat
        bodies = list(map(_BODY, amounts))
        method_text = o.payment_method
        writer = self._by_method.get(method_text)
        if writer is None:
            writer = self._writer_for(o, method_text)
        number = o.number
        reference = number if (not prefix or number.startswith(prefix)) else prefix + number
        vat_number = b[A_VAT]
        if vat_country and vat_country != self.rates.shop:
            vat_type = self.rates.vat_type(vat_country, vat_number, {ln[5] for ln in o.lines}, o.date)
        else:
            vat_type = 1
        date = self._iso.get(o.date)
        if date is None:
            date = self._iso[o.date] = o.date.isoformat()
        street = b[A_STREET]
        if b[A_HOUSE] and b[A_HOUSE] not in street:
            street = f"{street} {b[A_HOUSE]}".strip()
        if b[A_STREET2]:
            street = f"{street}, {b[A_STREET2]}"
        person = b[A_FULL]
        if not person:
            first, middle, last = b[A_FIRST], b[A_MIDDLE], b[A_LAST]
            person = (
                f"{first} {last}"
                if first and last and not middle
                else " ".join(filter(None, (first, middle, last)))
            )
        paid = o.paid
        total_ex = grand - sum_vat
        writer.write_invoice(
            [
                reference,
                date,
                o.customer_number,
                b[A_COMPANY],
                person,
                street,
                b[A_POSTAL],
                b[A_CITY],
                country,
                b[A_EMAIL],
                vat_number,
                _VAT_TYPE_TEXT[vat_type],
                "Bestelling " + reference,
                cost_center,
                method_text,
                "2" if paid else "1",
                date if paid else "",
                o.currency,
            ],
            bodies,
            total_ex,
            sum_vat,
            grand,
        )
        self.input_ex += total_ex
        self.input_vat += sum_vat
        self.input_inc += grand

    def _writer_for(self, o: StratoOrder, method_text: str) -> csvimport.InvoiceWriter:
        """The invoice file of a payment method as the order writes it. At most
        ``MAX_INVOICE_FILES`` files are opened: the orders of any further method go to the file
        of ``OTHER_METHOD``, with a warning (a file per order would exhaust memory and file handles)."""
        method = canonical_method(method_text)
        writer = self.writers.get(method)
        if writer is None and len(self.writers) >= MAX_INVOICE_FILES:
            method = OTHER_METHOD
            writer = self.writers.get(method)
            self.add(
                Issue(
                    self.label,
                    o.line,
                    o.element,
                    "PaymentMethod",
                    clip(method_text),
                    f"more than {MAX_INVOICE_FILES} payment methods in this file: the invoices of this "
                    f"method go to {csvimport.invoice_file_name(method)}",
                    Severity.WARNING,
                    o.number,
                )
            )
        if writer is None:
            name = csvimport.invoice_file_name(method)
            writer = self.writers[method] = csvimport.InvoiceWriter(self.out / name, method)
        if len(self._by_method) >= SMALL_CACHE_SIZE:
            self._by_method.clear()
        self._by_method[method_text] = writer
        return writer

    def _line_amounts(self, o: StratoOrder, i: int, ln, gross: bool) -> tuple:
        """``(ex, vat, inc, body)`` of line ``i`` (rules 1 and 2 of the module doc); raises ``_Reject``."""
        kind, _sku, _name, q, unit, rate, total, tax_amount = ln
        if total is None:
            total = (q * unit).quantize(CENT, ROUND_HALF_UP)
        else:
            if unit is not None and q * unit != total and abs(q * unit - total) > HALF_CENT * q + HALF_CENT:
                raise self._reject(
                    o, i, "LineTotal", total, f"line total {total} is not quantity {q} x unit price {unit}"
                )
            total = total.quantize(CENT, ROUND_HALF_UP)
        if kind is KIND_DISCOUNT and total > 0:
            total = -total
            self.add(
                Issue(
                    self.label,
                    o.line_numbers[i],
                    o.line_element(i),
                    "LineTotal",
                    str(-total),
                    "a discount written as a positive amount was deducted",
                    Severity.WARNING,
                    o.number,
                )
            )
        if gross:
            vat = (total * rate / (HUNDRED + rate)).quantize(CENT, ROUND_HALF_UP)
            ex = total - vat
            inc = total
        else:
            vat = (total * rate / HUNDRED).quantize(CENT, ROUND_HALF_UP)
            ex = total
            inc = total + vat
        if tax_amount is not None and tax_amount != vat:
            if abs(tax_amount - vat) > CENT:
                raise self._reject(
                    o,
                    i,
                    "TaxAmount",
                    tax_amount,
                    f"the line's VAT {tax_amount} does not match {rate}% of {total} ({vat})",
                )
            if gross:
                vat, ex = tax_amount, inc - tax_amount
            else:
                vat, inc = tax_amount, ex + tax_amount
        return self._corrected(ln, ex, vat, inc)

    @staticmethod
    def _corrected(ln, ex: Decimal, vat: Decimal, inc: Decimal) -> tuple:
        """``(ex, vat, inc, body)`` with the CSV line body for these amounts."""
        q = ln[3]
        ex = ex or ZERO  # no "-0.00"
        vat = vat or ZERO
        inc = inc or ZERO
        unit = (ex if q == 1 else ex / q).quantize(UNIT, ROUND_HALF_UP)
        body = csvimport.line_body(
            ln[1], ln[2], _KIND_NL[ln[0]], str(q), str(unit), str(ln[5]), str(ex), str(vat), str(inc)
        )
        return ex, vat, inc, body

    def _unknown_rate(self, rate: Decimal, country: str, on: dt.date, allowed: frozenset) -> str:
        shop = self.rates.shop
        where = shop if not country or country == shop else f"{shop} or {country}"
        known = ", ".join(str(r) for r in sorted(allowed))
        return f"unknown VAT rate: {rate}% is not a rate of {where} on {on.isoformat()} (known: {known})"

    def _reject(self, o: StratoOrder, i: int | None, fieldname: str, value, reason: str) -> _Reject:
        line = o.line_numbers[i] if i is not None else o.line
        element = o.line_element(i) if i is not None else o.element
        return _Reject(
            Issue(self.label, line, element, fieldname, clip(value), reason, Severity.ERROR, o.number)
        )

    def _put_on_vat(self, o: StratoOrder, amounts: list[tuple], diff: Decimal, against: str) -> None:
        """Put a rounding difference ``diff`` against the order's ``against`` total on the VAT of the
        largest line, with a warning. Against ``GrandTotal`` the line's amount incl. VAT moves with
        it; against ``TotalTax`` its amount excl. VAT moves the other way (incl. VAT stays)."""
        big = _largest(amounts)
        ln, ex, vat, inc, _body = amounts[big]
        if against == "GrandTotal":
            inc += diff
        else:
            ex -= diff
        amounts[big] = (ln, *self._corrected(ln, ex, vat + diff, inc))
        self.add(
            Issue(
                self.label,
                o.line_numbers[big],
                o.line_element(big),
                "TaxAmount",
                str(diff),
                f"rounding difference of {diff} against the order's {against} put on this line's VAT",
                Severity.WARNING,
                o.number,
            )
        )

    def finish_into(self, summary: Summary) -> None:
        for method in sorted(self.writers):
            w = self.writers[method]
            summary.outputs.append(
                OutputReport(
                    w.path.name, "invoices", method, w.invoices, w.rows, w.total_ex, w.total_vat, w.total_inc
                )
            )
            summary.files.append(w.path.name)
        summary.input_total_ex += self.input_ex
        summary.input_total_vat += self.input_vat
        summary.input_total_inc += self.input_inc


_VAT_TYPE_TEXT = {n: str(n) for n in range(1, 8)}
_BODY = itemgetter(4)  # the CSV line body of an ``amounts`` entry
_A = {f: i for i, f in enumerate(ADDRESS_FIELDS)}
A_COUNTRY, A_VAT, A_STREET, A_HOUSE, A_STREET2 = (
    _A[k] for k in ("country", "vat_number", "street", "house_number", "street2")
)
A_FULL, A_FIRST, A_MIDDLE, A_LAST = (_A[k] for k in ("full_name", "first_name", "middle_name", "last_name"))
A_COMPANY, A_POSTAL, A_CITY, A_EMAIL = (_A[k] for k in ("company", "postal_code", "city", "email"))

_KIND_NL = {
    KIND_PRODUCT: "Product",
    KIND_SHIPPING: "Verzendkosten",
    KIND_PAYMENT_FEE: "Betaalkosten",
    KIND_DISCOUNT: "Korting",
}


def _largest(amounts: list[tuple]) -> int:
    best, size = 0, Decimal(-1)
    for i, a in enumerate(amounts):
        if abs(a[3]) > size:
            best, size = i, abs(a[3])
    return best
