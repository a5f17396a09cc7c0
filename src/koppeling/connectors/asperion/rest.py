"""Asperion's second delivery mode: Concept sales invoices one by one over the REST API.

A link whose flow is ``orders_to_invoices`` into a connection of system ``asperion_rest`` books each
order at once instead of in the daily file (``orders_to_batch`` into ``asperion``). A second
connector and not a second capability of ``AsperionTarget``: the credentials differ entirely (an
OAuth2 client and an administration instead of the licence code) and so do the addresses
(api.asperion.nl instead of the file drop). Per invoice [V paths and shapes; docs/connectors/asperion.md]::

    POST {identity}/connect/token              grant_type=refresh_token, client id/secret in the form
    GET  /v1/salesinvoiceswithlines?Description=<order number>   exactly-once look-up (also before a push)
    GET  /v1/debtors?EmailAddress=<e-mail>     the debtor, matched on e-mail (exactly, client-side)
    POST /v1/debtors                           only when nobody has that e-mail; never PUT/PATCH
    POST /v1/salesinvoiceswithlines            status 0 = concept [I], lines per VAT class
    GET  /v1/salesinvoiceswithlines/{id}       read-back (totals, description, debtor)

Every call carries ``Authorization: Bearer`` and ``X-Tenant-Id: <administration_id>``. The
description is the batch file's (``convert.to_axml_order``): "Bestelling ORD000033 factuur
INV000037", or "Bestelling ORD000038" without a shop invoice, so the order number is findable by the
``Description`` filter (``Findability.BY_REFERENCE``); the invoice number stays Asperion's own (a
concept has none until the merchant makes it final [V]).
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, field_validator

from koppeling.core.messages import gettext_noop
from koppeling.core.messages import register as register_messages
from koppeling.core.models import Invoice
from koppeling.core.totals import TotalsMethod

from .. import jsonbody
from ..base import BookedDocument, ConnectionConfig, Connector, Findability, PushResult, WritesInvoices
from ..errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    DataError,
    NotFound,
    ResponseError,
    TransientError,
)
from ..http import ResponseTooLarge
from ..registry import register
from .batch_format import VAT_CATEGORIES
from .client import _params, raise_refused
from .convert import AsperionSettings, to_axml_order

__all__ = ["AsperionRestCode", "AsperionRestSettings", "AsperionRestTarget"]

CONCEPT = 0  # SalesInvoice.status of a concept [I: the integer values are unpublished]
IDENTITY_URL = "https://identity.asperion.nl"  # [V] api.aspx, go-asperion oauth.go


class AsperionRestCode(StrEnum):
    REST_REJECTED = "asp_rest_rejected"
    REFERENCE_AMBIGUOUS = "asp_reference_ambiguous"


register_messages(
    {
        AsperionRestCode.REST_REJECTED: (
            gettext_noop("Asperion refused %(operation)s for order %(reference)s (%(fields)s): %(remote)s"),
            gettext_noop(
                "Check the flow's Asperion settings (VAT codes, ledger accounts, journal) against the "
                "administration, or correct the order in the shop, then press Verwerk."
            ),
        ),
        AsperionRestCode.REFERENCE_AMBIGUOUS: (
            gettext_noop(
                "Asperion holds %(count)s sales invoices for order %(reference)s (ids %(ids)s); koppeling "
                "does not guess which one is its booking."
            ),
            gettext_noop(
                "Delete the duplicate concept invoices in Asperion, then mark the record as booked with "
                "the remaining one."
            ),
        ),
    }
)


class AsperionRestSettings(AsperionSettings):
    """The file's choices (VAT classes, payment codes) plus what a REST line needs per class."""

    #: VAT class -> Asperion VAT code (``GET /v1/vatcodes``)
    vat_codes: dict[str, str] = Field(default_factory=lambda: {"hoog": "VH", "laag": "VL", "nul": "V0"})
    #: VAT class -> sales ledger account (the import's "Verkopen BTW hoog/laag/0%")
    ledger_accounts: dict[str, int] = Field(default_factory=lambda: {"hoog": 8000, "laag": 8010, "nul": 8020})
    journal_id: str = "VK"  # Dagboek

    @field_validator("vat_codes", "ledger_accounts")
    @classmethod
    def _every_class(cls, value: dict[str, Any]) -> dict[str, Any]:
        missing = [c for c in VAT_CATEGORIES if c not in value]
        if missing:
            raise ValueError(f"map every VAT class; missing: {', '.join(missing)}")
        return value


def _remote(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase, {}
    if not isinstance(body, dict):
        return str(body)[:300], {}
    text = ": ".join(str(body[k]) for k in ("title", "detail") if body.get(k)) or response.reason_phrase
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        text += " " + "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
    return text.strip(), body


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ResponseError(params=_params(detail=f"not an amount: {value!r}")) from None


def _ours(row: dict[str, Any], reference: str) -> bool:
    """Whether an invoice's description names ``reference`` as a whole word ("Bestelling <ref> …")."""
    return reference in str(row.get("description") or "").split()


def _found(row: dict[str, Any]) -> PushResult:
    target_id = str(row["id"])
    return PushResult(
        target_id, number=str(row.get("invoiceNumber") or target_id), concept=row.get("status") == CONCEPT
    )


@register
class AsperionRestTarget(Connector, WritesInvoices):
    """Books each order as one Concept sales invoice over Asperion's REST API."""

    system: ClassVar[str] = "asperion_rest"
    label: ClassVar[str] = "Asperion (REST API)"
    credential_fields: ClassVar[tuple[str, ...]] = (
        "client_id",
        "client_secret",
        "refresh_token",
        "administration_id",
    )
    default_base_url: ClassVar[str] = "https://api.asperion.nl"
    findable: ClassVar[Findability] = Findability.BY_REFERENCE  # Description filter [V filters; S match]
    totals_method: ClassVar[TotalsMethod] = TotalsMethod.AS_SENT  # lines carry amount and VAT [I]
    default_privacy: ClassVar[str] = "minimal"  # seed 002: data in flight only
    settings_model: ClassVar[type[BaseModel]] = AsperionRestSettings
    #: one at a time: the debtor look-up and its creation must not race for one e-mail [I]
    max_in_flight: ClassVar[int] = 1

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(config, http, **kwargs)
        self.base_url = (config.base_url or self.default_base_url).rstrip("/")
        default_identity = IDENTITY_URL if self.base_url == self.default_base_url else self.base_url
        self.identity_url = str((config.options or {}).get("identity_url") or default_identity).rstrip("/")
        self._access_token = ""
        self._expires = 0.0

    # ------------------------------------------------------------ OAuth2

    def _credential(self, name: str) -> str:
        value = str(self.config.credentials.get(name) or "").strip()
        if not value:
            missing = [f for f in self.credential_fields[:3] if not self.config.credentials.get(f)]
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, _params(fields=", ".join(missing) or name))
        return value

    def _token(self) -> str:
        if self._access_token and self._expires > self.clock() + 30:
            return self._access_token
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._credential("refresh_token"),
            "client_id": self._credential("client_id"),
            "client_secret": self._credential("client_secret"),
        }
        operation = "POST connect/token"
        response = self._send("POST", f"{self.identity_url}/connect/token", operation, data=form)
        if response.status_code in (400, 401):
            text, body = _remote(response)
            raise AuthError(
                ConnectorCode.AUTH_FAILED,
                _params(),
                status_code=response.status_code,
                remote=str(body.get("error") or text),
            )
        if not response.is_success:
            self._refused(response, operation)
        body = self._json(response, operation)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ResponseError(params=_params(detail=f"{operation}: no access_token"))
        self._access_token = token
        self._expires = self.clock() + float(body.get("expires_in") or 300)
        renewed = body.get("refresh_token")
        if isinstance(renewed, str) and renewed and renewed != form["refresh_token"]:
            self.update_credentials(lambda current: {**current, "refresh_token": renewed})
        return token

    # ------------------------------------------------------------ HTTP

    def _send(self, method: str, url: str, operation: str, **kwargs: Any) -> httpx.Response:
        writes = method == "POST" and "/v1/" in url
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientError(
                ConnectorCode.TIMEOUT,
                _params(operation=operation, detail=type(exc).__name__),
                maybe_processed=writes,
            ) from None
        except ResponseTooLarge as exc:
            raise ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _params(limit=exc.cap)) from None
        except httpx.TransportError as exc:
            raise TransientError(
                ConnectorCode.UNREACHABLE,
                _params(operation=operation, detail=type(exc).__name__),
                maybe_processed=writes and not isinstance(exc, httpx.ConnectError),
            ) from None

    def _refused(self, response: httpx.Response, operation: str) -> None:
        text, _ = _remote(response)
        if response.status_code == 404:
            raise NotFound(params=_params(operation=operation), status_code=404, remote=text)
        raise_refused(response, operation, text)

    @staticmethod
    def _json(response: httpx.Response, operation: str) -> Any:
        try:
            return json.loads(response.content)
        except ValueError:
            raise ResponseError(params=_params(detail=f"{operation}: not JSON")) from None

    def _api(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[httpx.Response, str]:
        """One API call (a fresh token once when the old one is refused); non-2xx is returned for
        the caller's own statuses (400/422 of a POST), the rest raised by ``_refused``."""
        operation = f"{method} {path.split('?')[0]}"
        headers = {"Accept": "application/json"}
        tenant = str(self.config.credentials.get("administration_id") or "").strip()
        if tenant:
            headers["X-Tenant-Id"] = tenant
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = jsonbody.encode(body)
        for attempt in (0, 1):
            headers["Authorization"] = f"Bearer {self._token()}"
            response = self._send(
                method, f"{self.base_url}/{path}", operation, params=params, content=content, headers=headers
            )
            if response.status_code == 401 and attempt == 0:
                self._access_token = ""  # expired or revoked: one new token, then it is an auth error
                continue
            break
        if response.is_success or (method == "POST" and response.status_code in (400, 422)):
            return response, operation
        self._refused(response, operation)
        raise AssertionError("unreachable")

    def _get(self, path: str, **params: Any) -> Any:
        response, operation = self._api("GET", path, params=params or None)
        return self._json(response, operation)

    def _list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._get(path, **params, page=page, pageSize=100)
            data = body.get("_data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ResponseError(params=_params(detail=f"GET {path}: no _data"))
            rows += [r for r in data if isinstance(r, dict) and "id" in r]
            if not (body.get("_meta") or {}).get("nextPage") or page >= 50:
                return rows
            page += 1

    def _create(self, path: str, body: dict[str, Any], reference: str) -> dict[str, Any]:
        response, operation = self._api("POST", path, body=body)
        if response.status_code in (400, 422):
            text, problem = _remote(response)
            fields = ", ".join(problem.get("errors") or {}) or "?"
            raise DataError(
                AsperionRestCode.REST_REJECTED,
                _params(operation=operation, reference=reference, fields=fields),
                status_code=response.status_code,
                remote=text,
            )
        try:
            created = self._json(response, operation)
        except ResponseError:
            created = None
        if not isinstance(created, dict) or "id" not in created:
            raise TransientError(
                ConnectorCode.BAD_RESPONSE,
                _params(detail=f"{operation}: unreadable answer"),
                maybe_processed=True,
            )
        return created

    # ------------------------------------------------------------ the connector

    def check(self) -> None:
        """A token from the refresh token and the administration it reaches."""
        self._get("v1/administrations")

    def debtor_for(self, order: Any, reference: str) -> dict[str, Any]:
        """The debtor with the order's e-mail (the oldest when several), else a new one; an existing
        debtor is never written to."""
        email = order.debtor.email.strip()
        hits = [
            d
            for d in self._list("v1/debtors", EmailAddress=email)
            if str(d.get("emailAddress") or "").strip().casefold() == email.casefold()
        ]
        if hits:
            return min(hits, key=lambda d: int(d["id"]) if str(d["id"]).isdigit() else 0)
        source = order.debtor
        address = source.invoice_address
        street = " ".join(
            p for p in (address.street, address.house_number, address.house_number_addition) if p
        )
        body = {
            "name": source.company_name or source.name,
            "emailAddress": email,
            "address": street,
            "postCode": address.postal_code,
            "city": address.city,
            "countryCode": address.country_code,
            "vatNumber": source.vat_number,
            "cocNumber": source.coc_number,
            "phoneNumber": source.phone,
        }
        return self._create("v1/debtors", body, reference)

    def push_invoice(self, invoice: Invoice, settings: Any = None) -> PushResult:
        """One concept invoice; an invoice already there for the reference is returned, never a
        second one."""
        chosen = _settings(settings)
        order = to_axml_order(invoice, chosen)  # the file's checks and description (DataError)
        existing = self.find_invoice(invoice.reference)
        if existing is not None:
            return existing
        debtor = self.debtor_for(order, invoice.reference)
        lines = [
            {
                "description": (f"{line.quantity.normalize():f} x " if line.quantity != 1 else "")
                + line.description,
                "amount": line.amount_excl,
                "vatAmount": line.vat_amount,
                "vatCode": chosen.vat_codes[line.vat_category],
                "ledgerAccountId": chosen.ledger_accounts[line.vat_category],
            }
            for line in order.lines
        ]
        body = {
            "debtorCustomerNumber": str(debtor.get("customerNumber") or ""),
            "date": order.order_date.isoformat(),
            "description": order.description,
            "journalId": chosen.journal_id,
            "status": CONCEPT,
            "lines": lines,
        }
        created = self._create("v1/salesinvoiceswithlines", body, invoice.reference)
        return _found(created)

    def find_invoice(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """By the stored id while it still names the reference, else by the ``Description`` filter
        (kept only when the description names it as a word); several raise, a person decides."""
        if known is not None and known.target_id:
            try:
                row = self._get(f"v1/salesinvoiceswithlines/{quote(known.target_id, safe='')}")
            except NotFound:
                row = None
            if isinstance(row, dict) and _ours(row, reference):
                return _found(row)
        hits = [
            r for r in self._list("v1/salesinvoiceswithlines", Description=reference) if _ours(r, reference)
        ]
        if not hits:
            return None
        if len(hits) > 1:
            ids = ", ".join(str(r["id"]) for r in hits)
            raise ConnectorError(
                AsperionRestCode.REFERENCE_AMBIGUOUS, _params(reference=reference, count=len(hits), ids=ids)
            )
        return _found(hits[0])

    def read_back_invoice(self, target_id: str) -> BookedDocument:
        """The invoice's totals and description, and its debtor's name and e-mail."""
        row = self._get(f"v1/salesinvoiceswithlines/{quote(target_id, safe='')}")
        if not isinstance(row, dict):
            raise ResponseError(params=_params(detail="GET v1/salesinvoiceswithlines/{id}: not an object"))
        number = str(row.get("debtorCustomerNumber") or "")
        debtors = self._list("v1/debtors", CustomerNumber=number) if number else []
        debtor = next((d for d in debtors if str(d.get("customerNumber")) == number), {})
        return BookedDocument(
            target_id=str(row.get("id") or target_id),
            total_ex=_money(row.get("amountExclVat")),
            total_inc=_money(row.get("amountInclVat")),
            customer_email=str(debtor.get("emailAddress") or ""),
            customer_name=str(debtor.get("name") or ""),
            reference_text=str(row.get("description") or ""),
        )


def _settings(settings: Any) -> AsperionRestSettings:
    if isinstance(settings, AsperionRestSettings):
        return settings
    if isinstance(settings, BaseModel):
        settings = settings.model_dump()
    return AsperionRestSettings.model_validate(dict(settings or {}))
