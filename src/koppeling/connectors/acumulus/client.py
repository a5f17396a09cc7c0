"""The Acumulus web API as a koppeling target: invoices and credit notes.

The wire protocol (messages, answers, error taxonomy) is ``api.py``; this module is the connector:
what an invoice looks like to Acumulus, and how a booking is found again.

Idempotency: Acumulus numbers invoices itself and offers **no** call to find an entry by our
order number or description (see ``docs/connectors/acumulus.md``), so ``findable`` is
``BY_STORED_IDS``: the runtime stores ``entryid`` and ``token`` from ``PushResult`` in the same
local transaction that ends the push; ``find_invoice`` then finds the booking by those ids. An
``invoice_add`` whose answer we never read cannot be looked up: that record needs review.

Totals: Acumulus computes each line's amount as ``round(quantity × unitprice)`` and VAT per line
from it (``acumulus_totals``), so ``totals_method`` is ``PER_LINE_FROM_EX``. Core fits the lines to
that computation when the runtime passes it (``InvoiceSettings.totals_method``), so what Acumulus
books is exactly what the customer paid — a correction line where no set of line amounts can do
it (see ``docs/connectors/acumulus.md``). An invoice that was not fitted is sent as it is and a
``acumulus_totals_differ`` warning says what Acumulus books instead.

>>> from koppeling.connectors.base import ConnectionConfig
>>> cfg = ConnectionConfig("acumulus", "https://api.sielsystems.nl/acumulus",
...                        {"contractcode": "123456", "username": "api", "password": "s3cret"})
>>> AcumulusTarget(cfg).url("invoices/invoice_add")
'https://api.sielsystems.nl/acumulus/stable/invoices/invoice_add.php'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from koppeling import __version__
from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, InvoiceLine, LineKind, PaymentStatus, VatRegime
from koppeling.core.money import ZERO, quantize, round_cents, to_decimal
from koppeling.core.totals import TotalsMethod
from koppeling.mapping.tables import lookup as table_lookup

from ..base import (
    BookedDocument,
    ConnectionConfig,
    Connector,
    Findability,
    PushResult,
    WritesCreditNotes,
    WritesInvoices,
)
from ..errors import ConnectorCode, ConnectorError, DataError, NotFound, ResponseError
from ..http import make_client
from ..registry import register
from .api import (
    SYSTEM,
    AcumulusCode,
    api_messages,
    as_list,
    build_message,
    outcome_unknown,
    transport_error,
    validate_response,
)

__all__ = ["VAT_TYPE", "AcumulusSettings", "AcumulusTarget", "acumulus_totals", "validate_response"]

#: core VAT regime -> Acumulus ``vattype`` (libAcumulus Api.php VatType_*)
VAT_TYPE: Mapping[VatRegime, int] = {
    VatRegime.DOMESTIC: 1,  # national
    VatRegime.REVERSE_CHARGE: 2,  # national, reverse charge
    VatRegime.EU_B2B: 3,  # EU, reverse charge (ICP)
    VatRegime.EXPORT: 4,  # outside the EU
    VatRegime.EU_B2C_OSS: 6,  # EU VAT (OSS)
    VatRegime.MARGIN: 5,  # margin scheme (costprice per line)
}
VAT_FREE = Decimal(-1)  # Api::VatFree

#: lines whose nature is a service for Acumulus; products are "Product"; others send none
_SERVICE_KINDS = frozenset({LineKind.SHIPPING, LineKind.PAYMENT_FEE, LineKind.OTHER})


class AcumulusSettings(BaseModel):
    """What a flow into Acumulus chooses per invoice (the Configuratie of the target side)."""

    model_config = ConfigDict(extra="forbid")

    #: payment method -> Acumulus account id (``accountnumber`` of picklist_accounts); "*" = default
    accounts: dict[str, str] = Field(default_factory=dict)
    #: shop -> Acumulus cost center id (picklist_costcenters); "*" = default
    cost_centers: dict[str, str] = Field(default_factory=dict)
    #: book as concept (a person finalises it in Acumulus)
    concept: bool = False


def _dec(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _fit_line(line: InvoiceLine) -> tuple[Decimal, Decimal, str]:
    """``(quantity, unitprice, product)`` whose ``round(quantity * unitprice)`` is the line total.

    Acumulus takes the unit price excluding VAT (4 decimals here) and computes the line amount
    itself. When no 4-decimal unit price gives the exact line total (large or fractional
    quantities), the line is sent as quantity 1 at the line total, with the quantity in the text.
    """
    quantity = line.quantity
    if quantity:
        for candidate in (line.unit_price_ex, line.total_ex / quantity):
            unit = quantize(candidate, 4)
            if round_cents(unit * quantity) == line.total_ex:
                return quantity, unit, line.description
    product = f"{_dec(quantity)} x {line.description}" if quantity != 1 else line.description
    return Decimal(1), line.total_ex, product


def acumulus_totals(lines: list[tuple[Decimal, Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """``(total excl. VAT, total incl. VAT)`` as Acumulus books ``(quantity, unitprice, vatrate)``.

    Inferred rule (no public source states it): amount per line = round(quantity * unitprice) to
    cents; VAT per line = round(amount * rate / 100); VAT-free (-1) and 0% lines carry no VAT.
    The simulator books by this same rule.

    >>> acumulus_totals([(Decimal(2), Decimal("8.2645"), Decimal(21))])
    (Decimal('16.53'), Decimal('20.00'))
    """
    total_ex = ZERO
    total_vat = ZERO
    for quantity, unit, rate in lines:
        amount = round_cents(quantity * unit)
        total_ex += amount
        if rate > 0:
            total_vat += round_cents(amount * rate / 100)
    return total_ex, total_ex + total_vat


# --------------------------------------------------------------------------------------------
# The connector
# --------------------------------------------------------------------------------------------


@register
class AcumulusTarget(Connector, WritesInvoices, WritesCreditNotes):
    """Books invoices and credit notes in Acumulus.

    Options (``ConnectionConfig.options``, account-level): ``testmode`` (bool: Acumulus checks,
    stores nothing), ``lang`` ("nl" | "en"), ``api_version`` ("stable" | "dev"),
    ``overwrite_contact`` (bool, default True), ``disable_duplicates`` (bool, default True),
    ``email_on_warning``, ``rate_limits`` (an account's own limits, see ``RateLimit``).
    Per-flow choices (accounts, cost centers, concept) are ``AcumulusSettings``.
    """

    system: ClassVar[str] = "acumulus"
    label: ClassVar[str] = "Acumulus"
    credential_fields: ClassVar[tuple[str, ...]] = ("contractcode", "username", "password")
    optional_credential_fields: ClassVar[tuple[str, ...]] = ("emailonerror",)
    default_base_url: ClassVar[str] = "https://api.sielsystems.nl/acumulus"
    #: Acumulus publishes no rate limit (none found in its docs or libAcumulus); we stay polite.
    max_in_flight: ClassVar[int] = 4
    #: no API call finds an entry by description/order number: lookups go by entryid/token only.
    findable: ClassVar[Findability] = Findability.BY_STORED_IDS
    totals_method: ClassVar[TotalsMethod] = TotalsMethod.PER_LINE_FROM_EX
    settings_model: ClassVar[type[BaseModel]] = AcumulusSettings

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        base = (config.base_url or self.default_base_url).rstrip("/")
        super().__init__(config, http or make_client(base), **kwargs)
        options = config.options
        self._base = base
        self._version = str(options.get("api_version", "stable"))
        self._testmode = bool(options.get("testmode", False))
        self._lang = str(options.get("lang", "nl"))
        self._contract = self._build_contract(config.credentials, options)
        self._connector = {
            "application": f"koppeling {__version__}",
            "webkoppel": f"koppeling-acumulus {__version__}",
            "development": "koppeling",
        }

    @staticmethod
    def _build_contract(credentials: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, str]:
        contract = {key: str(credentials.get(key, "")) for key in ("contractcode", "username", "password")}
        if credentials.get("emailonerror"):
            contract["emailonerror"] = str(credentials["emailonerror"])
        if options.get("email_on_warning"):
            contract["emailonwarning"] = str(options["email_on_warning"])
        return contract

    # -- transport -----------------------------------------------------------------------

    def url(self, api_function: str) -> str:
        return f"{self._base}/{self._version}/{api_function}.php"

    def call(
        self,
        api_function: str,
        payload: Mapping[str, Any] | None = None,
        *,
        mutating: bool = False,
        contract: bool = True,
    ) -> dict[str, Any]:
        """One API call: returns the normalised body (basic response included) or raises."""
        submit: dict[str, Any] = {}
        if contract:
            submit["contract"] = self._contract
        submit["format"] = "json"
        submit["testmode"] = "1" if self._testmode else "0"
        submit["lang"] = self._lang
        submit["connector"] = self._connector
        if payload:
            submit.update(payload)
        message = build_message(submit)
        try:
            response = self.http.post(self.url(api_function), files={"xmlstring": (None, message)})
        except httpx.TransportError as exc:
            raise transport_error(exc, mutating=mutating) from exc
        return validate_response(response, mutating=mutating)

    # -- Connector API -------------------------------------------------------------------

    def check(self) -> None:
        """Authenticated ``general/general_about``; raises ``AuthError`` on refused credentials."""
        body = self.call("general/general_about")
        if not isinstance(body.get("general"), dict):
            raise ResponseError(AcumulusCode.BAD_RESPONSE, {"system": SYSTEM, "status": 200})

    def about(self) -> dict[str, Any]:
        """``general/general_about``: ``about``, ``tree``, ``role``, ``roleid``."""
        general = self.call("general/general_about").get("general")
        return general if isinstance(general, dict) else {}

    def entries_left(self) -> int | None:
        """Entries the contract may still book (``general/my_acumulus``); None when unlimited."""
        mydata = self.call("general/my_acumulus").get("mydata")
        if not isinstance(mydata, dict):
            return None
        if str(mydata.get("mymaxentries", "-1")) in ("-1", ""):
            return None
        try:
            return int(mydata.get("myentriesleft") or 0)
        except ValueError:
            return None

    def accounts(self) -> list[dict[str, str]]:
        """``picklist_accounts``: dicts with ``accountid``, ``accountnumber``, ``accountdescription``."""
        return self._picklist("accounts", "account")

    def cost_centers(self) -> list[dict[str, str]]:
        """``picklist_costcenters``: dicts with ``costcenterid``, ``costcentername``."""
        return self._picklist("costcenters", "costcenter")

    def _picklist(self, plural: str, singular: str) -> list[dict[str, str]]:
        block = self.call(f"picklists/picklist_{plural}").get(plural)
        items = as_list(block.get(singular)) if isinstance(block, dict) else []
        return [item for item in items if isinstance(item, dict)]

    def vat_info(self, country: str, date: dt.date) -> list[tuple[str, Decimal]]:
        """``lookups/lookup_vatinfo``: ``(vattype, vatrate)`` pairs for a country on a date."""
        body = self.call(
            "lookups/lookup_vatinfo", {"vatcountry": country.lower(), "vatdate": date.isoformat()}
        )
        block = body.get("vatinfo")
        items = as_list(block.get("vat")) if isinstance(block, dict) else []
        return [
            (str(item.get("vattype", "")), to_decimal(item.get("vatrate", "0"), field="vatrate"))
            for item in items
            if isinstance(item, dict)
        ]

    # -- push ----------------------------------------------------------------------------

    def invoice_payload(
        self, invoice: Invoice, settings: AcumulusSettings | None = None, *, credit_of: str = ""
    ) -> tuple[dict[str, Any], list[Outcome]]:
        """The ``<customer>`` message for ``invoice_add`` and warnings about it."""
        settings = settings or AcumulusSettings()
        options = self.config.options
        params = {"system": SYSTEM, "reference": invoice.reference}
        if invoice.currency.upper() != "EUR":
            raise DataError(AcumulusCode.CURRENCY, {**params, "currency": invoice.currency})
        if not invoice.lines:
            raise DataError(AcumulusCode.NO_LINES, params)
        vattype = VAT_TYPE[invoice.regime]
        party = invoice.customer
        if vattype == 3 and not party.vat_number:
            raise DataError(AcumulusCode.ICP_VAT_NUMBER_MISSING, params)
        lines, fitted = _lines(invoice, vattype)
        warnings: list[Outcome] = []
        booked_ex, booked_inc = acumulus_totals(fitted)
        if booked_ex != invoice.total_ex or booked_inc != invoice.total_inc:
            warnings.append(
                Outcome(
                    AcumulusCode.TOTALS_DIFFER,
                    {
                        "booked_ex": booked_ex,
                        "booked_inc": booked_inc,
                        "total_ex": invoice.total_ex,
                        "total_inc": invoice.total_inc,
                    },
                )
            )
        paid = invoice.payment_status is PaymentStatus.PAID
        description = invoice.description or invoice.reference
        if invoice.reference and invoice.reference not in description:
            description = f"{invoice.reference} {description}"
        text = [f"Order {invoice.reference}"]
        credit_of = credit_of or invoice.credits
        if credit_of:
            dated = f" van {invoice.credited_date.isoformat()}" if invoice.credited_date else ""
            text.append(f"Creditnota voor factuur {credit_of}{dated}")
        rate = invoice.exchange_rate
        if rate is not None and invoice.source_currency:
            text.append(
                f"Omgerekend uit {invoice.source_currency} tegen {format(rate.rate, 'f')} per EUR "
                f"({rate.source}, {rate.date.isoformat()})"
            )
        check = invoice.vat_number_check
        if check is not None and vattype == 3:
            text.append(
                f"Btw-nummer {check.vat_number} geldig volgens VIES op {check.checked_at:%Y-%m-%d %H:%M}"
                + (f", consultatienummer {check.consultation_number}" if check.consultation_number else "")
            )
        if invoice.payment_method:
            text.append(f"Betaalwijze: {invoice.payment_method}")
        customer: dict[str, Any] = {
            "type": "1",
            "vattypeid": "2" if party.is_business else "1",
            "contactyourid": party.customer_id,
            "companyname1": party.company,
            "fullname": party.name,
            "address1": party.street,
            "address2": party.street2,
            "postalcode": party.postal_code,
            "city": party.city,
            "countrycode": (party.country_code or "NL").upper(),
            "vatnumber": party.vat_number,
            "telephone": party.phone,
            "email": party.email,
            "overwriteifexists": "1" if options.get("overwrite_contact", True) else "0",
            "disableduplicates": "1" if options.get("disable_duplicates", True) else "0",
            "invoice": {
                "concept": "1" if settings.concept else "0",
                "vattype": str(vattype),
                "issuedate": invoice.issue_date.isoformat(),
                "costcenter": table_lookup(settings.cost_centers, invoice.shop),
                "accountnumber": table_lookup(settings.accounts, invoice.payment_method),
                "paymentstatus": "2" if paid else "1",
                "paymentdate": (invoice.payment_date or invoice.issue_date).isoformat() if paid else "",
                "description": description,
                "descriptiontext": "\n".join(text),
                "line": lines,
            },
        }
        return {"customer": customer}, warnings

    def push_invoice(self, invoice: Invoice, settings: Any = None) -> PushResult:
        """``invoices/invoice_add``. Store the returned entryid/token at once (see module doc)."""
        return self._invoice_add(invoice, settings)

    def push_credit_note(self, note: Invoice, settings: Any = None) -> PushResult:
        """A credit note is an Acumulus invoice with negative amounts that names what it credits."""
        return self._invoice_add(note, settings, credit_of=getattr(note, "credits", "") or "")

    def _invoice_add(self, invoice: Invoice, settings: Any, *, credit_of: str = "") -> PushResult:
        payload, warnings = self.invoice_payload(invoice, settings, credit_of=credit_of)
        body = self.call("invoices/invoice_add", payload, mutating=True)
        result = body.get("invoice")
        if not isinstance(result, dict):
            if self._testmode:
                result = {}
            else:
                raise outcome_unknown("Acumulus answered invoice_add without an invoice block.")
        warnings.extend(
            Outcome(AcumulusCode.WARNING, {"remote": f"[{code} / {tag}] {text}"})
            for code, tag, text in api_messages(body, "warning")
        )
        entryid = str(result.get("entryid", ""))
        conceptid = str(result.get("conceptid", ""))
        if self._testmode:
            warnings.append(Outcome(AcumulusCode.TESTMODE))
        elif not entryid and not conceptid:
            raise outcome_unknown("Acumulus answered invoice_add without entryid or conceptid.")
        return PushResult(
            target_id=entryid or (f"concept:{conceptid}" if conceptid else ""),
            number=str(result.get("invoicenumber", "")),
            token=str(result.get("token", "")),
            concept=not entryid and bool(conceptid),
            warnings=tuple(warnings),
        )

    # -- find again ----------------------------------------------------------------------

    def entry_info(self, entryid: str) -> dict[str, Any]:
        """``entry/entry_info``: the normalised ``entry`` block; ``NotFound`` if unknown."""
        entry = self.call("entry/entry_info", {"entryid": entryid}).get("entry")
        if not isinstance(entry, dict):
            raise NotFound(params={"system": SYSTEM, "what": f"entry {entryid}"})
        return entry

    def payment_status(self, token: str) -> dict[str, Any]:
        """``invoices/invoice_paymentstatus_get``: entryid, token, paymentstatus, paymentdate."""
        invoice = self.call("invoices/invoice_paymentstatus_get", {"token": token}).get("invoice")
        if not isinstance(invoice, dict):
            raise NotFound(params={"system": SYSTEM, "what": "the invoice of this token"})
        return invoice

    def set_payment_status(self, token: str, paid: bool, date: dt.date | None = None) -> dict[str, Any]:
        """``invoices/invoice_paymentstatus_set`` (paymentdate defaults to today, as libAcumulus)."""
        payload = {
            "token": token,
            "paymentstatus": "2" if paid else "1",
            "paymentdate": (date or dt.date.today()).isoformat(),
        }
        invoice = self.call("invoices/invoice_paymentstatus_set", payload, mutating=True).get("invoice")
        return invoice if isinstance(invoice, dict) else {}

    def delete_entry(self, entryid: str, *, undelete: bool = False) -> str:
        """``entry/entry_deletestatus_set``; returns ``entryproc`` ('removed', 'recovered', …)."""
        body = self.call(
            "entry/entry_deletestatus_set",
            {"entryid": entryid, "entrydeletestatus": "0" if undelete else "1"},
            mutating=True,
        )
        entry = body.get("entry")
        return str(entry.get("entryproc", "")) if isinstance(entry, dict) else ""

    def concept_info(self, conceptid: str) -> list[str]:
        """``invoices/invoice_concept_info``: the entry ids made from a concept (none yet: [])."""
        try:
            concept = self.call("invoices/invoice_concept_info", {"conceptid": conceptid}).get("concept")
        except (NotFound, DataError) as exc:
            if isinstance(exc, NotFound) or exc.params.get("codetag") in ("FGYBSN040", "FGY040XX"):
                return []
            raise
        if not isinstance(concept, dict):
            return []
        return [str(item) for item in as_list(concept.get("entryid")) if item]

    def find_invoice(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """An earlier booking by the ids the runtime stored; Acumulus cannot search ``reference``.

        Returns None when the stored entry does not exist or sits in the recycle bin. Without any
        stored id this raises ``ConnectorError(code="not_searchable")``: the runtime must then mark
        the record for review rather than risk a duplicate.
        """
        entryid = known.target_id if known else ""
        token = known.token if known else ""
        if entryid.startswith("concept:"):
            entries = self.concept_info(entryid.removeprefix("concept:"))
            if not entries:
                return known  # still a concept: booked, not yet definitive
            entryid = entries[0]
        if not entryid and token:
            try:
                entryid = str(self.payment_status(token).get("entryid", ""))
            except NotFound:
                return None
        if not entryid:
            raise ConnectorError(ConnectorCode.NOT_SEARCHABLE, {"system": SYSTEM, "reference": reference})
        try:
            entry = self.entry_info(entryid)
        except NotFound:
            return None
        if _is_deleted(entry.get("deleted")):
            return None
        return PushResult(
            target_id=str(entry.get("entryid") or entryid),
            number=str(entry.get("invoicenumber", "")),
            token=str(entry.get("token", "")) or token,
            concept=False,
        )

    def read_back_invoice(self, target_id: str) -> BookedDocument:
        """``entry/entry_info`` -> totals for reconciliation (``totalvalueexclvat``, ``totalvalue``).

        Acumulus's entry holds a contact id, not the customer's name or e-mail, so reconciliation
        compares totals and the description (the reference) only.
        """
        if target_id.startswith("concept:"):
            raise NotFound(
                AcumulusCode.CONCEPT_NOT_BOOKED,
                {"system": SYSTEM, "concept": target_id.removeprefix("concept:")},
            )
        entry = self.entry_info(target_id)
        if _is_deleted(entry.get("deleted")):  # in the recycle bin: as good as gone for the books
            raise NotFound(params={"system": SYSTEM, "what": f"entry {target_id} (deleted)"})
        return BookedDocument(
            target_id=str(entry.get("entryid") or target_id),
            total_ex=to_decimal(entry.get("totalvalueexclvat") or "0", field="totalvalueexclvat"),
            total_inc=to_decimal(entry.get("totalvalue") or "0", field="totalvalue"),
            reference_text=str(entry.get("entrydescription", "")),
        )


def _lines(
    invoice: Invoice, vattype: int
) -> tuple[list[dict[str, str]], list[tuple[Decimal, Decimal, Decimal]]]:
    """The ``<line>`` entries and, per line, what Acumulus computes with (quantity, unit, rate)."""
    lines: list[dict[str, str]] = []
    fitted: list[tuple[Decimal, Decimal, Decimal]] = []
    for line in invoice.lines:
        quantity, unit, product = _fit_line(line)
        rate = line.vat_rate
        if rate == 0 and line.kind is LineKind.GIFT_CARD and vattype == 1:
            rate = VAT_FREE
        entry = {"itemnumber": line.sku, "product": product}
        if line.kind is LineKind.PRODUCT:
            entry["nature"] = "Product"
        elif line.kind in _SERVICE_KINDS:
            entry["nature"] = "Service"
        entry["unitprice"] = format(unit, "f")
        entry["vatrate"] = _dec(rate)
        entry["quantity"] = _dec(quantity)
        if line.cost_price is not None:  # margin scheme: Acumulus computes VAT on the margin
            entry["costprice"] = format(line.cost_price, "f")
        lines.append(entry)
        fitted.append((quantity, unit, rate))
    return lines, fitted


def _is_deleted(value: Any) -> bool:
    return str(value or "").strip() not in ("", "0")
