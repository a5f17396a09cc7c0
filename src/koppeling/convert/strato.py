"""Strato Webshop Pro exports -> Acumulus import files: read → core order → core's rules → writer.

``convert_strato(customers=..., orders=..., out_dir=..., options=...) -> Summary``

* ``Klanten.csv`` -> ``AcumulusKlanten.csv`` (relations import, ``convert.customers``);
* ``Bestellingen.xml`` -> one ``Acumulus<Method>Facturen.csv`` per payment method (import type
  "Strato uit convertor (.csv)"), streamed: memory stays flat;
* ``conversion-summary.json`` always, ``conversion-errors.csv`` when there was anything to report.

There is one invoice engine. Each order the reader yields (``connectors.strato``) is translated to
a ``core.Order`` (``connectors.strato.translate``) and made an invoice by
``core.invoicing.order_to_invoice`` — the same rules, VAT regimes and rounding as every live link —
fitted to Acumulus's own per-line computation (``TotalsMethod.PER_LINE_FROM_EX``), then written by
the Acumulus import-file writer (``connectors.acumulus.csvimport.InvoiceFileTarget``). So every
invoice written adds up, in Acumulus, to exactly what the customer paid, and the summary's totals
per file add up to the converted orders' totals.

What the converter itself adds: cancelled orders are reported and not booked, unpaid ones are
booked as due; an order's own ``TotalTax`` must match the invoice's VAT within a cent per line; a
VAT rate that is not the shop's is refused (no person looks at an import file before Acumulus
does); order numbers are unique per file; stray Windows-1252 bytes in a UTF-8 file are repaired
byte by byte and reported per order; files of an earlier run in ``out_dir`` are refused (or
removed with ``replace``), never mixed. A 0 % sale to an EU business is only an ICP with VIES's
confirmation (``StratoOptions.vat_check``); without one it is refused with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from koppeling.connectors.acumulus import csvimport
from koppeling.connectors.strato.issues import Issue, clip
from koppeling.core.facts import VatNumberCheck
from koppeling.core.invoicing import InvoiceSettings

from .customers import convert_customers as _convert_customers
from .strato_orders import convert_orders as _convert_orders
from .summary import ERRORS_FILE, SUMMARY_FILE, InputReport, IssueLog, Summary

CUSTOMERS_FORMAT = "strato-klanten/1"
Source = str | os.PathLike | BinaryIO


@dataclass(frozen=True, slots=True)
class StratoOptions:
    """``cost_center``: Acumulus cost center for this shop; ``prefix``: the shop's unique order
    number prefix (``WA`` -> ``WA1001``); ``limit``: convert at most this many invoices (trial
    accounts: 40), report the rest as skipped; ``shop_country``: where the shop is (VAT rates);
    ``oss_registered``: EU consumers pay their own country's VAT (the seller is past the EUR 10,000
    threshold and declares through OSS; default off: the seller's VAT, unless the shop itself
    charged the customer's country's rates); ``fee_allocation``: ``proportional`` | ``highest``;
    ``vat_check``: a function asking VIES about a VAT number (``ViesChecker.check_number``) —
    without one, a business the shop charged 0 % is refused, never booked as an ICP on a checksum;
    ``replace``: output files of an earlier run in ``out_dir`` are removed first (else refused)."""

    cost_center: str = ""
    prefix: str = ""
    limit: int | None = None
    shop_country: str = "NL"
    oss_registered: bool = False
    fee_allocation: str = "proportional"
    vat_check: Callable[[str], VatNumberCheck] | None = None
    replace: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "cost_center": self.cost_center,
            "prefix": self.prefix,
            "limit": self.limit,
            "shop_country": self.shop_country,
            "oss_registered": self.oss_registered,
            "fee_allocation": self.fee_allocation,
            "vies": self.vat_check is not None,
        }

    def invoice_settings(self, prefix: str) -> InvoiceSettings:
        """The core settings of this conversion: the Acumulus import's own totals computation."""
        return InvoiceSettings(
            seller_country=self.shop_country,
            oss_registered=self.oss_registered,
            reference_prefix=prefix,
            description_template="Bestelling {number}",
            totals_method=csvimport.InvoiceFileTarget.TOTALS_METHOD,
            fee_allocation=self.fee_allocation,
        )


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
    left = earlier_outputs(out)
    if left and not options.replace:
        report = InputReport(str(out), "output", usable=False)
        summary.inputs.append(report)
        summary.issues = [
            Issue(
                str(out),
                None,
                "",
                "out",
                clip(", ".join(p.name for p in left[:5])),
                f"the output folder holds {len(left)} file(s) of an earlier conversion; they would be mixed "
                "with this one's. Choose an empty folder, or replace them (--replace)",
            )
        ]
        summary.error_count = 1
        return summary
    for path in left:
        path.unlink()
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


def earlier_outputs(out: Path) -> list[Path]:
    """Files a conversion writes that are already in ``out`` (from an earlier run)."""
    names = {csvimport.RELATIONS_FILE, ERRORS_FILE, SUMMARY_FILE}
    return sorted(
        p for p in out.iterdir() if p.is_file() and (p.name in names or _INVOICE_FILE.fullmatch(p.name))
    )


_INVOICE_FILE = re.compile(r"Acumulus[0-9A-Za-z]+Facturen\.csv")


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
