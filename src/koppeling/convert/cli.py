"""``koppeling convert strato``: Strato Webshop Pro exports -> Acumulus import files.

The lead's ``koppeling.cli`` wires the subcommand with ``add_arguments(parser)`` and
``run(args) -> int``; ``main(argv)`` runs it stand-alone (``python -m koppeling.convert.cli``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from koppeling.connectors.acumulus.csvimport import INVOICE_COLUMNS, RELATION_COLUMNS, RELATIONS_FILE

from .strato import StratoOptions, convert_strato
from .summary import ERRORS_FILE, EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE, SUMMARY_FILE, Summary

#: files above this size get a progress bar (when stderr is a terminal)
PROGRESS_MIN_BYTES = 5 * 1024 * 1024


def _columns(columns) -> str:
    return "\n".join(f"  {i:2d}. {c.header:<26} {c.description}" for i, c in enumerate(columns, 1))


EPILOG = f"""\
Outputs (in --out):
  {RELATIONS_FILE}           from --customers; Acumulus: Relaties -> Importeer CSV-bestand
  Acumulus<Method>Facturen.csv  from --orders, one per payment method (e.g. AcumulusBankFacturen.csv,
                                AcumulusPayPalFacturen.csv); Acumulus: Overzichten -> Geimporteerde
                                facturen uit andere pakketten -> type "Strato uit convertor (.csv)";
                                import each file against its own (intermediate) account
  {SUMMARY_FILE}       what was converted, totals per file, every issue
  {ERRORS_FILE}          every rejected record / warning (file, line, element, field, value, reason)

All CSV files: UTF-8, ';' delimited, header row, decimal point, dates YYYY-MM-DD.

Column order of {RELATIONS_FILE} (set the import columns in Acumulus in this order):
{_columns(RELATION_COLUMNS)}

Column order of Acumulus<Method>Facturen.csv (one row per invoice line):
{_columns(INVOICE_COLUMNS)}

Exit codes:
  {EXIT_OK}  everything converted (warnings may have been reported)
  {EXIT_REJECTED}  some records were rejected; the good ones were written (see {ERRORS_FILE})
  {EXIT_UNUSABLE}  an input is unusable (empty, not a Strato export, unreadable); nothing from it was written
"""


DESCRIPTION = (
    "Convert Strato Webshop Pro exports (Klanten.csv, Bestellingen.xml) into Acumulus import files. "
    "Either input may be given alone."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``koppeling convert strato``."""
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--customers",
        metavar="Klanten.csv",
        type=Path,
        help="customers export (Klanten -> Exporteren, Codering: Unicode (UTF-8))",
    )
    parser.add_argument(
        "--orders",
        metavar="Bestellingen.xml",
        type=Path,
        help="orders export (Bestellingen -> Exporteren als XML-bestand)",
    )
    parser.add_argument(
        "--out", metavar="DIR", type=Path, required=True, help="directory for the output files"
    )
    parser.add_argument(
        "--cost-center",
        default="",
        metavar="NAME",
        help="Acumulus cost center (kostenplaats) for this shop, written on every invoice",
    )
    parser.add_argument(
        "--prefix",
        default="",
        metavar="WA",
        help="unique order number prefix for this shop: order 1001 becomes WA1001",
    )
    parser.add_argument(
        "--limit",
        type=_positive,
        default=None,
        metavar="N",
        help="convert at most N invoices (Acumulus trial accounts: 40); the rest are reported as skipped",
    )
    parser.add_argument(
        "--shop-country",
        default="NL",
        metavar="CC",
        help="country of the shop, for the VAT rates (default NL)",
    )
    parser.add_argument(
        "--oss",
        action="store_true",
        help="the shop is past the EU distance-sales threshold and on OSS: EU consumers pay their own VAT",
    )
    parser.add_argument(
        "--vies",
        default="",
        metavar="NL...B01",
        help="check business customers' VAT numbers with VIES (online), the shop's own VAT number as "
        "requester; without it a 0%% sale to an EU business is refused, never booked on a checksum",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="remove the files of an earlier conversion in --out first (they are never mixed)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")


def _vies_checker(requester: str):
    """``ViesChecker.check_number`` for the real VIES, or None without a requester number."""
    if not requester.strip():
        return None
    from koppeling.connectors.base import ConnectionConfig
    from koppeling.connectors.vies.client import ViesChecker

    checker = ViesChecker(ConnectionConfig("vies", "", {"requester_vat_number": requester.strip()}))
    return checker.check_number


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run(args: argparse.Namespace) -> int:
    """Run the conversion; print the summary; return the exit code (0, 1 or 2)."""
    from rich.console import Console

    console = Console(stderr=False, highlight=False)
    err = Console(stderr=True, highlight=False)
    if args.customers is None and args.orders is None:
        err.print("[red]Give --customers and/or --orders.[/red]")
        return EXIT_UNUSABLE
    for path in (args.customers, args.orders):
        if path is not None and not path.is_file():
            err.print(f"[red]{path}: no such file[/red]")
            return EXIT_UNUSABLE
    options = StratoOptions(
        cost_center=args.cost_center.strip(),
        prefix=args.prefix.strip(),
        limit=args.limit,
        shop_country=args.shop_country.strip().upper() or "NL",
        oss_registered=bool(getattr(args, "oss", False)),
        vat_check=_vies_checker(getattr(args, "vies", "")),
        replace=bool(getattr(args, "replace", False)),
    )
    progress = None
    if not getattr(args, "quiet", False) and err.is_terminal:
        progress = _ProgressBars(err)
    try:
        summary = convert_strato(
            customers=args.customers, orders=args.orders, out_dir=args.out, options=options, progress=progress
        )
    finally:
        if progress is not None:
            progress.stop()
    print_summary(summary, console, args.out)
    return summary.exit_code


class _ProgressBars:
    """``ProgressFactory`` for ``convert_strato``: a rich bar per large file, by bytes read."""

    def __init__(self, console) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._started = False

    def __call__(self, label: str, total: int):
        if total < PROGRESS_MIN_BYTES:
            return None
        if not self._started:
            self._progress.start()
            self._started = True
        task = self._progress.add_task(label, total=total)

        def advance(done: int) -> None:
            self._progress.update(task, completed=done)

        return advance

    def stop(self) -> None:
        if self._started:
            self._progress.stop()


def print_summary(summary: Summary, console, out: Path) -> None:
    from rich.table import Table

    for report in summary.inputs:
        status = "[green]usable[/green]" if report.usable else "[red]UNUSABLE[/red]"
        extra = f", {report.skipped} skipped (--limit)" if report.skipped else ""
        console.print(
            f"{report.file} ({report.kind}, {status}): {report.read} read, {report.converted} converted, "
            f"{report.rejected} rejected{extra}"
        )
    if summary.outputs:
        table = Table(title=f"Written to {out}")
        for col in ("file", "records", "excl. VAT", "VAT", "incl. VAT"):
            table.add_column(col, justify="left" if col == "file" else "right")
        for o in summary.outputs:
            if o.kind == "invoices":
                table.add_row(
                    o.file, f"{o.records} invoices", str(o.total_ex), str(o.total_vat), str(o.total_inc)
                )
            else:
                table.add_row(o.file, f"{o.records} relations", "", "", "")
        if summary.invoice_outputs:
            table.add_row(
                "[b]total[/b]",
                "",
                str(summary.output_total_ex),
                str(summary.output_total_vat),
                str(summary.output_total_inc),
            )
            table.add_row(
                "orders' own totals",
                "",
                str(summary.input_total_ex),
                str(summary.input_total_vat),
                str(summary.input_total_inc),
            )
        console.print(table)
        if summary.invoice_outputs:
            verdict = "[green]equal to the cent[/green]" if summary.totals_match else "[red]DIFFERENT[/red]"
            console.print(f"Totals of the invoice files vs the converted orders: {verdict}")
    if summary.issues:
        table = Table(title=f"Issues ({summary.error_count} errors, {summary.warning_count} warnings)")
        for col in ("", "where", "record", "field", "value", "reason"):
            table.add_column(col, overflow="fold")
        for issue in summary.issues[:50]:
            mark = "[red]error[/red]" if issue.severity == "error" else "[yellow]warning[/yellow]"
            where = f"{issue.file}:{issue.line}" if issue.line else issue.file
            if issue.element:
                where += f" {issue.element}"
            table.add_row(mark, where, issue.record, issue.field, issue.value, issue.reason)
        console.print(table)
        if summary.error_count + summary.warning_count > 50:
            console.print(f"… all of them are in {out / ERRORS_FILE}")
    code = summary.exit_code
    words = {
        EXIT_OK: "[green]everything converted[/green]",
        EXIT_REJECTED: "[yellow]some records were rejected; the rest was written[/yellow]",
        EXIT_UNUSABLE: "[red]an input is unusable[/red]",
    }
    console.print(f"Exit {code}: {words[code]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="koppeling convert strato")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
