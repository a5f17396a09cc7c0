"""Reader for ``Klanten.csv``, the Strato Webshop Pro customers export.

Format reading ``strato-klanten/1`` (inferred — Strato does not publish the column list; see
``docs/connectors/strato.md``):

* text, UTF-8 as chosen with "Codering: Unicode (UTF-8)"; a BOM is allowed; Windows-1252 and
  UTF-16 are read too (``textfile``), Windows-1252 with a warning;
* the delimiter is detected (``;`` ``,`` tab or ``|``), standard CSV quoting (``""`` inside quotes,
  line breaks inside quoted values);
* the first non-empty line is the header. Each header is matched to a field by ``names.match``:
  case- and accent-insensitive, Dutch/German/English labels and ePages attribute paths
  (``Vorname``, ``Voornaam``, ``First name``, ``[BillingAddress.FirstName]`` -> ``first_name``).
  Unknown columns are ignored and listed once; a header with no known column at all means the file
  is not a customers export (unusable input);
* one customer per row. A customer needs a name: ``company``, ``last_name``, ``first_name`` or
  ``full_name``. A row whose field count differs from the header's is rejected (a delimiter inside
  an unquoted value shifts every column after it — guessing would put data in the wrong fields).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from . import names
from .issues import Issue, Severity, UnusableInput, clip
from .textfile import Detected, detect_encoding, open_text, sniff_delimiter

FIELDS = tuple(names.PARTY_SYNONYMS)
NAME_FIELDS = ("company", "last_name", "first_name", "full_name")

FIELD_LIMIT = 1 << 20  # 1 MiB: a longer value is a located error, not a crash
csv.field_size_limit(FIELD_LIMIT)


def _rows(reader) -> Iterator[list[str] | None]:
    """The reader's rows; ``None`` for a row the csv module refused (a value over ``FIELD_LIMIT``)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield None


@dataclass(slots=True)
class Customer:
    """One row of Klanten.csv, cleaned; every value is a stripped string ("" when absent)."""

    line: int
    customer_number: str = ""
    salutation: str = ""
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    full_name: str = ""
    company: str = ""
    street: str = ""
    house_number: str = ""
    street2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""  # ISO code as read (or derived from a country name)
    country_name: str = ""  # the original value when it was a name
    email: str = ""
    phone: str = ""
    mobile: str = ""
    fax: str = ""
    vat_number: str = ""
    website: str = ""
    iban: str = ""
    note: str = ""

    @property
    def person_name(self) -> str:
        if self.full_name:
            return self.full_name
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)

    @property
    def address_line(self) -> str:
        if self.house_number and self.house_number not in self.street:
            return f"{self.street} {self.house_number}".strip()
        return self.street


@dataclass(slots=True)
class CustomerRow:
    """What one data row became: a customer (maybe with warnings) or only errors."""

    line: int
    customer: Customer | None
    issues: list[Issue] = field(default_factory=list)


class CustomerReader:
    """Iterate a Klanten.csv export. ``stream`` must be binary and seekable (a file or upload).

    File-level facts are attributes once constructed: ``encoding``, ``delimiter``, ``columns``
    (header -> field), ``ignored_columns`` and ``warnings`` (file-level issues, e.g. Windows-1252).
    Raises ``UnusableInput`` from the constructor when the file is not a customers export.
    """

    def __init__(self, stream: BinaryIO, label: str = "Klanten.csv") -> None:
        self.label = label
        self.stream = stream
        self.warnings: list[Issue] = []
        detected: Detected = detect_encoding(stream, label)
        self.encoding = detected.encoding
        if detected.warning:
            self.warnings.append(
                Issue(label, detected.first_bad_line, "", "encoding", "", detected.warning, Severity.WARNING)
            )
        self._text = open_text(stream, detected)
        sample = self._text.read(64 * 1024)
        self.delimiter = sniff_delimiter(sample)
        self._reopen(detected)
        self._reader = csv.reader(self._text, delimiter=self.delimiter, quotechar='"', doublequote=True)
        header: list[str] | None = None
        self.header_line = 0
        for row in _rows(self._reader):
            if row is None:
                raise UnusableInput(
                    label, "the header line has a value over 1 MiB", line=self._reader.line_num
                )
            if any(cell.strip() for cell in row):
                header = row
                self.header_line = self._reader.line_num
                break
        if header is None:
            raise UnusableInput(label, "the file has no header line (it is empty)")
        self.header = [h.strip().lstrip("\ufeff") for h in header]
        self.columns: dict[int, str] = {}
        self.column_names: dict[str, str] = {}
        self.ignored_columns: list[str] = []
        for i, name in enumerate(self.header):
            fieldname = names.match(name, names.PARTY_TABLE, names.ADDRESS_PREFIXES) if name else None
            if fieldname is None or fieldname in self.column_names:
                if name:
                    self.ignored_columns.append(name)
                continue
            self.columns[i] = fieldname
            self.column_names[fieldname] = name
        if not any(f in self.column_names for f in NAME_FIELDS):
            known = ", ".join(sorted(self.column_names)) or "none"
            raise UnusableInput(
                label,
                "no name or company column found in the header "
                f"(recognised columns: {known}); is this the Strato customers export (Klanten.csv)?",
                line=self.header_line,
            )
        if self.ignored_columns:
            self.warnings.append(
                Issue(
                    label,
                    self.header_line,
                    "header",
                    "columns",
                    clip(", ".join(self.ignored_columns), 300),
                    "columns not used by the conversion (ignored)",
                    Severity.WARNING,
                )
            )

    def _reopen(self, detected: Detected) -> None:
        # TextIOWrapper.seek(0) after read() is fine, but re-wrapping is simplest and exact.
        self._text.detach()
        self._text = open_text(self.stream, detected)

    def __iter__(self) -> Iterator[CustomerRow]:
        width = len(self.header)
        columns = list(self.columns.items())
        label = self.label
        reader = self._reader
        previous = self.header_line
        # the header was consumed by the constructor's reader; continue with the same reader
        for row in _rows(reader):
            first_line = previous + 1
            previous = reader.line_num
            if row is None:
                reason = f"a value is longer than {FIELD_LIMIT} characters (1 MiB); the row is skipped"
                yield CustomerRow(
                    first_line, None, [Issue(label, first_line, f"row {first_line}", "row", "", reason)]
                )
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                yield CustomerRow(
                    first_line,
                    None,
                    [
                        Issue(
                            label,
                            first_line,
                            f"row {first_line}",
                            "row",
                            clip(self.delimiter.join(row)),
                            f"the row has {len(row)} fields but the header has {width}; "
                            "is there an unquoted delimiter in a value?",
                        )
                    ],
                )
                continue
            values = {f: row[i].strip() for i, f in columns}
            yield self._customer(first_line, values)

    def _customer(self, line: int, values: dict[str, str]) -> CustomerRow:
        issues: list[Issue] = []
        record = values.get("customer_number", "")
        customer = Customer(line=line, **{k: v for k, v in values.items() if k != "country"})
        raw_country = values.get("country", "")
        if raw_country:
            code = names.country_code(raw_country)
            if code is None:
                customer.country_name = raw_country
                issues.append(
                    self._issue(
                        line,
                        "country",
                        raw_country,
                        "unknown country; the country code was left empty",
                        Severity.WARNING,
                        record,
                    )
                )
            else:
                customer.country = code
                if len(raw_country.strip()) != 2:
                    customer.country_name = raw_country
        if not any(getattr(customer, f) for f in NAME_FIELDS):
            issues.append(
                self._issue(
                    line,
                    "name",
                    "",
                    "missing required field: a customer needs a name or a company",
                    Severity.ERROR,
                    record,
                )
            )
            return CustomerRow(line, None, issues)
        if customer.email and "@" not in customer.email:
            issues.append(
                self._issue(line, "email", customer.email, "not an e-mail address", Severity.WARNING, record)
            )
        if customer.vat_number:
            problem = vat_number_problem(customer.vat_number)
            if problem:
                issues.append(
                    self._issue(line, "vat_number", customer.vat_number, problem, Severity.WARNING, record)
                )
        return CustomerRow(line, customer, issues)

    def _issue(
        self, line: int, fieldname: str, value: str, reason: str, severity: Severity, record: str
    ) -> Issue:
        column = self.column_names.get(fieldname, fieldname)
        return Issue(self.label, line, f"column {column!r}", fieldname, clip(value), reason, severity, record)


def vat_number_problem(number: str) -> str:
    """ "" if ``number`` is a valid EU VAT number (python-stdnum), else why not."""
    try:
        from stdnum.eu import vat
    except ImportError:  # pragma: no cover - python-stdnum is a dependency
        return ""
    compact = number.replace(" ", "").replace(".", "").upper()
    if len(compact) > 2 and compact[:2].isalpha() and compact[:2].lower() not in {*vat.MEMBER_STATES, "el"}:
        return ""  # not an EU number (e.g. CH, GB): python-stdnum's EU check does not apply
    return "" if vat.is_valid(compact) else "not a valid EU VAT number (checked with python-stdnum)"
