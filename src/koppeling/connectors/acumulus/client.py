"""The Acumulus web API as a koppeling target.

Every call is ``POST {base}/{stable|dev}/{apiFunction}.php`` with one multipart/form-data field,
``xmlstring``, holding the whole message: the basic submit (``<contract>``, ``<format>``,
``<testmode>``, ``<lang>``, ``<connector>``) plus the call's own nodes. Authentication lives in the
``<contract>`` block, not in HTTP headers. We always ask for ``<format>json</format>``; the server
still answers XML when it failed before reading ``<format>`` (e.g. unparseable XML), so both are
read, through one normaliser, into the same shape.

Idempotency: Acumulus numbers invoices itself and offers **no** call to find an entry by our
order number or description (see ``docs/connectors/acumulus.md``), so ``searchable_by_reference``
is False. The engine must store ``entryid`` and ``token`` from ``PushResult`` in the same local
transaction that ends the push; ``lookup`` then finds the booking by those ids. An ``invoice_add``
whose answer we never read (``outcome_unknown``) cannot be looked up: that record needs review.

>>> from koppeling.connectors.base import ConnectionConfig
>>> cfg = ConnectionConfig("acumulus", "https://api.sielsystems.nl/acumulus",
...                        {"contractcode": "123456", "username": "api", "password": "s3cret"})
>>> AcumulusTarget(cfg).url("invoices/invoice_add")
'https://api.sielsystems.nl/acumulus/stable/invoices/invoice_add.php'
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import httpx
from lxml import etree

from koppeling import __version__
from koppeling.core.models import Invoice, InvoiceLine, LineKind, PaymentStatus, VatRegime
from koppeling.core.money import ZERO, quantize, round_cents, to_decimal

from ..base import BookedDocument, ConnectionConfig, PushResult, TargetConnector
from ..errors import (
    AuthError,
    ConnectorError,
    DataError,
    NotFound,
    QuotaError,
    ResponseError,
    TransientError,
)
from ..http import make_client, parse_retry_after

__all__ = [
    "VAT_TYPE",
    "AcumulusTarget",
    "acumulus_totals",
    "normalise",
    "parse_body",
    "validate_response",
]

#: core VAT regime -> Acumulus ``vattype`` (libAcumulus Api.php VatType_*)
VAT_TYPE: Mapping[VatRegime, int] = {
    VatRegime.DOMESTIC: 1,  # national
    VatRegime.REVERSE_CHARGE: 2,  # national, reverse charge
    VatRegime.EU_B2B: 3,  # EU, reverse charge (ICP)
    VatRegime.EXPORT: 4,  # outside the EU
    VatRegime.EU_B2C_OSS: 6,  # EU VAT (OSS)
}
VAT_FREE = Decimal(-1)  # Api::VatFree

#: lines whose nature is a service for Acumulus; products are "Product"; others send none
_SERVICE_KINDS = frozenset({LineKind.SHIPPING, LineKind.PAYMENT_FEE, LineKind.OTHER})

#: codetags of "object not found" answers (libAcumulus Acumulus.php / AcumulusResult::isNotFound)
NOT_FOUND_CODETAGS = frozenset(
    {"XGYBSN000", "BK07TG65N", "7CFBA8K", "AAB6C3AA", "FGY040XX", "XGYTTNF04", "P2XFELO12", "TNFE4035G"}
)
#: the trial account's cap has no public codetag; this is the simulator's (inferred), the text
#: pattern below catches the real one whatever its tag
QUOTA_CODETAGS = frozenset({"SIMTRIAL1"})
_QUOTA_TEXT = re.compile(
    r"(maxim\w*\s+(aantal\s+)?(boekingen|entries|invoices|facturen))|proefaccount|proefperiode|trial",
    re.IGNORECASE,
)
_LOCKED_TEXT = re.compile(r"locked|vergrendeld|afgesloten", re.IGNORECASE)
_XML_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


# --------------------------------------------------------------------------------------------
# The quirks of Acumulus answers, handled in one place
# --------------------------------------------------------------------------------------------


def normalise(value: Any) -> Any:
    """Make an Acumulus answer regular: empty ``[]``/``{}`` become ``""``, scalars stay text.

    Acumulus returns every scalar as a string, empty values as ``[]`` or ``{}``, and a list of
    one element unwrapped; ``as_list`` undoes the last quirk where a list is expected.

    >>> normalise({"conceptid": [], "accountnumber": {}, "entryid": "55393014"})
    {'conceptid': '', 'accountnumber': '', 'entryid': '55393014'}
    """
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()} if value else ""
    if isinstance(value, list):
        return [normalise(item) for item in value] if value else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def as_list(value: Any) -> list[Any]:
    """A normalised node that should be a list: ``""`` -> [], one object -> [object].

    >>> as_list(""), as_list({"code": "x"}), as_list([{"code": "x"}, {"code": "y"}])
    ([], [{'code': 'x'}], [{'code': 'x'}, {'code': 'y'}])
    """
    if value in ("", None):
        return []
    if isinstance(value, list):
        return value
    return [value]


def _xml_to_obj(elem: Any) -> Any:
    children = [child for child in elem if isinstance(child.tag, str)]
    if not children:
        return (elem.text or "").strip()
    result: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in children:
        value = _xml_to_obj(child)
        if child.tag in result:
            if child.tag not in repeated:
                result[child.tag] = [result[child.tag]]
                repeated.add(child.tag)
            result[child.tag].append(value)
        else:
            result[child.tag] = value
    return result


def parse_body(response: httpx.Response) -> dict[str, Any] | None:
    """The normalised body of a JSON or XML Acumulus answer; ``None`` if it is neither."""
    content_type = response.headers.get("content-type", "").lower()
    body = response.content
    head = body.lstrip()[:1]
    try:
        if "json" in content_type or (not content_type and head in (b"{", b"[")):
            data = json.loads(body)
        elif "xml" in content_type or (not content_type and head == b"<"):
            root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            data = _xml_to_obj(root)
        else:
            return None
    except (ValueError, etree.XMLSyntaxError):
        return None
    if not isinstance(data, dict):
        return None
    result = normalise(data)
    return result if isinstance(result, dict) else None


def api_messages(body: Mapping[str, Any], kind: str) -> list[tuple[str, str, str]]:
    """``(code, codetag, message)`` of the errors (``kind="error"``) or warnings in a body."""
    block = body.get(kind + "s")
    items = as_list(block.get(kind)) if isinstance(block, dict) else []
    return [
        (str(item.get("code", "")), str(item.get("codetag", "")), str(item.get("message", "")))
        for item in items
        if isinstance(item, dict)
    ]


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))


def _excerpt(response: httpx.Response) -> str:
    text = response.text[:2000]
    return re.sub(r"(<password>)[^<]*(</password>)", r"\1***\2", text)


def _format(messages: list[tuple[str, str, str]]) -> str:
    return "; ".join(f"[{code} / {tag}] {text}".strip() for code, tag, text in messages)


_CHECK_FIRST = "Check in Acumulus whether this order was booked before pushing it again."
_AUTO_RETRY = "Nothing to do: koppeling retries automatically."


def outcome_unknown(message: str, response: httpx.Response | None = None) -> TransientError:
    """A mutating call whose effect we cannot know: ``maybe_processed`` -> lookup or review."""
    return TransientError(
        message + " Acumulus may or may not have booked the invoice.",
        code="outcome_unknown",
        maybe_processed=True,
        retry_after=_retry_after(response) if response is not None else None,
        status_code=response.status_code if response is not None else None,
        response_excerpt=_excerpt(response) if response is not None else "",
        suggestion=_CHECK_FIRST,
    )


def validate_response(response: httpx.Response, *, mutating: bool = False) -> dict[str, Any]:
    """Classify one Acumulus answer: return its normalised body, or raise the right error.

    ``mutating`` marks calls that change Acumulus (invoice_add): where such a call may have taken
    effect although we got no readable answer, the error is ``TransientError(code=
    "outcome_unknown", maybe_processed=True)`` and the engine looks up / asks for review instead
    of pushing again.

    - 429, 503: ``TransientError`` (``retry_after`` from ``Retry-After``); nothing was booked.
    - other 5xx: ``TransientError``; ``outcome_unknown`` if mutating (a gateway error can follow
      a booking we never heard of).
    - a body that is neither JSON nor XML with a basic response (HTML from a proxy or load
      balancer, truncated JSON): ``ResponseError`` for reads and non-2xx; ``outcome_unknown`` for a
      mutating call answered 2xx.
    - ``status`` 3 (exception at Acumulus): ``TransientError``; ``outcome_unknown`` if mutating.
    - ``status`` 1: errors[] decide: the trial cap -> ``QuotaError``; code 403 -> ``AuthError``;
      "not found" (HTTP 404 or known codetags) -> ``NotFound``; anything else -> ``DataError``
      with code ``acumulus_<codetag>`` and the Acumulus code, codetag and message (also as
      ``error.api_errors``).
    - ``status`` 0 or 2 (warnings): the body; warnings stay in it for the caller.
    """
    status_code = response.status_code
    if status_code == 429 or status_code == 503:
        raise TransientError(
            f"Acumulus is busy (HTTP {status_code}); will retry.",
            code="acumulus_busy",
            maybe_processed=False,
            retry_after=_retry_after(response),
            status_code=status_code,
            response_excerpt=_excerpt(response),
            suggestion=_AUTO_RETRY,
        )
    if status_code >= 500:
        if mutating:
            raise outcome_unknown(f"Acumulus answered HTTP {status_code}.", response)
        raise TransientError(
            f"Acumulus answered HTTP {status_code}.",
            code="acumulus_unavailable",
            maybe_processed=False,
            retry_after=_retry_after(response),
            status_code=status_code,
            response_excerpt=_excerpt(response),
            suggestion=_AUTO_RETRY,
        )
    body = parse_body(response)
    if body is None or "status" not in body:
        if mutating and 200 <= status_code < 300:
            raise outcome_unknown(f"Acumulus answered HTTP {status_code} with an unreadable body.", response)
        raise ResponseError(
            f"Acumulus answered HTTP {status_code} with a body koppeling cannot read.",
            code="bad_response",
            status_code=status_code,
            response_excerpt=_excerpt(response),
            suggestion="Check the Acumulus base URL of this connection; if it is right, Acumulus "
            "or a proxy in between is misbehaving: try again later.",
        )
    try:
        api_status = int(body.get("status") or 0)
    except (TypeError, ValueError):
        api_status = -1
    errors = api_messages(body, "error")
    if api_status in (0, 2) and not errors:
        return body
    if api_status == 3:
        detail = f": {_format(errors)}" if errors else "."
        if mutating:
            raise outcome_unknown(f"Acumulus reported an internal exception (status 3){detail}", response)
        raise TransientError(
            f"Acumulus reported an internal exception (status 3){detail}",
            code="acumulus_exception",
            maybe_processed=False,
            status_code=status_code,
            response_excerpt=_excerpt(response),
            suggestion="If this keeps happening, contact Acumulus support with the codetag.",
        )
    if api_status not in (0, 1, 2):
        raise ResponseError(
            f"Acumulus answered an unknown status {body.get('status')!r}.",
            status_code=status_code,
            response_excerpt=_excerpt(response),
        )
    raise _error_for(errors, status_code, _excerpt(response))


def _error_for(errors: list[tuple[str, str, str]], status_code: int, excerpt: str) -> ConnectorError:
    text = _format(errors) or "no error details"
    codes = {code.split(" ", 1)[0] for code, _, _ in errors}
    tags = {tag for _, tag, _ in errors}
    error: ConnectorError
    if tags & QUOTA_CODETAGS or any(_QUOTA_TEXT.search(message) for _, _, message in errors):
        error = QuotaError(
            f"The Acumulus account takes no more invoices: {text}",
            code="acumulus_quota",
            status_code=status_code,
            response_excerpt=excerpt,
            suggestion="A trial account books a limited number of entries. Convert the Acumulus "
            "trial into a subscription (Acumulus: Mijn Acumulus), then resume this link.",
        )
    elif "403" in codes or status_code == 403 or "AF1001MCS" in tags:
        error = AuthError(
            f"Acumulus refused the account details: {text}",
            code="acumulus_auth",
            status_code=status_code,
            response_excerpt=excerpt,
            suggestion="Check the contract code, user name and password of this Acumulus "
            "connection. Use a user of type 'API-gebruiker' (API user).",
        )
    elif status_code == 404 or "404" in codes or tags & NOT_FOUND_CODETAGS:
        error = NotFound(
            f"Acumulus does not know this object: {text}",
            status_code=status_code,
            response_excerpt=excerpt,
        )
    else:
        first_tag = next((tag for _, tag, _ in errors if tag), "unknown")
        locked = any(_LOCKED_TEXT.search(message) for _, _, message in errors)
        error = DataError(
            f"Acumulus refused the invoice: {text}",
            code=f"acumulus_{first_tag}",
            status_code=status_code,
            response_excerpt=excerpt,
            suggestion=(
                "The booking period of this invoice date is locked in Acumulus: unlock it there "
                "or correct the date, then press Verwerk."
                if locked
                else "Correct what Acumulus names (often a VAT rate, account or cost center in "
                "the Configuratie), then press Verwerk."
            ),
        )
    error.api_errors = errors  # type: ignore[attr-defined]
    return error


# --------------------------------------------------------------------------------------------
# Building messages
# --------------------------------------------------------------------------------------------


def _xml(tag: str, value: Any, out: list[str]) -> None:
    if value is None or value == "":
        return
    if isinstance(value, Mapping):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _xml(key, item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _xml(tag, item, out)
    else:
        text = _XML_INVALID_CHARS.sub("", str(value))
        out.append(f"<{tag}>{escape(text)}</{tag}>")


def build_message(submit: Mapping[str, Any]) -> str:
    """The ``xmlstring``: one root element (its name is ignored by the API) around ``submit``."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml("myxml", submit, out)
    return "".join(out)


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


class AcumulusTarget(TargetConnector):
    """Books invoices in Acumulus.

    Options (``ConnectionConfig.options``): ``testmode`` (bool: Acumulus checks, stores nothing),
    ``lang`` ("nl" | "en"), ``api_version`` ("stable" | "dev"), ``concept`` (bool: book as
    concept), ``default_account`` / ``default_cost_center`` (ids from the picklists, used when the
    invoice names none), ``overwrite_contact`` (bool, default True), ``disable_duplicates``
    (bool, default True), ``email_on_warning``.
    """

    system: ClassVar[str] = "acumulus"
    label: ClassVar[str] = "Acumulus"
    credential_fields: ClassVar[tuple[str, ...]] = ("contractcode", "username", "password")
    optional_credential_fields: ClassVar[tuple[str, ...]] = ("emailonerror",)
    default_base_url: ClassVar[str] = "https://api.sielsystems.nl/acumulus"
    #: Acumulus publishes no rate limit (none found in its docs or libAcumulus); we stay polite.
    max_in_flight: ClassVar[int] = 4
    #: no API call finds an entry by description/order number: lookups go by entryid/token only.
    searchable_by_reference: ClassVar[bool] = False

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None) -> None:
        base = (config.base_url or self.default_base_url).rstrip("/")
        super().__init__(config, http or make_client(base))
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
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(
                f"Acumulus cannot be reached: {type(exc).__name__}.",
                code="acumulus_unreachable",
                maybe_processed=False,
                suggestion=_AUTO_RETRY,
            ) from exc
        except httpx.TransportError as exc:
            # The request may have arrived: for invoice_add we cannot know whether it was booked.
            if mutating:
                raise outcome_unknown(f"No complete answer from Acumulus ({type(exc).__name__}).") from exc
            raise TransientError(
                f"No complete answer from Acumulus ({type(exc).__name__}).",
                code="acumulus_timeout",
                maybe_processed=False,
                suggestion=_AUTO_RETRY,
            ) from exc
        return validate_response(response, mutating=mutating)

    # -- Connector API -------------------------------------------------------------------

    def check(self) -> None:
        """Authenticated ``general/general_about``; raises ``AuthError`` on refused credentials."""
        body = self.call("general/general_about")
        if not isinstance(body.get("general"), dict):
            raise ResponseError("Acumulus general_about answered without a 'general' block.")

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

    def invoice_payload(self, invoice: Invoice) -> tuple[dict[str, Any], list[str]]:
        """The ``<customer>`` message for ``invoice_add`` and warnings about it."""
        options = self.config.options
        warnings: list[str] = []
        if invoice.currency.upper() != "EUR":
            raise DataError(
                f"Acumulus books euros only; invoice {invoice.reference} is in {invoice.currency}.",
                code="acumulus_currency",
                suggestion="Convert the amounts to EUR in the mapping before pushing.",
            )
        if not invoice.lines:
            raise DataError(f"Invoice {invoice.reference} has no lines.", code="acumulus_no_lines")
        vattype = VAT_TYPE[invoice.regime]
        party = invoice.customer
        if vattype == 3 and not party.vat_number:
            raise DataError(
                f"Invoice {invoice.reference} is an intra-community (ICP) sale without a VAT number.",
                code="icp_vat_number_missing",
                suggestion="Ask the customer for a valid EU VAT number, or treat the sale as OSS/domestic.",
            )
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
            lines.append(entry)
            fitted.append((quantity, unit, rate))
        booked_ex, booked_inc = acumulus_totals(fitted)
        if booked_ex != invoice.total_ex or booked_inc != invoice.total_inc:
            warnings.append(
                f"Acumulus will book {booked_ex} excl. / {booked_inc} incl. VAT where the invoice says "
                f"{invoice.total_ex} / {invoice.total_inc} (its line VAT is not rounded per line); "
                "reconciliation will report the difference."
            )
        paid = invoice.payment_status is PaymentStatus.PAID
        description = invoice.description or invoice.reference
        if invoice.reference and invoice.reference not in description:
            description = f"{invoice.reference} {description}"
        text = [f"Order {invoice.reference}"]
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
                "concept": "1" if options.get("concept", False) else "0",
                "vattype": str(vattype),
                "issuedate": invoice.issue_date.isoformat(),
                "costcenter": invoice.cost_center or str(options.get("default_cost_center", "") or ""),
                "accountnumber": invoice.account or str(options.get("default_account", "") or ""),
                "paymentstatus": "2" if paid else "1",
                "paymentdate": (invoice.payment_date or invoice.issue_date).isoformat() if paid else "",
                "description": description,
                "descriptiontext": "\n".join(text),
                "line": lines,
            },
        }
        return {"customer": customer}, warnings

    def push_invoice(self, invoice: Invoice) -> PushResult:
        """``invoices/invoice_add``. Store the returned entryid/token at once (see module doc)."""
        payload, warnings = self.invoice_payload(invoice)
        body = self.call("invoices/invoice_add", payload, mutating=True)
        result = body.get("invoice")
        if not isinstance(result, dict):
            if self._testmode:
                result = {}
            else:
                raise outcome_unknown("Acumulus answered invoice_add without an invoice block.")
        warnings.extend(_format([m]) for m in api_messages(body, "warning"))
        entryid = str(result.get("entryid", ""))
        conceptid = str(result.get("conceptid", ""))
        if self._testmode:
            warnings.append("testmode: Acumulus checked the invoice and stored nothing.")
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
            raise NotFound(f"Acumulus has no entry {entryid}.")
        return entry

    def payment_status(self, token: str) -> dict[str, Any]:
        """``invoices/invoice_paymentstatus_get``: entryid, token, paymentstatus, paymentdate."""
        invoice = self.call("invoices/invoice_paymentstatus_get", {"token": token}).get("invoice")
        if not isinstance(invoice, dict):
            raise NotFound(f"Acumulus has no invoice with token {token[:6]}…")
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
            if exc.code in ("not_found", "acumulus_FGYBSN040", "acumulus_FGY040XX"):
                return []
            raise
        if not isinstance(concept, dict):
            return []
        return [str(item) for item in as_list(concept.get("entryid")) if item]

    def lookup(self, reference: str, known: PushResult | None = None) -> PushResult | None:
        """Find an earlier booking by the ids the engine stored; Acumulus cannot search ``reference``.

        Returns None when the stored entry does not exist or sits in the recycle bin. Without any
        stored id this raises ``ConnectorError(code="not_searchable")``: the engine must then mark
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
            raise ConnectorError(
                f"Acumulus cannot be searched for order {reference}: no entry id or token was stored.",
                code="not_searchable",
                suggestion="Look for the order number in the Acumulus entries; if it is there, mark "
                "the record as booked, otherwise press Verwerk to push it.",
            )
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

    def read_back(self, target_id: str) -> BookedDocument:
        """``entry/entry_info`` -> totals for reconciliation (``totalvalueexclvat``, ``totalvalue``)."""
        if target_id.startswith("concept:"):
            raise NotFound(
                f"Acumulus concept {target_id.removeprefix('concept:')} is not booked yet.",
                suggestion="Finish the concept in Acumulus; reconciliation follows.",
            )
        entry = self.entry_info(target_id)
        return BookedDocument(
            target_id=str(entry.get("entryid") or target_id),
            total_ex=to_decimal(entry.get("totalvalueexclvat") or "0", field="totalvalueexclvat"),
            total_inc=to_decimal(entry.get("totalvalue") or "0", field="totalvalue"),
            reference_text=str(entry.get("entrydescription", "")),
        )


def _is_deleted(value: Any) -> bool:
    return str(value or "").strip() not in ("", "0")
