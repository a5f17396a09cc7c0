"""CSV files for Acumulus' file imports: relations ("Relaties -> Importeer CSV-bestand") and invoices
("Overzichten -> Geïmporteerde facturen uit andere pakketten", source type "Strato uit convertor
(.csv)").

Acumulus shows the expected column order of these imports only as a picture on its Strato page
(https://www.siel.nl/acumulus/koppelingen/webwinkels/Strato/, "Kolomvolgorde Strato in Acumulus"),
so the exact columns could not be verified. The layouts below are **ours, fixed and versioned**:
each column maps to the Acumulus API field of the same meaning (``api`` below, names from
libAcumulus ``Fld.php``) so that the import's column assignment is unambiguous. The column order
never changes within a version; a change means a new version.

File conventions (both files):

* UTF-8 without BOM, ``;`` as delimiter, ``"`` quoting only where needed, CRLF line ends;
* first row: the column headers below;
* amounts: decimal point, two decimals (``1234.50``, ``-5.00``), no thousands separator; unit
  prices four decimals; VAT rates in percent as written in the shop (``21``, ``9``, ``5.5``);
* dates ``YYYY-MM-DD``;
* **formula injection** is neutralised: a text value that starts with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return and is not a plain number or phone number gets a leading ``'`` (OWASP
  "CSV Injection"), so ``=cmd|' /C calc'!A0`` is stored as text, never run by a spreadsheet.
  Numbers we produce ourselves are never altered.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from koppeling.core.models import Invoice, InvoiceLine
from koppeling.core.remembered import Remembered
from koppeling.core.totals import TotalsMethod

from .client import VAT_TYPE, _fit_line

FORMAT_VERSION = "acumulus-csv/1"
DELIMITER = ";"
NEWLINE = "\r\n"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    api: str  # the Acumulus API field it corresponds to
    description: str


RELATION_COLUMNS: tuple[Column, ...] = (
    Column("Klantnummer", "contactyourid", "customer number in the shop"),
    Column("Bedrijfsnaam", "companyname1", "company name"),
    Column("Naam", "fullname", "contact person: first name, infix, last name"),
    Column("Aanhef", "salutation", "salutation as in the shop (Dhr., Mevr., Herr, Frau ...)"),
    Column("Adres", "address1", "street and house number"),
    Column("Adres 2", "address2", "second address line"),
    Column("Postcode", "postalcode", "postal code"),
    Column("Plaats", "city", "city"),
    Column("Landcode", "countrycode", "ISO 3166-1 alpha-2 (NL, BE, DE ...); empty when unknown"),
    Column("Land", "country", "country name when the export gave a name instead of a code"),
    Column("Telefoon", "telephone", "telephone"),
    Column("Telefoon 2", "telephone2", "mobile / second telephone"),
    Column("Fax", "fax", "fax"),
    Column("E-mail", "email", "e-mail address"),
    Column("Website", "website", "website"),
    Column("Btw-nummer", "vatnumber", "VAT identification number"),
    Column("IBAN", "bankaccountnumber", "bank account"),
    Column("Type", "type", "relation type: always 1 (debiteur / debtor)"),
    Column("Opmerking", "mark", "remark from the shop"),
)

INVOICE_COLUMNS: tuple[Column, ...] = (
    Column("Ordernummer", "description", "the Strato order number with the shop prefix (e.g. WA1001)"),
    Column("Factuurdatum", "issuedate", "order date, YYYY-MM-DD"),
    Column("Klantnummer", "contactyourid", "customer number in the shop"),
    Column("Bedrijfsnaam", "companyname1", "company name"),
    Column("Naam", "fullname", "contact person"),
    Column("Adres", "address1", "street and house number"),
    Column("Postcode", "postalcode", "postal code"),
    Column("Plaats", "city", "city"),
    Column("Landcode", "countrycode", "ISO 3166-1 alpha-2"),
    Column("E-mail", "email", "e-mail address"),
    Column("Btw-nummer", "vatnumber", "customer's VAT number"),
    Column("Btw-type", "vattype", "1 national, 3 EU reverse charge (ICP), 4 outside the EU, 6 EU VAT (OSS)"),
    Column("Omschrijving", "description", "invoice description: 'Bestelling <ordernummer>'"),
    Column("Kostenplaats", "costcenter", "cost center of this shop (option --cost-center)"),
    Column("Betaalmethode", "paymentmethod", "payment method as in the shop"),
    Column("Betaalstatus", "paymentstatus", "2 paid (default), 1 due when the order says it is not paid"),
    Column("Betaaldatum", "paymentdate", "order date when paid, else empty"),
    Column("Valuta", "currency", "ISO 4217, normally EUR"),
    Column("Regel", "", "line number within the invoice, 1.."),
    Column("Artikelnummer", "itemnumber", "product number / SKU"),
    Column("Product", "product", "line description"),
    Column("Soort", "nature", "Product, Verzendkosten, Betaalkosten or Korting"),
    Column("Aantal", "quantity", "quantity"),
    Column("Stukprijs excl. btw", "unitprice", "unit price excluding VAT, 4 decimals"),
    Column("Btw-tarief", "vatrate", "VAT rate in percent"),
    Column("Bedrag excl. btw", "", "line amount excluding VAT"),
    Column("Btw-bedrag", "vatamount", "VAT of the line"),
    Column("Bedrag incl. btw", "", "line amount including VAT"),
    Column(
        "Factuurtotaal incl. btw", "", "the whole invoice including VAT (same on every line of the invoice)"
    ),
)

RELATIONS_FILE = "AcumulusKlanten.csv"

_FORMULA_START = frozenset("=+-@\t\r")
_PLAIN_NUMBER_OR_PHONE = re.compile(r"[+-]?[\d\s().,/-]*\d[\d\s().,/-]*")
_NEEDS_QUOTES = re.compile(r'[;"\r\n]')
_NEEDS_WORK_FIRST = frozenset("=+-@\t\r\n ")  # formula start or whitespace to trim
_SPACE = frozenset(" \t\r\n")


def neutralise(text: str) -> str:
    """Make a text cell safe for spreadsheets: prefix ``'`` to a would-be formula.

    >>> neutralise("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> neutralise("+31 20 123 4567"), neutralise("-5"), neutralise("Jansen")
    ('+31 20 123 4567', '-5', 'Jansen')
    """
    if text and text[0] in _FORMULA_START and not _PLAIN_NUMBER_OR_PHONE.fullmatch(text):
        return "'" + text
    return text


def text_cell(value: str | None) -> str:
    """A text value as it goes into the file: trimmed, neutralised, quoted where needed."""
    if not value:
        return ""
    text = neutralise(value.strip())
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def join_row(values: list[str]) -> str:
    """``";".join(map(text_cell, values))``, fast when no value needs trimming, quoting or neutralising."""
    row = DELIMITER.join(values)
    if row.count(DELIMITER) != len(values) - 1 or '"' in row or "\n" in row or "\r" in row:
        return DELIMITER.join(map(text_cell, values))
    for value in values:
        if value and (value[0] in _NEEDS_WORK_FIRST or value[-1] in _SPACE):
            return DELIMITER.join(map(text_cell, values))
    return row


def invoice_file_name(method: str) -> str:
    """``"PayPal"`` -> ``AcumulusPayPalFacturen.csv`` (method already canonical, letters/digits)."""
    safe = re.sub(r"[^0-9A-Za-z]", "", method) or "Onbekend"
    return f"Acumulus{safe}Facturen.csv"


def header_line(columns: tuple[Column, ...]) -> str:
    return DELIMITER.join(text_cell(c.header) for c in columns) + NEWLINE


class _CsvFile:
    def __init__(self, path: Path, columns: tuple[Column, ...]) -> None:
        self.path = Path(path)
        self._fh = open(self.path, "w", encoding="utf-8", newline="", buffering=1 << 20)
        self._fh.write(header_line(columns))
        self.rows = 0

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def discard(self) -> None:
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class RelationsWriter(_CsvFile):
    """Writes ``AcumulusKlanten.csv``; one ``write`` per relation, values in RELATION_COLUMNS order."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, RELATION_COLUMNS)

    def write(self, values: list[str]) -> None:
        if len(values) != len(RELATION_COLUMNS):
            raise ValueError(f"expected {len(RELATION_COLUMNS)} values, got {len(values)}")
        self._fh.write(DELIMITER.join(map(text_cell, values)) + NEWLINE)
        self.rows += 1


def line_body(
    sku: str, product: str, kind: str, qty: str, unit: str, rate: str, ex: str, vat: str, inc: str
) -> str:
    """The line part of an invoice row (``Artikelnummer`` .. ``Bedrag incl. btw``), text made safe."""
    return DELIMITER.join((text_cell(sku), text_cell(product), kind, qty, unit, rate, ex, vat, inc))


class InvoiceWriter(_CsvFile):
    """Writes one ``Acumulus<Method>Facturen.csv``: one row per invoice line, an invoice's lines together.

    ``write_invoice(head, bodies, total_ex, total_vat, total_inc)``: ``head`` holds the 18 invoice
    columns (text: trimmed, neutralised and quoted here); ``bodies`` one ``line_body(...)`` string
    per line. The writer adds ``Regel`` (1, 2, ...) before and ``Factuurtotaal incl. btw`` after
    each body, and adds up the totals per file for the summary.
    """

    HEAD = 18

    def __init__(self, path: Path, method: str) -> None:
        super().__init__(path, INVOICE_COLUMNS)
        self.method = method
        self.invoices = 0
        self.total_ex = Decimal("0.00")
        self.total_vat = Decimal("0.00")
        self.total_inc = Decimal("0.00")

    def write_invoice(
        self, head: list[str], bodies: list[str], total_ex: Decimal, total_vat: Decimal, total_inc: Decimal
    ) -> None:
        if len(head) != self.HEAD:
            raise ValueError(f"expected {self.HEAD} invoice values, got {len(head)}")
        if bodies:
            # prefix + "1;" + body + tail, prefix + "2;" + body + tail, ... as one string
            prefix = join_row(head) + DELIMITER
            tail = DELIMITER + str(total_inc) + NEWLINE
            self._fh.write(prefix + (tail + prefix).join(map(_concat, _NUMBERED, bodies)) + tail)
        self.rows += len(bodies)
        self.invoices += 1
        self.total_ex += total_ex
        self.total_vat += total_vat
        self.total_inc += total_inc


_NUMBERED = tuple(f"{n}{DELIMITER}" for n in range(1, 100_001))  # "1;", "2;", ...: the Regel column
_concat = str.__add__


#: the ``Soort`` column per core line kind
KIND_TEXT = {
    "product": "Product",
    "shipping": "Verzendkosten",
    "payment_fee": "Betaalkosten",
    "discount": "Korting",
    "gift_card": "Cadeaubon",
    "other": "Correctie",
}


def _amount(value: Decimal) -> str:
    return str(value or Decimal("0.00"))


def invoice_bodies(invoice: Invoice) -> list[str]:
    """The ``line_body`` of each invoice line, as Acumulus computes it (``client._fit_line``: a unit
    price whose ``round(quantity × unit)`` is the line amount, else quantity 1 at the amount)."""
    bodies = _BODIES
    found = bodies.get
    return [found(line.exact_key()) or bodies.keep(line.exact_key(), _body(line)) for line in invoice.lines]


#: line bodies by the line's exact key (``core.records.ExactRecord``: equal Decimals may print
#: differently, and the body prints them): a shop's lines repeat order after order
_BODIES: Remembered[str, str] = Remembered(2048)


def _body(line: InvoiceLine) -> str:
    """One line's body (remembered per exact value by ``invoice_bodies``)."""
    quantity, unit, product = _fit_line(line)
    return line_body(
        line.sku,
        product,
        KIND_TEXT[line.kind.value],
        str(quantity),
        str(unit.quantize(Decimal("0.0001"))),
        str(line.vat_rate),
        _amount(line.total_ex),
        _amount(line.vat_amount),
        _amount(line.total_inc),
    )


class InvoiceFileTarget:
    """The Acumulus import files as a batch target: one ``InvoiceWriter`` per payment-method file.

    ``write(invoice, head)`` books one core ``Invoice`` (made exact for ``TOTALS_METHOD``, the
    computation Acumulus applies to imported lines as to the API's) into its file; the 18 ``head``
    values are the invoice columns (``INVOICE_COLUMNS[:18]``).
    """

    TOTALS_METHOD = TotalsMethod.PER_LINE_FROM_EX

    @staticmethod
    def vat_type(invoice: Invoice) -> str:
        return str(VAT_TYPE[invoice.regime])

    @staticmethod
    def write(writer: InvoiceWriter, invoice: Invoice, head: list[str]) -> None:
        writer.write_invoice(
            head, invoice_bodies(invoice), invoice.total_ex, invoice.total_vat, invoice.total_inc
        )
