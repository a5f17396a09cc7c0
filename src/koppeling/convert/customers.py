"""``Klanten.csv`` -> ``AcumulusKlanten.csv``: the relations half of the Strato conversion."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from koppeling.connectors.acumulus import csvimport
from koppeling.connectors.strato.customers import CustomerReader
from koppeling.connectors.strato.issues import Issue, Severity, UnusableInput

from .summary import InputReport, IssueLog, OutputReport, Summary

__all__ = ["CUSTOMERS_FORMAT", "convert_customers"]

CUSTOMERS_FORMAT = "strato-klanten/1"


# ---- customers --------------------------------------------------------------------------------


def convert_customers(stream: BinaryIO, label: str, out: Path, summary: Summary, log: IssueLog) -> None:
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
