"""Factuursturen.nl as a koppeling target: paid sales invoices (and credit invoices) per order.

The wire protocol is ``api.py``, what we send ``translate.py``, the flow's choices ``settings.py``.

- **Debtors** are matched on e-mail (``GET search/clients/email/…``, exact match kept client-side:
  the search matches loosely), created when unknown, and **never modified**: an existing debtor's
  data stays as it is, a difference with the order is a warning on the booking. Its settings that
  would change our invoice are neutralised per invoice: prices are sent in the debtor's own
  ``tax_type`` (incl./excl. VAT) and the discount is sent as an explicit 0 (its ``stddiscount``).
- **Invoices** are created definitive (``action=send``, ``sendmethod=mail``: booked, nobody mailed)
  and paid in the same request (``alreadypaid=full``): one call, one rate-limit slot, no
  half-done state. ``reference[line1]`` = ``Bestelling <reference>``.
- **Exactly once**: ``findable = BY_REFERENCE``. After a lost answer the runtime calls
  ``find_invoice``, which searches ``search/invoices/all/<reference>`` and keeps the one invoice
  whose ``reference.line1`` is exactly ours (several: a person reviews).
- **Totals**: VAT once per rate group, half-up (``TotalsMethod.PER_INVOICE``; inferred).
- **Limit**: 60 invoice creations an hour per account (seed 003); over it the API answers 403 with
  ``X-RateLimit-Remaining: 0``, which is ``RateLimited``, never an auth error.

>>> from koppeling.connectors.base import ConnectionConfig
>>> FactuursturenTarget(ConnectionConfig("factuursturen", "", {"username": "u", "api_key": "k"})).url("taxes")
'https://www.factuursturen.nl/api/v1/taxes'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from koppeling.core.messages import Outcome
from koppeling.core.models import Invoice, VatRegime
from koppeling.core.money import to_decimal
from koppeling.core.totals import TotalsMethod
from koppeling.mapping.tables import lookup

from ..base import (
    BookedDocument,
    ConnectionConfig,
    Connector,
    Findability,
    PushResult,
    RateLimit,
    WritesCreditNotes,
    WritesInvoices,
)
from ..errors import AuthError, ConnectorCode, ConnectorError, DataError, NotFound, ResponseError
from ..http import make_client
from ..registry import register
from .api import (
    SYSTEM,
    Call,
    FactuursturenCode,
    bad_response,
    parse_json,
    transport_error,
    validate_response,
)
from .settings import FactuursturenSettings
from .translate import choose_category, debtor_differences, debtor_fields, invoice_form, is_our_reference

__all__ = ["FactuursturenSettings", "FactuursturenTarget"]

_SHIFTED = frozenset({VatRegime.EU_B2B, VatRegime.REVERSE_CHARGE})


def _p(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


@register
class FactuursturenTarget(Connector, WritesInvoices, WritesCreditNotes):
    """Books paid invoices in one Factuursturen account (see the module docstring)."""

    system: ClassVar[str] = "factuursturen"
    label: ClassVar[str] = "Factuursturen"
    credential_fields: ClassVar[tuple[str, ...]] = ("username", "api_key")
    default_base_url: ClassVar[str] = "https://www.factuursturen.nl/api/v1"
    findable: ClassVar[Findability] = Findability.BY_REFERENCE
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (
        RateLimit("invoices", 60, 3600, frozenset({"writes_invoices", "writes_credit_notes"})),
    )
    totals_method: ClassVar[TotalsMethod] = TotalsMethod.PER_INVOICE
    settings_model: ClassVar[type[BaseModel]] = FactuursturenSettings
    #: one call at a time: two orders of one new customer must not both create its debtor, and
    #: 60 invoices an hour need no parallelism
    max_in_flight: ClassVar[int] = 1
    #: a debtor invoices in its own currency (docs/connectors/factuursturen.md, "Currency")
    booking_currencies: ClassVar[tuple[str, ...]] = ("*",)

    def __init__(
        self,
        config: ConnectionConfig,
        http: httpx.Client | None = None,
        *,
        clock: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> None:
        base = (config.base_url or self.default_base_url).rstrip("/")
        super().__init__(config, http or make_client(base), **kwargs)
        self._base = base
        if clock is not None:
            self.clock = clock
        self._lock = threading.Lock()
        #: debtors seen in this connector's life (one run): by e-mail (casefolded) and by number
        self._by_email: dict[str, dict[str, Any]] = {}
        self._by_number: dict[str, dict[str, Any]] = {}
        self._categories: set[str] | None = None

    # -- transport ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self._base}/{path}"

    def _auth(self) -> tuple[str, str]:
        creds = self.config.credentials
        missing = [name for name in self.credential_fields if not str(creds.get(name, "")).strip()]
        if missing:
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, _p(fields=", ".join(missing)))
        return str(creds["username"]), str(creds["api_key"])

    def request(
        self, method: str, path: str, *, data: Mapping[str, str] | None = None, call: Call = Call.READ
    ) -> httpx.Response:
        """One call, classified by ``validate_response``; returns the successful response."""
        try:
            response = self.http.request(
                method,
                self.url(path),
                data=dict(data) if data is not None else None,
                auth=self._auth(),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise transport_error(exc, call) from exc
        return validate_response(response, call, clock=self.clock)

    def get_json(self, path: str) -> Any:
        response = self.request("GET", path)
        try:
            return parse_json(response)
        except ValueError:
            raise bad_response(response, "not JSON") from None

    def get_object(self, path: str, key: str) -> dict[str, Any]:
        """A single object (``{"invoice": {…}}``); a list instead is "not found" (fs_api's quirk)."""
        body = self.get_json(path)
        if isinstance(body, list):
            raise NotFound(FactuursturenCode.NOT_FOUND, _p(what=path))
        item = body.get(key) if isinstance(body, dict) else None
        if not isinstance(item, dict):
            raise _unreadable(path)
        return item

    def search(self, area: str, field: str, value: str) -> list[dict[str, Any]]:
        """``search/{area}/{field}/{value}``; "nothing found" as ``[]`` or 404 alike [I]."""
        try:
            body = self.get_json(f"search/{area}/{field}/{quote(value, safe='')}")
        except NotFound:
            return []
        return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []

    def create(self, path: str, data: Mapping[str, str], call: Call) -> str:
        """``POST`` -> the new number (201, plain text)."""
        response = self.request("POST", path, data=data, call=call)
        number = response.text.strip()
        if not number.isdigit():
            raise bad_response(response, "no number in the answer", call)
        return number

    # -- Connector -----------------------------------------------------------------------------

    def check(self) -> None:
        """``GET taxes``: proves the user name and key (401 -> ``AuthError``)."""
        self.get_json("taxes")

    def taxes(self) -> list[dict[str, Any]]:
        """The account's VAT rates: ``percentage``, ``type`` (H/L/Z/N), ``default``, ``country``."""
        body = self.get_json("taxes")
        return [t for t in body if isinstance(t, dict)] if isinstance(body, list) else []

    def categories(self) -> list[dict[str, Any]]:
        """The account's categories: ``id``, ``name``, ``ledger`` (the ledger account)."""
        body = self.get_json("categories")
        return [c for c in body if isinstance(c, dict)] if isinstance(body, list) else []

    # -- push ----------------------------------------------------------------------------------

    def push_invoice(self, invoice: Invoice, settings: Any = None) -> PushResult:
        """Book ``invoice`` paid, on its debtor (found by e-mail, or new, or configured)."""
        return self._book(invoice, settings)

    def push_credit_note(self, note: Invoice, settings: Any = None) -> PushResult:
        """A credit invoice: the same invoice with negative lines, naming what it credits [I]."""
        return self._book(note, settings, credit_of=str(getattr(note, "credits", "") or ""))

    def _book(self, invoice: Invoice, settings: Any, *, credit_of: str = "") -> PushResult:
        settings = _settings(settings)
        params = _p(reference=invoice.reference)
        if not invoice.lines:
            raise DataError(FactuursturenCode.NO_LINES, params)
        if invoice.regime is VatRegime.EU_B2B and not invoice.customer.vat_number:
            raise DataError(FactuursturenCode.ICP_VAT_NUMBER_MISSING, params)
        category, warnings = choose_category(invoice, settings)
        self._check_category(invoice, settings, category)
        client, debtor_warnings = self.debtor_for(invoice, settings)
        warnings += debtor_warnings
        debtor_currency = str(client.get("currency") or "EUR").upper()
        if debtor_currency != invoice.currency.upper():
            raise DataError(
                FactuursturenCode.CURRENCY_DIFFERS,
                {
                    **params,
                    "currency": invoice.currency.upper(),
                    "debtor_currency": debtor_currency,
                    "clientnr": client.get("clientnr", ""),
                },
            )
        form, total_warnings = invoice_form(invoice, settings, client, category, credit_of=credit_of)
        warnings += total_warnings
        try:
            number = self.create("invoices", form, Call.BOOK)
        except DataError as exc:
            raise _refused(exc, FactuursturenCode.INVOICE_REFUSED, params) from None
        # a debtor chosen by the settings (per payment method, the default) is not the order's own
        shared = (
            str(client.get("email") or "").strip().casefold() != invoice.customer.email.strip().casefold()
        )
        return PushResult(target_id=number, number=number, warnings=tuple(warnings), shared_customer=shared)

    def _check_category(
        self, invoice: Invoice, settings: FactuursturenSettings, category: int | None
    ) -> None:
        """A mapped category must exist (the API may silently ignore an unknown one [I])."""
        if category is None:
            return
        if self._categories is None:
            try:
                self._categories = {str(c.get("id", "")) for c in self.categories()}
            except NotFound:  # no categories endpoint on this account: nothing to check against
                self._categories = set()
        if self._categories and str(category) not in self._categories:
            rate = next((k for k, m in settings.vat_rates.items() if m.category == category), str(category))
            raise DataError(FactuursturenCode.CATEGORY_UNKNOWN, _p(category=category, rate=rate))

    # -- debtors ---------------------------------------------------------------------------------

    def debtor_for(
        self, invoice: Invoice, settings: FactuursturenSettings
    ) -> tuple[dict[str, Any], list[Outcome]]:
        """The debtor to book on, and what to say about it. Never writes to an existing debtor."""
        method = invoice.payment_method or ""
        configured = lookup({k: str(v) for k, v in settings.payment_method_debtors.items()}, method)
        if configured:
            where = "payment_method_debtors." + (method if method in settings.payment_method_debtors else "*")
            return self.configured_debtor(configured, where), []
        email = invoice.customer.email.strip()
        if not email:
            if settings.missing_email == "default_debtor" and settings.default_debtor is not None:
                return self.configured_debtor(str(settings.default_debtor), "default_debtor"), []
            raise DataError(FactuursturenCode.EMAIL_MISSING, _p(reference=invoice.reference))
        existing = self.find_debtor(email)
        if existing is None:
            return self.create_debtor(invoice, email, settings)
        return existing, self._reuse_warnings(existing, invoice, email)

    def configured_debtor(self, clientnr: str, where: str) -> dict[str, Any]:
        """A debtor number from the settings (read once per run); ``DataError`` if it does not exist."""
        with self._lock:
            known = self._by_number.get(clientnr)
        if known is not None:
            return known
        try:
            client = self.get_object(f"clients/{quote(clientnr, safe='')}", "client")
        except NotFound:
            raise DataError(FactuursturenCode.DEBTOR_UNKNOWN, _p(clientnr=clientnr, setting=where)) from None
        client.setdefault("clientnr", clientnr)
        with self._lock:
            self._by_number[clientnr] = client
        return client

    def find_debtor(self, email: str) -> dict[str, Any] | None:
        """The debtor with exactly this e-mail address (case-insensitive; lowest number wins)."""
        key = email.casefold()
        with self._lock:
            if key in self._by_email:
                return self._by_email[key]
        matches = [
            client
            for client in self.search("clients", "email", email)
            if key in {part.strip().casefold() for part in str(client.get("email", "")).split(",")}
        ]
        if not matches:
            return None
        found = min(matches, key=lambda c: int(str(c.get("clientnr", "0")) or 0))
        with self._lock:
            self._by_email[key] = found
        return found

    def create_debtor(
        self, invoice: Invoice, email: str, settings: FactuursturenSettings
    ) -> tuple[dict[str, Any], list[Outcome]]:
        """``POST clients`` with the order's customer; the record as we sent it."""
        fields, warnings = debtor_fields(invoice, settings.new_debtor_tax_type, email=email)
        params = _p(reference=invoice.reference, email=email)
        try:
            number = self.create("clients", fields, Call.CREATE_DEBTOR)
        except DataError as exc:
            code = (
                FactuursturenCode.DEBTOR_EMAIL_INVALID
                if "mail" in str(exc.params.get("remote", "")).casefold()
                else FactuursturenCode.DEBTOR_REFUSED
            )
            raise _refused(exc, code, params) from None
        client = {**fields, "clientnr": number, "stddiscount": "0"}
        with self._lock:
            self._by_email[email.casefold()] = client
        return client, warnings

    def _reuse_warnings(self, client: Mapping[str, Any], invoice: Invoice, email: str) -> list[Outcome]:
        warnings = []
        clientnr = str(client.get("clientnr", ""))
        differing = debtor_differences(client, invoice.customer)
        if differing:
            warnings.append(
                Outcome(
                    FactuursturenCode.DEBTOR_REUSED,
                    {
                        "reference": invoice.reference,
                        "clientnr": clientnr,
                        "email": email,
                        "fields": ", ".join(differing),
                    },
                )
            )
        shifted = str(client.get("tax_shifted", "")).strip().lower() in ("true", "1")
        if shifted != (invoice.regime in _SHIFTED):
            warnings.append(
                Outcome(
                    FactuursturenCode.DEBTOR_TAX_SHIFTED_DIFFERS,
                    {
                        "reference": invoice.reference,
                        "clientnr": clientnr,
                        "regime": invoice.regime.value,
                        "tax_shifted": "yes" if shifted else "no",
                    },
                )
            )
        return warnings

    # -- find again, read back -------------------------------------------------------------------

    def find_invoice(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """By the stored id (if it is still ours), else by searching the reference.

        Several invoices carrying the reference raise ``factuursturen_reference_ambiguous``: the
        runtime then asks a person instead of guessing.
        """
        if known is not None and known.target_id:
            try:
                invoice = self.get_object(f"invoices/{quote(known.target_id, safe='')}", "invoice")
            except NotFound:
                invoice = None
            if invoice is not None and is_our_reference(_line1(invoice), reference):
                return _found(invoice, known.target_id)
        hits = [
            i for i in self.search("invoices", "all", reference) if is_our_reference(_line1(i), reference)
        ]
        if not hits:
            return None
        if len(hits) > 1:
            ids = ", ".join(str(i.get("id", "")) for i in hits)
            raise ConnectorError(
                FactuursturenCode.REFERENCE_AMBIGUOUS, _p(reference=reference, count=len(hits), ids=ids)
            )
        return _found(hits[0], "")

    def read_back_invoice(self, target_id: str) -> BookedDocument:
        """``GET invoices/{id}``: totals, the debtor as printed on it, the reference lines.

        The invoice shows no currency; it is the debtor's (one more ``GET clients/{nr}``; "" when
        that debtor is gone).
        """
        invoice = self.get_object(f"invoices/{quote(target_id, safe='')}", "invoice")
        try:
            total_inc = to_decimal(invoice.get("totalintax") or "0", field="totalintax")
            tax = to_decimal(invoice.get("tax") or "0", field="tax")
        except ValueError:
            raise _unreadable(f"invoices/{target_id}") from None
        reference = invoice.get("reference")
        lines = [str(v) for v in reference.values()] if isinstance(reference, dict) else []
        return BookedDocument(
            target_id=str(invoice.get("id") or target_id),
            total_ex=total_inc - tax,
            total_inc=total_inc,
            customer_email=str(invoice.get("email", "")),
            customer_name=str(invoice.get("company") or invoice.get("contact") or invoice.get("email") or ""),
            reference_text="\n".join(line for line in lines if line),
            currency=self._currency_of(str(invoice.get("clientnr", ""))),
        )

    def _currency_of(self, clientnr: str) -> str:
        if not clientnr:
            return ""
        try:
            client = self.get_object(f"clients/{quote(clientnr, safe='')}", "client")
        except NotFound:
            return ""
        return str(client.get("currency") or "EUR").upper()


def _unreadable(path: str) -> ResponseError:
    return ResponseError(FactuursturenCode.BAD_RESPONSE, _p(status=200, detail=path))


def _settings(settings: Any) -> FactuursturenSettings:
    if isinstance(settings, FactuursturenSettings):
        return settings
    return FactuursturenSettings.model_validate(dict(settings or {}))


def _refused(exc: DataError, code: str, params: Mapping[str, Any]) -> DataError:
    """A 400 named for what it refused; the remote text stays only in ``remote``."""
    if exc.code != FactuursturenCode.REQUEST_REFUSED:
        return exc
    return DataError(
        code, dict(params), status_code=exc.status_code, remote=str(exc.params.get("remote", ""))
    )


def _line1(invoice: Mapping[str, Any]) -> str:
    reference = invoice.get("reference")
    return str(reference.get("line1", "")) if isinstance(reference, dict) else ""


def _found(invoice: Mapping[str, Any], fallback: str) -> PushResult:
    target_id = str(invoice.get("id") or fallback)
    return PushResult(target_id=target_id, number=str(invoice.get("invoicenr") or target_id))
