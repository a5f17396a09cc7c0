"""What the Asperion simulator does when the merchant presses "Synchroniseren": the import.

Import orders (xml) -> webwinkelfacturen: every order of a received file becomes a **Concept**
invoice in Facturatie (no invoice number until the merchant makes it final [V: webwinkelfacturen
FAQ "waarom zie ik geen Asperion factuurnummer"]); the debtor is found by **e-mail**, or created
when unknown [V seed, webwinkelfacturen manuals]; each line is booked on the sales type of its VAT
class (hoog / laag / 0%) [V: help.asperion.nl webshops.aspx "Verkopen BTW Hoog/Laag/0%"]. Invented
for the simulator [S]: an order number already imported into the administration is skipped (the
Mijnwebwinkel import guards the same way with its "Importeren Ordernummer" [V], whether the aXML
import does is unknown [I]); an existing debtor is never changed [I]; an unknown payment code
fails that order only [S]; the status codes in ``ConceptInvoice.status`` are [S].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .batch_format import AxmlBatch, AxmlDebtor, AxmlOrder, BatchFormatError, read_orders_xml

__all__ = [
    "CONCEPT",
    "FINAL",
    "Administration",
    "ConceptInvoice",
    "Debtor",
    "IdSequence",
    "ImportReport",
    "ImportSettings",
    "ReceivedFile",
    "import_file",
]

CONCEPT, FINAL = 0, 1  # [S] integer values of SalesInvoice.status (the real ones are unknown)


@dataclass
class ImportSettings:
    """The "Instellingen" of the webwinkelfacturen import row [V names; values S]."""

    debtor_kind_id: str = "1"  # Debiteursoort for new debtors
    journal_id: str = "VK"  # Dagboek
    sales_types: dict[str, int] = field(default_factory=lambda: {"hoog": 8000, "laag": 8010, "nul": 8020})
    vat_codes: dict[str, str] = field(default_factory=lambda: {"hoog": "VH", "laag": "VL", "nul": "V0"})
    payment_codes: frozenset[str] = frozenset()


@dataclass
class Debtor:
    id: int
    customer_number: str
    name: str
    email_address: str
    address: str
    post_code: str
    city: str
    country_code: str
    vat_number: str
    coc_number: str
    phone_number: str
    debtor_kind_id: str
    date_added: str

    def as_api(self) -> dict[str, Any]:
        """The REST shape (``GET /v1/debtors``) [V field names: omniboost/go-asperion types.go]."""
        return {
            "id": self.id,
            "customerNumber": self.customer_number,
            "name": self.name,
            "address": self.address,
            "addressLine2": None,
            "addressLine3": None,
            "postCode": self.post_code,
            "city": self.city,
            "countryCode": self.country_code,
            "attentionTo": "",
            "emailAddress": self.email_address,
            "phoneNumber": self.phone_number,
            "mobileNumber": "",
            "faxNumber": "",
            "vatNumber": self.vat_number,
            "cocNumber": self.coc_number,
            "iban": "",
            "bic": "",
            "bban": "",
            "directDebit": False,
            "debtorKindId": self.debtor_kind_id,
            "paymentConditionId": 1,
            "paymentMethodId": "",
            "dateAdded": self.date_added,
            "dateLastChange": None,
            "blocked": False,
            "noReminder": False,
            "comments": None,
        }


@dataclass
class ConceptInvoice:
    id: int
    debtor: Debtor
    date: dt.date
    description: str
    order_number: str
    payment_code: str
    journal_id: str
    lines: list[dict[str, Any]]
    source_file: str
    status: int = CONCEPT
    invoice_number: str | None = None  # a concept has none yet [V]

    @property
    def amount_excl(self) -> Decimal:
        return sum((Decimal(line["amount"]) for line in self.lines), Decimal(0))

    @property
    def vat_amount(self) -> Decimal:
        return sum((Decimal(line["vatAmount"]) for line in self.lines), Decimal(0))

    @property
    def amount_incl(self) -> Decimal:
        return self.amount_excl + self.vat_amount

    def as_api(self) -> dict[str, Any]:
        """``GET /v1/salesinvoiceswithlines`` shape [V field names; go-asperion types.go]."""
        return {
            "id": self.id,
            "amountExclVat": self.amount_excl,
            "amountInclVat": self.amount_incl,
            "vatAmount": self.vat_amount,
            "bookyear": self.date.year,
            "bookperiod": self.date.month,
            "debtorCustomerNumber": self.debtor.customer_number,
            "date": self.date.isoformat(),
            "description": self.description,
            "invoiceNumber": self.invoice_number,
            "journalId": self.journal_id,
            "status": self.status,
            "paymentConditionId": 1,
            "paymentDueDate": (self.date + dt.timedelta(days=14)).isoformat(),
            "lines": {"_data": self.lines, "_meta": {"totalCount": len(self.lines)}},
        }


@dataclass
class ImportReport:
    file: str
    imported: list[str] = field(default_factory=list)  # order numbers
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (order number, reason)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (order number or "", message)

    def as_api(self) -> dict[str, Any]:
        return {
            "imported": list(self.imported),
            "skipped": [{"order": o, "reason": r} for o, r in self.skipped],
            "errors": [{"order": o, "message": m} for o, m in self.errors],
        }


@dataclass
class ReceivedFile:
    licence_code: str
    name: str
    body: bytes
    sha256: str
    received_at: str
    orders: int
    status: str = "received"  # received | imported | failed
    imported_at: str | None = None
    uploads: int = 1
    report: ImportReport | None = None

    def as_api(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "status": self.status,
            "orders": self.orders,
            "sha256": self.sha256,
            "size": len(self.body),
            "receivedAt": self.received_at,
            "importedAt": self.imported_at,
            "uploads": self.uploads,
            "report": self.report.as_api() if self.report else None,
        }


@dataclass
class Administration:
    id: int
    name: str
    licence_code: str
    settings: ImportSettings
    debtors: dict[int, Debtor] = field(default_factory=dict)
    invoices: dict[int, ConceptInvoice] = field(default_factory=dict)
    imported_orders: dict[str, int] = field(default_factory=dict)  # order number -> invoice id

    def debtor_by_email(self, email: str) -> Debtor | None:
        wanted = email.strip().casefold()
        return next((d for d in self.debtors.values() if d.email_address.casefold() == wanted), None)


class IdSequence:
    """Ids and customer numbers shared by all administrations of one simulator."""

    def __init__(self) -> None:
        self.debtor = 5_100
        self.customer_number = 10_001
        self.invoice = 880_001

    def take(self, name: str) -> int:
        value = getattr(self, name)
        setattr(self, name, value + 1)
        return value


def _new_debtor(admin: Administration, source: AxmlDebtor, ids: IdSequence, today: str) -> Debtor:
    address = source.invoice_address
    street = " ".join(p for p in (address.street, address.house_number, address.house_number_addition) if p)
    debtor = Debtor(
        id=ids.take("debtor"),
        customer_number=str(ids.take("customer_number")),
        name=source.company_name or source.name,
        email_address=source.email.strip(),
        address=street,
        post_code=address.postal_code,
        city=address.city,
        country_code=address.country_code,
        vat_number=source.vat_number,
        coc_number=source.coc_number,
        phone_number=source.phone,
        debtor_kind_id=admin.settings.debtor_kind_id,
        date_added=today,
    )
    admin.debtors[debtor.id] = debtor
    return debtor


def _invoice(
    admin: Administration, order: AxmlOrder, debtor: Debtor, ids: IdSequence, file: str
) -> ConceptInvoice:
    settings = admin.settings
    lines = [
        {
            "id": j + 1,
            "amount": line.amount_excl,
            "vatAmount": line.vat_amount,
            "vatCode": settings.vat_codes[line.vat_category],
            "ledgerAccountId": settings.sales_types[line.vat_category],
            "description": (f"{line.quantity.normalize():f} x " if line.quantity != 1 else "")
            + line.description,
            "costCenterId": None,
            "costUnitId": None,
        }
        for j, line in enumerate(order.lines)
    ]
    return ConceptInvoice(
        id=ids.take("invoice"),
        debtor=debtor,
        date=order.order_date,
        description=order.description,
        order_number=order.order_number,
        payment_code=order.payment_code,
        journal_id=settings.journal_id,
        lines=lines,
        source_file=file,
        status=CONCEPT if order.invoice_status == "Concept" else FINAL,
    )


def import_file(admin: Administration, received: ReceivedFile, ids: IdSequence, now: str) -> ImportReport:
    """Import one received file into ``admin``; the file's status and report are updated."""
    report = ImportReport(received.name)
    received.report = report
    received.imported_at = now
    try:
        batch: AxmlBatch = read_orders_xml(received.body)
    except BatchFormatError as exc:
        received.status = "failed"
        report.errors.append(("", str(exc)))
        return report
    received.status = "imported"
    for order in batch.orders:
        if order.order_number in admin.imported_orders:
            report.skipped.append((order.order_number, "already imported"))
            continue
        if admin.settings.payment_codes and order.payment_code not in admin.settings.payment_codes:
            report.errors.append((order.order_number, f"unknown payment code {order.payment_code!r}"))
            continue
        debtor = admin.debtor_by_email(order.debtor.email) or _new_debtor(admin, order.debtor, ids, now[:10])
        invoice = _invoice(admin, order, debtor, ids, received.name)
        admin.invoices[invoice.id] = invoice
        admin.imported_orders[order.order_number] = invoice.id
        report.imported.append(order.order_number)
    return report
