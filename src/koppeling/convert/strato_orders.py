"""One pass of the Strato order conversion: Bestellingen.xml -> core order -> core's rules ->
the Acumulus invoice files, with every order's issues (``strato.convert_strato`` drives it)."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from koppeling.connectors.acumulus import csvimport
from koppeling.connectors.strato import translate
from koppeling.connectors.strato.issues import Issue, Severity, UnusableInput, clip
from koppeling.connectors.strato.orders import (
    FORMAT_VERSION as ORDERS_FORMAT,
)
from koppeling.connectors.strato.orders import (
    OrderError,
    OrderReader,
    StratoOrder,
    WrongEncoding,
)
from koppeling.connectors.strato.textfile import repair_utf8
from koppeling.core.codes import WarningCode
from koppeling.core.errors import RuleError
from koppeling.core.facts import InvoiceFacts
from koppeling.core.invoicing import InvoiceSettings, order_to_invoice
from koppeling.core.messages import english
from koppeling.core.models import PaymentStatus, VatRegime

from .methods import SeenNumbers, canonical_method
from .summary import InputReport, IssueLog, OutputReport, Summary

if TYPE_CHECKING:
    from .strato import ProgressFactory, StratoOptions

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
SKIPPED_SHOWN = 20
#: bound of the small per-conversion caches (countries, rate sets, payment method texts)
SMALL_CACHE_SIZE = 1000
#: invoice files opened at most; the orders of further payment methods go to OTHER_METHOD's file
MAX_INVOICE_FILES = 50
OTHER_METHOD = "Overig"


# ---- the conversion --------------------------------------------------------------------------


class _Reject(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.reason)
        self.issue = issue


def _size(stream: BinaryIO) -> int:
    try:
        here = stream.tell()
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(here)
        return size
    except (OSError, ValueError):
        return 0


# ---- orders -----------------------------------------------------------------------------------


def convert_orders(
    stream: BinaryIO,
    label: str,
    out: Path,
    options: StratoOptions,
    summary: Summary,
    log: IssueLog,
    progress: ProgressFactory | None,
) -> None:
    encoding: str | None = None
    repaired, stray_lines = repair_utf8(stream)
    if repaired is not None:
        stream = repaired
    while True:
        report = InputReport(label, "orders", ORDERS_FORMAT, encoding or "as declared")
        if stray_lines and encoding is None:
            report.encoding = "UTF-8, stray Windows-1252 bytes repaired"
        attempt = _OrderConversion(stream, label, out, options, report, encoding, progress)
        attempt.stray_lines = list(stray_lines)
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
    if repaired is not None:
        repaired.close()


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
        self._settings = options.invoice_settings(options.prefix)
        self._settings_no_prefix = options.invoice_settings("")
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

    stray_lines: list[int]
    _previous: tuple[int | None, str] = (None, "")

    def _attribute_stray_bytes(self, start: int | None, number: str) -> None:
        """Warn, per order, about the stray Windows-1252 bytes repaired inside it: the lines before
        this order's start belong to the order before it (``start`` None: the end of the file)."""
        pending = self.stray_lines
        if pending:
            mine = [n for n in pending if start is None or n < start]
            if mine:
                del pending[: len(mine)]
                _line, record = self._previous
                where = ", ".join(map(str, mine[:10])) + (" …" if len(mine) > 10 else "")
                self.add(
                    Issue(
                        self.label,
                        mine[0],
                        "",
                        "encoding",
                        where,
                        f"byte(s) that are not UTF-8 on line(s) {where} were read as Windows-1252 "
                        "(e.g. é, €); check the text of this order",
                        Severity.WARNING,
                        record,
                    )
                )
        self._previous = (start, number)

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
                if self.stray_lines:  # repaired bytes not yet attributed (none: nothing to remember)
                    self._attribute_stray_bytes(order.line, order.number)
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
                if order.cancelled:
                    report.cancelled += 1
                    self.add(
                        Issue(
                            self.label,
                            order.line,
                            order.element,
                            "Status",
                            clip(order.status),
                            "the order was cancelled: not converted (it is neither paid nor due)",
                            Severity.WARNING,
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
        self._attribute_stray_bytes(None, "")
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
        """Translate to a core order, let core's rules make the invoice, write it (one engine)."""
        for i in translate.positive_discounts(o):
            self.add(
                Issue(
                    self.label,
                    o.line_numbers[i],
                    o.line_element(i),
                    "LineTotal",
                    str(o.lines[i].total if o.lines[i].total is not None else o.lines[i].unit_price),
                    "a discount written as a positive amount was deducted",
                    Severity.WARNING,
                    o.number,
                )
            )
        order = translate.order_of(o)
        facts = self._facts(order)
        try:
            invoice = order_to_invoice(order, self._settings_for(o.number, prefix), facts=facts)
        except RuleError as exc:
            raise self._reject(
                o, _line_of(exc.field), _field_name(exc.field), _value(exc), exc.message
            ) from None
        total_ex = total_vat = Decimal(0)  # as Invoice.total_ex and .total_vat, added up in one pass
        for line in invoice.lines:
            total_ex += line.total_ex
            total_vat += line.vat_amount
        self._check_tax(o, invoice, total_vat)
        for warning in invoice.warnings:
            if warning.code in _REJECTING:
                line = int(warning.params.get("line", 0)) - 1
                raise self._reject(
                    o,
                    line if line >= 0 else None,
                    "TaxRate",
                    warning.params.get("rate", ""),
                    english(warning),
                )
            if warning.code not in _QUIET:
                self.add(
                    Issue(self.label, o.line, o.element, "", "", english(warning), Severity.WARNING, o.number)
                )
        method_text = o.payment_method
        writer = self._by_method.get(method_text)
        if writer is None:
            writer = self._writer_for(o, method_text)
        customer = invoice.customer
        paid = invoice.payment_status is PaymentStatus.PAID
        date = invoice.issue_date.isoformat()
        street = f"{customer.street}, {customer.street2}" if customer.street2 else customer.street
        head = [
            invoice.reference,
            date,
            o.customer_number,
            customer.company,
            customer.name,
            street,
            customer.postal_code,
            customer.city,
            customer.country_code,
            customer.email,
            customer.vat_number,
            csvimport.InvoiceFileTarget.vat_type(invoice),
            invoice.description,
            cost_center,
            method_text,
            "2" if paid else "1",
            date if paid else "",
            invoice.currency,
        ]
        # InvoiceFileTarget.write, with the totals added up once (they are Invoice properties)
        bodies = csvimport.invoice_bodies(invoice)
        writer.write_invoice(head, bodies, total_ex, total_vat, total_ex + total_vat)
        self.input_ex += total_ex
        self.input_vat += total_vat
        self.input_inc += (invoice.source_total_inc or ZERO) + invoice.gift_card_amount

    def _settings_for(self, number: str, prefix: str) -> InvoiceSettings:
        """The invoice settings of this conversion (a number already carrying the prefix keeps it)."""
        if prefix and number.startswith(prefix):
            return self._settings_no_prefix
        return self._settings

    def _facts(self, order) -> InvoiceFacts | None:
        """The VIES answer for a business customer's number, when the options give a checker."""
        check = self.options.vat_check
        number = order.customer.vat_number
        if check is None or not number:
            return None
        return InvoiceFacts(vat_check=check(number))

    def _check_tax(self, o: StratoOrder, invoice, total_vat: Decimal) -> None:
        """The order's own ``TotalTax`` (or ``GrandTotal - TotalBeforeTax``) against the invoice's
        VAT: a cent per line is rounding (Acumulus's per line, accepted); more means a line is
        missing or wrong."""
        stated = o.total_tax
        if (
            stated is not None
            and o.total_before_tax is not None
            and o.total_before_tax + stated != o.grand_total
        ):
            raise self._reject(
                o,
                None,
                "TotalTax",
                stated,
                f"TotalBeforeTax {o.total_before_tax} + TotalTax {stated} is not GrandTotal {o.grand_total}",
            )
        if stated is None and o.total_before_tax is not None:
            stated = o.grand_total - o.total_before_tax
        if stated is None or stated == total_vat or invoice.regime not in _STATED_TAX_REGIMES:
            return
        if abs(stated - total_vat) > CENT * len(invoice.lines):
            raise self._reject(
                o,
                None,
                "TotalTax",
                stated,
                f"the lines' VAT adds up to {total_vat} but the order states {stated}",
            )
        # within a cent per line: the per-line rounding Acumulus applies (the amount paid is kept)

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

    def _reject(self, o: StratoOrder, i: int | None, fieldname: str, value, reason: str) -> _Reject:
        line = o.line_numbers[i] if i is not None else o.line
        element = o.line_element(i) if i is not None else o.element
        return _Reject(
            Issue(self.label, line, element, fieldname, clip(value), reason, Severity.ERROR, o.number)
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


#: warnings core gives that the Strato files' own issues already say, or that are routine here
_QUIET = frozenset({WarningCode.CORRECTION_LINE_ADDED, WarningCode.FEE_ALLOCATED})
#: warnings that reject an order in a file conversion (no person sees it before it is imported)
_REJECTING = frozenset({WarningCode.RATE_NOT_SELLER_RATE})
#: regimes in which the order's stated VAT must match the invoice's (elsewhere the rules re-rate)
_STATED_TAX_REGIMES = frozenset({VatRegime.DOMESTIC, VatRegime.REVERSE_CHARGE})


def _line_of(field: str) -> int | None:
    """``lines[2].vat_rate`` -> 2 (the line a rule error is about), else None."""
    match = re.match(r"lines\[(\d+)\]", field)
    return int(match.group(1)) if match else None


def _field_name(field: str) -> str:
    names_map = {"total_inc": "GrandTotal", "customer.vat_number": "VATID", "currency": "Currency"}
    if field.startswith("lines["):
        return "TaxRate" if field.endswith("vat_rate") or field.count(".") == 0 else field.rsplit(".", 1)[-1]
    return names_map.get(field, field or "order")


def _value(exc: RuleError) -> object:
    params = exc.params
    for key in ("rate", "order_total", "vat_number", "currency"):
        if key in params:
            return params[key]
    return ""
