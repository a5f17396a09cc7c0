"""What a conversion did: per input, per output file, the totals check and every located issue.

The same ``Summary`` feeds the CLI (a rich table), the web result page and
``conversion-summary.json``. Issues are kept in memory up to ``MAX_KEPT`` (the web page and the
terminal need no more); all of them are streamed to ``conversion-errors.csv`` as they happen, so a
million bad records cost no memory.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from koppeling.connectors.acumulus.csvimport import neutralise
from koppeling.connectors.strato.issues import Issue, Severity

ZERO = Decimal("0.00")
MAX_KEPT = 500
ERRORS_FILE = "conversion-errors.csv"
SUMMARY_FILE = "conversion-summary.json"

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2


@dataclass(slots=True)
class InputReport:
    file: str
    kind: str  # "customers" | "orders"
    format: str = ""
    encoding: str = ""
    usable: bool = True
    read: int = 0  # records found in the file
    converted: int = 0
    rejected: int = 0
    skipped: int = 0  # beyond --limit
    cancelled: int = 0  # cancelled orders: reported, not converted
    skipped_numbers: list[str] = field(default_factory=list)  # first few, for the message
    ignored: list[str] = field(default_factory=list)  # unknown columns / elements

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "format": self.format,
            "encoding": self.encoding,
            "usable": self.usable,
            "read": self.read,
            "converted": self.converted,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "skipped_numbers": self.skipped_numbers,
            "ignored": self.ignored,
        }


@dataclass(slots=True)
class OutputReport:
    file: str
    kind: str  # "relations" | "invoices"
    payment_method: str = ""
    records: int = 0  # relations or invoices
    rows: int = 0
    total_ex: Decimal = ZERO
    total_vat: Decimal = ZERO
    total_inc: Decimal = ZERO

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "file": self.file,
            "kind": self.kind,
            "records": self.records,
            "rows": self.rows,
        }
        if self.kind == "invoices":
            data |= {
                "payment_method": self.payment_method,
                "invoices": self.records,
                "total_ex": str(self.total_ex),
                "total_vat": str(self.total_vat),
                "total_inc": str(self.total_inc),
            }
        return data


class IssueLog:
    """Collects issues: counts all, keeps the first ``MAX_KEPT`` and streams all to a CSV file."""

    HEADER = ("severity", "file", "line", "element", "record", "field", "value", "reason")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.kept: list[Issue] = []
        self.errors = 0
        self.warnings = 0
        self._fh = None
        self._writer = None

    def add(self, issue: Issue) -> None:
        if issue.severity is Severity.ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.kept) < MAX_KEPT:
            self.kept.append(issue)
        if self.path is not None:
            if self._writer is None:
                self._fh = open(self.path, "w", encoding="utf-8", newline="")
                self._writer = csv.writer(self._fh, delimiter=";")
                self._writer.writerow(self.HEADER)
            # every text cell, the file name included (an upload's name is chosen by its sender)
            self._writer.writerow(
                (
                    str(issue.severity),
                    neutralise(issue.file),
                    issue.line or "",
                    neutralise(issue.element),
                    neutralise(issue.record),
                    neutralise(issue.field),
                    neutralise(issue.value),
                    neutralise(issue.reason),
                )
            )

    def extend(self, issues) -> None:
        for issue in issues:
            self.add(issue)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    @property
    def total(self) -> int:
        return self.errors + self.warnings


@dataclass(slots=True)
class Summary:
    inputs: list[InputReport] = field(default_factory=list)
    outputs: list[OutputReport] = field(default_factory=list)
    # totals of the converted orders as the orders state them (GrandTotal, TotalTax / computed)
    input_total_ex: Decimal = ZERO
    input_total_vat: Decimal = ZERO
    input_total_inc: Decimal = ZERO
    issues: list[Issue] = field(default_factory=list)  # first MAX_KEPT
    error_count: int = 0
    warning_count: int = 0
    files: list[str] = field(default_factory=list)  # every file written, names relative to out dir
    options: dict[str, object] = field(default_factory=dict)

    @property
    def invoice_outputs(self) -> list[OutputReport]:
        return [o for o in self.outputs if o.kind == "invoices"]

    @property
    def output_total_ex(self) -> Decimal:
        return sum((o.total_ex for o in self.invoice_outputs), ZERO)

    @property
    def output_total_vat(self) -> Decimal:
        return sum((o.total_vat for o in self.invoice_outputs), ZERO)

    @property
    def output_total_inc(self) -> Decimal:
        return sum((o.total_inc for o in self.invoice_outputs), ZERO)

    @property
    def totals_match(self) -> bool:
        return (
            self.output_total_ex == self.input_total_ex
            and self.output_total_vat == self.input_total_vat
            and self.output_total_inc == self.input_total_inc
        )

    @property
    def rejected(self) -> int:
        return sum(i.rejected for i in self.inputs)

    @property
    def exit_code(self) -> int:
        if any(not i.usable for i in self.inputs):
            return EXIT_UNUSABLE
        if self.rejected or self.error_count or not self.totals_match:
            return EXIT_REJECTED
        return EXIT_OK

    def as_dict(self) -> dict[str, object]:
        return {
            "exit_code": self.exit_code,
            "options": self.options,
            "inputs": [i.as_dict() for i in self.inputs],
            "outputs": [o.as_dict() for o in self.outputs],
            "totals": {
                "input": {
                    "total_ex": str(self.input_total_ex),
                    "total_vat": str(self.input_total_vat),
                    "total_inc": str(self.input_total_inc),
                },
                "output": {
                    "total_ex": str(self.output_total_ex),
                    "total_vat": str(self.output_total_vat),
                    "total_inc": str(self.output_total_inc),
                },
                "match": self.totals_match,
            },
            "errors": self.error_count,
            "warnings": self.warning_count,
            "issues": [i.as_dict() for i in self.issues],
            "issues_truncated": self.error_count + self.warning_count > len(self.issues),
            "files": self.files,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
