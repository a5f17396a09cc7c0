"""A local imitation of the Acumulus web API, as a plain WSGI app.

Same URLs (``/acumulus/{stable|dev}/{group}/{function}.php``), same transport (POST, multipart or
url-encoded field ``xmlstring``), same in-body ``<contract>`` authentication, same basic response
(``errors``/``warnings``/``status``) and the same JSON quirks as the real API: scalars as strings,
empty values as ``[]``, a one-element list not wrapped. ``<format>`` picks JSON or XML (XML when
absent, as the real API). Codetags that are not public are invented and start with ``SIM``; the
facts and which of them are verified: ``docs/connectors/acumulus.md``.

Built for speed (the benchmark books 10,000 invoices through it in-process): lxml parsing,
direct ``findtext`` look-ups, no framework.

>>> sim = AcumulusSimulator()
>>> sorted(sim.valid_credentials())
['contractcode', 'emailonerror', 'password', 'username']
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from lxml import etree

from ..simfaults import RandomFaults

__all__ = ["AcumulusSimulator", "BookedInvoice"]

_PATH = re.compile(r"/(stable|dev)/([a-z_]+/[a-z_]+)\.php$")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CENT = Decimal("0.01")
_TOKEN_CHARS = string.ascii_letters + string.digits
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_NO_CONTRACT = frozenset({"lookups/lookup_vatinfo", "signup/signup"})
_BAD = "400 Bad Request"
_NOT_FOUND = "404 Not Found"
_FORBIDDEN = "403 Forbidden"

#: VAT rates per EU country for ``lookup_vatinfo`` and OSS validation: (normal, reduced...).
#: Basic and approximate (2025/2026); not date-aware except NL's 6% -> 9% in 2019.
EU_VAT: dict[str, tuple[str, ...]] = {
    "AT": ("20", "10", "13"),
    "BE": ("21", "6", "12"),
    "BG": ("20", "9"),
    "CY": ("19", "5", "9"),
    "CZ": ("21", "12"),
    "DE": ("19", "7"),
    "DK": ("25",),
    "EE": ("24", "22", "9", "13"),
    "ES": ("21", "10", "4"),
    "FI": ("25.5", "24", "14", "10", "13.5"),
    "FR": ("20", "10", "5.5", "2.1"),
    "GR": ("24", "13", "6"),
    "HR": ("25", "13", "5"),
    "HU": ("27", "18", "5"),
    "IE": ("23", "13.5", "9", "4.8"),
    "IT": ("22", "10", "5", "4"),
    "LT": ("21", "9", "5"),
    "LU": ("17", "14", "8", "3"),
    "LV": ("21", "12", "5"),
    "MT": ("18", "7", "5"),
    "NL": ("21", "9"),
    "PL": ("23", "8", "5"),
    "PT": ("23", "13", "6"),
    "RO": ("21", "19", "11", "9", "5"),
    "SE": ("25", "12", "6"),
    "SI": ("22", "9.5", "5"),
    "SK": ("23", "20", "19", "10", "5"),
}
_EU_RATES = {country: frozenset(Decimal(rate) for rate in rates) for country, rates in EU_VAT.items()}
_NL_RATES = frozenset(Decimal(rate) for rate in ("21", "9", "0", "-1"))
_NL_RATES_BEFORE_2019 = frozenset(Decimal(rate) for rate in ("21", "6", "0", "-1"))
_ZERO_ONLY = frozenset({Decimal(0)})


@dataclass(slots=True)
class BookedInvoice:
    """One invoice booked by the simulator (an entry, or a concept when ``entryid`` is empty)."""

    entryid: str
    conceptid: str
    invoicenumber: str
    token: str
    contactid: str
    description: str
    descriptiontext: str
    issuedate: str
    vattype: int
    costcenter: str
    accountnumber: str
    paymentstatus: str
    paymentdate: str
    total_ex: Decimal
    total_inc: Decimal
    customer: dict[str, str]
    lines: list[dict[str, str]]
    invoicenotes: str = ""
    template: str = ""
    deleted: str = ""  # timestamp when moved to the recycle bin
    raw_xml: bytes = field(default=b"", repr=False)

    def entry_block(self) -> dict[str, Any]:
        """The ``entry`` block of ``entry/entry_info`` (field names from libAcumulus/siel.nl)."""
        vt = self.vattype
        return {
            "token": self.token,
            "entryid": self.entryid,
            "entrydate": self.issuedate,
            "entrytype": "Verkoopfactuur",
            "entrytypeid": "1",
            "entrydescription": self.description or [],
            "entrynote": self.invoicenotes or [],
            "fiscaltype": [],
            "vatreversecharge": "1" if vt in (2, 3) else "0",
            "foreigneu": "1" if vt in (3, 6) else "0",
            "foreignnoneu": "1" if vt == 4 else "0",
            "marginscheme": "1" if vt == 5 else "0",
            "foreignvat": "1" if vt in (6, 7) else "0",
            "contactid": self.contactid,
            "accountnumber": self.accountnumber or [],
            "costcenterid": self.costcenter or [],
            "costtypeid": [],
            "invoicenumber": self.invoicenumber,
            "invoicenote": self.invoicenotes or [],
            "descriptiontext": self.descriptiontext or [],
            "invoicelayoutid": self.template or [],
            "totalvalueexclvat": f"{self.total_ex:.2f}",
            "totalvalue": f"{self.total_inc:.2f}",
            "paymenttermdays": "14",
            "paymentdate": self.paymentdate or [],
            "paymentstatus": self.paymentstatus,
            "deleted": self.deleted or [],
        }


class _Reply:
    __slots__ = ("errors", "main", "status", "warnings")

    def __init__(self) -> None:
        self.main: dict[str, Any] = {}
        self.errors: list[tuple[str, str, str]] = []
        self.warnings: list[tuple[str, str, str]] = []
        self.status = 200

    def error(self, tag: str, message: str, code: str = _BAD, status: int = 400) -> _Reply:
        self.errors.append((code, tag, message))
        if self.status == 200:
            self.status = status
        return self


def _one_or_many(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else items


def _messages(items: list[tuple[str, str, str]], kind: str) -> dict[str, Any]:
    block: dict[str, Any] = {}
    if items:
        block[kind] = _one_or_many([{"code": c, "codetag": t, "message": m} for c, t, m in items])
    block[f"count_{kind}s"] = str(len(items))
    return block


def _xml_out(tag: str, value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _xml_out(key, item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        if not value:
            out.append(f"<{tag}/>")
        for item in value:
            _xml_out(tag, item, out)
    else:
        out.append(f"<{tag}>{escape(str(value))}</{tag}>")


def _dec(text: str | None) -> Decimal | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return dt.date(2000, 1, 1) <= day <= dt.date(2099, 12, 31)


def _html(status: int, title: str) -> bytes:
    return (
        f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} {title}"
        f"</h1></center><hr><center>nginx</center></body></html>"
    ).encode()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class AcumulusSimulator:
    """The Acumulus API for one contract, in memory.

    Knobs: ``latency`` (seconds added to every request), ``fail_next(status, times, retry_after)``
    (answer without processing, like a load balancer), ``accept_then_fail_next(status)`` (book the
    next invoice, then answer a gateway error: the "accepted but never heard" case),
    ``malform_next(kind)`` (process, then send an unreadable body), ``random_faults(rate)`` (a share
    of all requests fail at random: 5xx, 429, timeouts, drips, dropped connections), ``trial`` / ``trial_cap``
    (the 41st invoice_add of a trial account is refused), ``role_id``, ``rate_limit`` ``(count,
    seconds)``: invoice_add calls beyond ``count`` in a rolling window answer 429 with Retry-After on
    ``clock`` (epoch seconds; inject a simulated one) — Acumulus publishes no limit, this stands in
    for an account's own; ``echo_secret_in_errors``: error messages repeat the password and contract
    code, as a careless API would (for the redaction test).
    Inspection: ``rate_limited_count`` (429s given), ``invoices`` (entryid -> ``BookedInvoice``),
    ``concepts``, ``entries_with_description_containing(text)``, ``request_count``, ``requests``
    (per function).
    """

    def __init__(
        self,
        *,
        contractcode: str = "123456",
        username: str = "koppeling-api",
        password: str = "geheim-wachtwoord",  # noqa: S107 - simulator test credential
        trial: bool = False,
        trial_cap: int = 40,
        latency: float = 0.0,
        seed: int = 2026,
        role_id: int = 5,
        accounts: Iterable[tuple[str, str, str]] | None = None,
        cost_centers: Iterable[tuple[str, str]] | None = None,
        rate_limit: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rate_limit = rate_limit
        self.clock = clock
        self.rate_limited_count = 0
        self.echo_secret_in_errors = False
        self._window: list[float] = []
        self.contractcode = contractcode
        self.username = username
        self.password = password
        self.trial = trial
        self.trial_cap = trial_cap
        self.latency = latency
        self.role_id = role_id
        #: (accountid, accountnumber, accountdescription); "accountnumber" in invoice_add is the id
        self.accounts = list(
            accounts
            or [
                ("1", "NL91ABNA0417164300", "Bank"),
                ("2", "", "PayPal"),
                ("3", "NL20INGB0001234567", "Mollie"),
                ("4", "", "Kas"),
            ]
        )
        self.cost_centers = list(cost_centers or [("1", "Webwinkel A"), ("2", "Webwinkel B")])
        self._account_ids = {account[0] for account in self.accounts}
        self._cost_center_ids = {center[0] for center in self.cost_centers}
        self.invoices: dict[str, BookedInvoice] = {}
        self.concepts: dict[str, BookedInvoice] = {}
        self.requests: Counter[str] = Counter()
        self.request_count = 0
        self._tokens: dict[str, str] = {}
        self._contacts: dict[str, str] = {}
        self._numbers: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._next_entry = 55_390_000 + seed % 1000
        self._next_contact = 9_320_000
        self._next_concept = 1_004_700
        self._lock = threading.RLock()
        self._fail: list[tuple[int, float | None]] = []
        self._accept_fail: list[int] = []
        self._malform: list[str] = []
        self._random: RandomFaults | None = None
        self.wsgi: Callable[..., Iterable[bytes]] = self._app
        self._handlers: dict[str, Callable[[Any, _Reply], None]] = {
            "invoices/invoice_add": self._invoice_add,
            "invoices/invoice_concept_info": self._concept_info,
            "invoices/invoice_paymentstatus_get": self._paymentstatus_get,
            "invoices/invoice_paymentstatus_set": self._paymentstatus_set,
            "entry/entry_info": self._entry_info,
            "entry/entry_deletestatus_set": self._deletestatus_set,
            "picklists/picklist_accounts": self._picklist_accounts,
            "picklists/picklist_costcenters": self._picklist_costcenters,
            "general/general_about": self._general_about,
            "general/my_acumulus": self._my_acumulus,
            "lookups/lookup_vatinfo": self._lookup_vatinfo,
        }

    # -- knobs and inspection ------------------------------------------------------------

    def valid_credentials(self) -> dict[str, str]:
        return {
            "contractcode": self.contractcode,
            "username": self.username,
            "password": self.password,
            "emailonerror": "fouten@example.nl",
        }

    def fail_next(self, status: int = 503, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (HTML, not processed)."""
        with self._lock:
            self._fail.extend([(status, retry_after)] * times)

    def accept_then_fail_next(self, status: int = 502, times: int = 1) -> None:
        """Book the next ``times`` invoice_add requests, then answer ``status`` instead."""
        with self._lock:
            self._accept_fail.extend([status] * times)

    def malform_next(self, kind: str = "html", times: int = 1) -> None:
        """Process the next request, then send ``kind``: "html", "truncated" JSON or "empty" (200)."""
        with self._lock:
            self._malform.extend([kind] * times)

    def random_faults(self, rate: float | None = 0.2, **options: Any) -> RandomFaults | None:
        """From now on fail ``rate`` of all requests in a random mode (5xx, 429, timeouts, drips,
        dropped connections; see ``connectors.simfaults``); ``None`` or 0 turns it off. Returns the
        injector (its ``injected`` counts what was done)."""
        with self._lock:
            self._random = RandomFaults(rate, **options) if rate else None
            return self._random

    def reset_faults(self) -> None:
        with self._lock:
            self._fail.clear()
            self._accept_fail.clear()
            self._malform.clear()
            self._random = None

    def entries_with_description_containing(self, text: str) -> list[BookedInvoice]:
        """Booked, not deleted entries whose description contains ``text`` (for test assertions)."""
        return [inv for inv in self.invoices.values() if text in inv.description and not inv.deleted]

    def entry_by_token(self, token: str) -> BookedInvoice | None:
        entryid = self._tokens.get(token)
        return self.invoices.get(entryid) if entryid else None

    # -- WSGI ------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answers ``latency`` seconds after the request arrived (its own work included)."""
        arrived = time.monotonic()
        try:
            if self._random is not None:
                return self._random(environ, start_response, self._answer)
            return self._answer(environ, start_response)
        finally:
            if self.latency:
                time.sleep(max(0.0, self.latency - (time.monotonic() - arrived)))

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            self.request_count += 1
            if self._fail:
                status, retry_after = self._fail.pop(0)
                headers = [("Content-Type", "text/html; charset=utf-8")]
                if retry_after is not None:
                    headers.append(("Retry-After", str(int(retry_after))))
                return self._send(
                    start_response, status, headers, _html(status, _REASONS.get(status, "Error"))
                )
            match = _PATH.search(environ.get("PATH_INFO", ""))
            if not match or match.group(2) not in self._handlers:
                return self._send(
                    start_response, 404, [("Content-Type", "text/html")], _html(404, "Not Found")
                )
            function = match.group(2)
            self.requests[function] += 1
            if function == "invoices/invoice_add" and self.rate_limit is not None:
                wait = self._take_slot()
                if wait is not None:
                    self.rate_limited_count += 1
                    headers = [("Content-Type", "text/html; charset=utf-8"), ("Retry-After", str(wait))]
                    return self._send(start_response, 429, headers, _html(429, "Too Many Requests"))
            return self._handle(function, environ, start_response)

    def _take_slot(self) -> int | None:
        """A slot of the rolling-window limit, or the whole seconds until one frees up."""
        count, period = self.rate_limit  # type: ignore[misc]
        now = self.clock()
        self._window = [t for t in self._window if t > now - period]
        if len(self._window) >= count:
            return max(1, int(self._window[0] + period - now + 0.999))
        self._window.append(now)
        return None

    def _handle(
        self, function: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        reply = _Reply()
        xml = self._xmlstring(environ)
        if xml is None:
            reply.error("SIMXMLS01", "No xmlstring or xmlfile received. Unable to proceed.")
            return self._render(start_response, reply, "xml")
        try:
            root = etree.fromstring(xml, parser=_PARSER)
        except etree.XMLSyntaxError as exc:
            reply.error("SIMXMLP01", f"Invalid XML received: {exc}. Unable to proceed.")
            return self._render(start_response, reply, "xml")
        fmt = (root.findtext("format") or "xml").strip().lower()
        if fmt not in ("json", "xml"):
            fmt = "xml"
        nl = (root.findtext("lang") or "en").strip().lower() == "nl"
        contract = root.find("contract")
        if contract is None:
            if function not in _NO_CONTRACT:
                message = (
                    "Verplichte contract sectie ontbreekt" if nl else "Mandatory contract section missing"
                )
                reply.error("AF1001MCS", message, code=_FORBIDDEN, status=403)
                return self._render(start_response, reply, fmt)
        elif not self._authenticated(contract):
            message = (
                "Onjuiste inloggegevens: contractcode, gebruikersnaam of wachtwoord"
                if nl
                else "Invalid credentials: contractcode, username or password"
            )
            if self.echo_secret_in_errors:
                message += f" (received {contract.findtext('contractcode')}/{contract.findtext('password')})"
            reply.error("SIMAUTH01", message, code=_FORBIDDEN, status=403)
            return self._render(start_response, reply, fmt)
        accept_fail = function == "invoices/invoice_add" and bool(self._accept_fail)
        self._handlers[function](root, reply)
        if self.echo_secret_in_errors and reply.errors:
            echo = f" [contract {self.contractcode}, password {self.password}]"
            reply.errors = [(code, tag, message + echo) for code, tag, message in reply.errors]
        if accept_fail and not reply.errors:
            status = self._accept_fail.pop(0)
            return self._send(
                start_response,
                status,
                [("Content-Type", "text/html")],
                _html(status, _REASONS.get(status, "Error")),
            )
        if self._malform:
            kind = self._malform.pop(0)
            if kind == "truncated":
                body = self._encode(reply, "json")[:40]
                return self._send(start_response, 200, [("Content-Type", "application/json")], body)
            if kind == "empty":
                return self._send(start_response, 200, [("Content-Type", "application/json")], b"")
            return self._send(
                start_response,
                200,
                [("Content-Type", "text/html")],
                b"<html><body>Service temporarily redirected</body></html>",
            )
        return self._render(start_response, reply, fmt)

    @staticmethod
    def _xmlstring(environ: dict[str, Any]) -> bytes | None:
        content_type = environ.get("CONTENT_TYPE", "")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if content_type.startswith("multipart/form-data"):
            match = _BOUNDARY.search(content_type)
            if not match:
                return None
            for part in body.split(b"--" + match.group(1).encode()):
                head, sep, content = part.partition(b"\r\n\r\n")
                if sep and b'name="xmlstring"' in head:
                    return content[:-2] if content.endswith(b"\r\n") else content
            return None
        if body:
            values = parse_qs(body.decode("utf-8", "replace")).get("xmlstring")
        else:
            values = parse_qs(environ.get("QUERY_STRING", "")).get("xmlstring")
        return values[0].encode() if values else None

    def _authenticated(self, contract: Any) -> bool:
        return (
            (contract.findtext("contractcode") or "").strip() == self.contractcode
            and (contract.findtext("username") or "").strip() == self.username
            and (contract.findtext("password") or "") == self.password
        )

    @staticmethod
    def _encode(reply: _Reply, fmt: str) -> bytes:
        body = dict(reply.main)
        body["errors"] = _messages(reply.errors, "error")
        body["warnings"] = _messages(reply.warnings, "warning")
        body["status"] = "1" if reply.errors else ("2" if reply.warnings else "0")
        if fmt == "json":
            return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        out = ['<?xml version="1.0" encoding="UTF-8"?>']
        _xml_out("response", body, out)
        return "".join(out).encode()

    def _render(self, start_response: Callable[..., Any], reply: _Reply, fmt: str) -> Iterable[bytes]:
        content_type = (
            "application/json; charset=utf-8" if fmt == "json" else "application/xml; charset=utf-8"
        )
        return self._send(
            start_response, reply.status, [("Content-Type", content_type)], self._encode(reply, fmt)
        )

    @staticmethod
    def _send(
        start_response: Callable[..., Any], status: int, headers: list[tuple[str, str]], body: bytes
    ) -> Iterable[bytes]:
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        return [body]

    # -- invoices --------------------------------------------------------------------------

    def _invoice_add(self, root: Any, reply: _Reply) -> None:
        testmode = (root.findtext("testmode") or "0").strip() == "1"
        customer = root.find("customer")
        if customer is None:
            reply.error("SIMCUST01", "Missing mandatory customer section. Unable to proceed.")
            return
        invoice = customer.find("invoice")
        if invoice is None:
            reply.error("SIMINVC01", "Missing mandatory invoice section. Unable to proceed.")
            return
        cust = {
            child.tag: (child.text or "").strip()
            for child in customer
            if isinstance(child.tag, str) and child.tag != "invoice"
        }
        inv = {
            child.tag: (child.text or "").strip()
            for child in invoice
            if isinstance(child.tag, str) and child.tag not in ("line", "emailaspdf")
        }
        if cust.get("type", "1") not in ("1", "2", "3"):
            reply.error("SIMCUST02", f"Invalid customer type {cust['type']!r}; use 1, 2 or 3.")
        if cust.get("vattypeid", "1") not in ("", "1", "2"):
            reply.error("SIMCUST03", f"Invalid vattypeid {cust['vattypeid']!r}; use 1 or 2.")
        country = cust.get("countrycode", "NL").upper() or "NL"
        if len(country) != 2 or not country.isalpha():
            reply.error("SIMCTRY01", f"Invalid countrycode {country!r}; use ISO 3166-1 alpha-2.")
        concept = inv.get("concept", "0") or "0"
        if concept not in ("0", "1"):
            reply.error("SIMCNCP01", f"Invalid concept value {concept!r}; use 0 or 1.")
        try:
            vattype = int(inv.get("vattype") or 1)
        except ValueError:
            vattype = 0
        if vattype not in range(1, 8):
            reply.error("SIMVATT01", f"Invalid vattype {inv.get('vattype')!r}; use 1 to 7.")
        issuedate = inv.get("issuedate") or dt.date.today().isoformat()
        if not _valid_date(issuedate):
            reply.error(
                "SIMDATE01",
                f"Incorrect date range (2000-01-01 to 2099-12-31) or invalid date "
                f"format (YYYY-MM-DD) used in issuedate field. We received: {issuedate}.",
            )
            issuedate = dt.date.today().isoformat()
        costcenter = inv.get("costcenter", "")
        if costcenter and costcenter not in self._cost_center_ids:
            reply.error("SIMCOST01", f"Unknown costcenter {costcenter}; see picklist_costcenters.")
        account = inv.get("accountnumber", "")
        if account and account not in self._account_ids:
            reply.error("SIMACCT01", f"Unknown accountnumber {account}; see picklist_accounts (accountid).")
        paymentstatus = inv.get("paymentstatus") or "1"
        if paymentstatus not in ("1", "2"):
            reply.error("SIMPAYS01", f"Invalid paymentstatus {paymentstatus!r}; use 1 (due) or 2 (paid).")
        paymentdate = inv.get("paymentdate", "")
        if paymentdate and not _valid_date(paymentdate):
            reply.error(
                "DATE590ZW",
                "Incorrect date range (2000-01-01 to 2099-12-31) or invalid date "
                f"format (YYYY-MM-DD) used in paymentdate field. We received: {paymentdate}.",
            )
        if paymentstatus == "2" and not paymentdate:
            paymentdate = issuedate
        if vattype == 3:
            if not cust.get("vatnumber"):
                reply.error("SIMICP001", "vattype 3 (EU reversed) requires the customer's vatnumber.")
            if country == "NL" or country not in _EU_RATES:
                reply.error(
                    "SIMICP002", f"vattype 3 (EU reversed) requires an EU customer outside NL, not {country}."
                )
        if vattype == 6 and (country == "NL" or country not in _EU_RATES):
            reply.error("SIMOSS001", f"vattype 6 (EU VAT) requires an EU customer outside NL, not {country}.")
        if vattype in (1, 5):
            allowed = _NL_RATES if issuedate >= "2019-01-01" else _NL_RATES_BEFORE_2019
        elif vattype in (2, 3, 4):
            allowed = _ZERO_ONLY
        elif vattype == 6:
            allowed = _EU_RATES.get(country, frozenset()) | _ZERO_ONLY
        else:
            allowed = frozenset()  # 7: any non-negative rate
        lines: list[dict[str, str]] = []
        total_ex = total_vat = Decimal(0)
        for number, line in enumerate(invoice.iterfind("line"), start=1):
            fields = {child.tag: (child.text or "").strip() for child in line if isinstance(child.tag, str)}
            unit = _dec(fields.get("unitprice"))
            rate = _dec(fields.get("vatrate"))
            quantity = _dec(fields.get("quantity"))
            if unit is None:
                reply.error("SIMLINE02", f"Line {number}: missing or invalid mandatory unitprice.")
            if rate is None:
                reply.error("SIMLINE03", f"Line {number}: missing or invalid mandatory vatrate.")
            elif vattype in range(1, 8) and (rate not in allowed if allowed else rate < 0):
                reply.error(
                    "SIMVATR01",
                    f"Line {number}: vatrate {fields.get('vatrate')} is not valid "
                    f"for vattype {vattype}" + (f" and country {country}" if vattype == 6 else "") + ".",
                )
            if quantity is None:
                reply.error("SIMLINE04", f"Line {number}: missing or invalid mandatory quantity.")
            nature = fields.get("nature", "")
            if nature and nature not in ("Product", "Service"):
                reply.error("SIMLINE05", f"Line {number}: invalid nature {nature!r}; use Product or Service.")
            if unit is not None and quantity is not None and rate is not None:
                amount = (unit * quantity).quantize(_CENT, ROUND_HALF_UP)
                total_ex += amount
                if rate > 0:
                    total_vat += (amount * rate / 100).quantize(_CENT, ROUND_HALF_UP)
            lines.append(fields)
        if not lines:
            reply.error("SIMLINE01", "Invoice has no line; at least one line is mandatory.")
        if not inv.get("description"):
            reply.warnings.append(
                ("601", "SIMDESC01", "Invoice without description; it is hard to find back.")
            )
        if reply.errors:
            return
        if self.trial and concept == "0" and len(self.invoices) >= self.trial_cap:
            reply.error(
                "SIMTRIAL1",
                f"Maximum aantal boekingen voor dit proefaccount bereikt ({self.trial_cap}). Zet het "
                "proefaccount om in een abonnement om verder te boeken. / Maximum number of entries for "
                "this trial account reached; convert the trial into a subscription.",
            )
            return
        year = issuedate[:4]
        if testmode:
            reply.main["invoice"] = {
                "invoicenumber": [],
                "token": [],
                "entryid": [],
                "contactid": [],
                "conceptid": [],
            }
            return
        self._numbers[year] += 1
        invoicenumber = f"{year}{self._numbers[year]:04d}"
        contactid = self._contact(cust)
        booked = BookedInvoice(
            entryid="",
            conceptid="",
            invoicenumber=invoicenumber,
            token="",
            contactid=contactid,
            description=inv.get("description", ""),
            descriptiontext=inv.get("descriptiontext", ""),
            issuedate=issuedate,
            vattype=vattype,
            costcenter=costcenter,
            accountnumber=account,
            paymentstatus=paymentstatus,
            paymentdate=paymentdate if paymentstatus == "2" else "",
            total_ex=total_ex,
            total_inc=total_ex + total_vat,
            customer=cust,
            lines=lines,
            invoicenotes=inv.get("invoicenotes", ""),
            template=inv.get("template", ""),
        )
        if concept == "1":
            self._next_concept += 1
            booked.conceptid = str(self._next_concept)
            self.concepts[booked.conceptid] = booked
            reply.main["invoice"] = {
                "invoicenumber": invoicenumber,
                "token": [],
                "entryid": [],
                "contactid": contactid,
                "conceptid": booked.conceptid,
            }
            return
        self._next_entry += 1
        booked.entryid = str(self._next_entry)
        booked.token = "".join(self._rng.choices(_TOKEN_CHARS, k=32))
        self.invoices[booked.entryid] = booked
        self._tokens[booked.token] = booked.entryid
        reply.main["invoice"] = {
            "invoicenumber": invoicenumber,
            "token": booked.token,
            "entryid": booked.entryid,
            "contactid": contactid,
            "conceptid": [],
        }

    def _contact(self, cust: dict[str, str]) -> str:
        key = cust.get("contactyourid") or cust.get("email") or ""
        if key and cust.get("disableduplicates", "0") == "1" and key in self._contacts:
            return self._contacts[key]
        self._next_contact += 1
        contactid = str(self._next_contact)
        if key:
            self._contacts.setdefault(key, contactid)
        return contactid

    def finalise_concept(self, conceptid: str) -> BookedInvoice:
        """Test helper: the user turns a concept into a definitive invoice in Acumulus."""
        with self._lock:
            booked = self.concepts[conceptid]
            self._next_entry += 1
            booked.entryid = str(self._next_entry)
            booked.token = "".join(self._rng.choices(_TOKEN_CHARS, k=32))
            self.invoices[booked.entryid] = booked
            self._tokens[booked.token] = booked.entryid
            return booked

    def _concept_info(self, root: Any, reply: _Reply) -> None:
        conceptid = (root.findtext("conceptid") or "").strip()
        booked = self.concepts.get(conceptid)
        if booked is None:
            reply.error("FGY040XX", f"Requested concept {conceptid} not found.")
        elif not booked.entryid:
            reply.error(
                "FGYBSN040",
                f"Requested invoice for concept {conceptid} not found: No definitive "
                "invoice has yet been created for this concept.",
            )
        else:
            reply.main["concept"] = {"conceptid": conceptid, "entryid": booked.entryid}

    def _paymentstatus_get(self, root: Any, reply: _Reply) -> None:
        token = (root.findtext("token") or "").strip()
        booked = self.entry_by_token(token)
        if booked is None:
            reply.error("XGYTTNF04", f"Requested invoice for {token} not found.", code=_NOT_FOUND, status=404)
            return
        reply.main["invoice"] = self._payment_block(booked)

    def _paymentstatus_set(self, root: Any, reply: _Reply) -> None:
        token = (root.findtext("token") or "").strip()
        status = (root.findtext("paymentstatus") or "").strip()
        date = (root.findtext("paymentdate") or "").strip()
        booked = self.entry_by_token(token)
        if booked is None:
            reply.error("XGYTTNF04", f"Requested invoice for {token} not found.", code=_NOT_FOUND, status=404)
            return
        if status not in ("1", "2"):
            reply.error("SIMPAYS01", f"Invalid paymentstatus {status!r}; use 1 (due) or 2 (paid).")
            return
        if status == "2" and not date:
            reply.error("DATE590ZW", "Missing mandatory paymentdate field. Unable to proceed.")
            return
        if date and not _valid_date(date):
            reply.error(
                "DATE590ZW",
                "Incorrect date range (2000-01-01 to 2099-12-31) or invalid date format "
                f"(YYYY-MM-DD) used in paymentdate field. We received: {date}. Unable to proceed.",
            )
            return
        booked.paymentstatus = status
        booked.paymentdate = date if status == "2" else ""
        reply.main["invoice"] = self._payment_block(booked)

    @staticmethod
    def _payment_block(booked: BookedInvoice) -> dict[str, Any]:
        return {
            "entryid": booked.entryid,
            "token": booked.token,
            "paymentstatus": booked.paymentstatus,
            "paymentdate": booked.paymentdate or [],
        }

    # -- entries ---------------------------------------------------------------------------

    def _entry_info(self, root: Any, reply: _Reply) -> None:
        entryid = (root.findtext("entryid") or "").strip()
        booked = self.invoices.get(entryid)
        if booked is None:
            reply.error(
                "XGYBSN000",
                f"Requested invoice for entry {entryid} not found: {entryid} does not exist.",
                code=_NOT_FOUND,
                status=404,
            )
            return
        reply.main["entry"] = booked.entry_block()

    def _deletestatus_set(self, root: Any, reply: _Reply) -> None:
        entryid = (root.findtext("entryid") or "").strip()
        value = (root.findtext("entrydeletestatus") or "").strip()
        if value not in ("0", "1"):
            reply.error("XCM7ELO12", f"Invalid entrydeletestatus value supplied: {value}.")
            return
        booked = self.invoices.get(entryid)
        wanted_deleted = value == "1"
        if booked is None or bool(booked.deleted) == wanted_deleted:
            reply.error(
                "P2XFELO12",
                f"Requested for entryid: {entryid} not found or forbidden.",
                code=_NOT_FOUND,
                status=404,
            )
            return
        booked.deleted = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S") if wanted_deleted else ""
        reply.main["entry"] = {"entryid": entryid, "entryproc": "removed" if wanted_deleted else "recovered"}

    # -- picklists, general, lookups ---------------------------------------------------------

    def _picklist_accounts(self, root: Any, reply: _Reply) -> None:
        reply.main["accounts"] = (
            {
                "account": _one_or_many(
                    [
                        {
                            "accountid": aid,
                            "accountnumber": number or {},
                            "accountdescription": text or {},
                            "accounttypeid": "1",
                        }
                        for aid, number, text in self.accounts
                    ]
                )
            }
            if self.accounts
            else {}
        )

    def _picklist_costcenters(self, root: Any, reply: _Reply) -> None:
        reply.main["costcenters"] = (
            {
                "costcenter": _one_or_many(
                    [{"costcenterid": cid, "costcentername": name} for cid, name in self.cost_centers]
                )
            }
            if self.cost_centers
            else {}
        )

    _ROLES = {
        1: "Beheerder",
        2: "Gebruiker",
        3: "Invoerder",
        4: "API-beheerder",
        5: "API-gebruiker",
        6: "API-invoerder",
    }

    def _general_about(self, root: Any, reply: _Reply) -> None:
        reply.main["general"] = {
            "about": "Acumulus API (simulator)",
            "tree": "stable",
            "role": self._ROLES.get(self.role_id, "API-gebruiker"),
            "roleid": str(self.role_id),
        }
        if self.role_id < 4:
            reply.warnings.append(
                (
                    "553",
                    "XUPR7NEC8",
                    "Warning: You are using a deprecated user role to "
                    "connect to the Acumulus API. Please add another user with an "
                    "API-compliant role or change the role for the current user.",
                )
            )

    def _my_acumulus(self, root: Any, reply: _Reply) -> None:
        entries = len(self.invoices)
        reply.main["mydata"] = {
            "mycontractcode": self.contractcode,
            "mycompanyname": "Simulator B.V.",
            "myentries": str(entries),
            "mymaxentries": str(self.trial_cap) if self.trial else "-1",
            "myentriesleft": str(max(0, self.trial_cap - entries)) if self.trial else "-1",
            "mystatusid": "0",
            "mydebt": "0.00",
        }

    def _lookup_vatinfo(self, root: Any, reply: _Reply) -> None:
        country = (root.findtext("vatcountry") or "").strip().upper()
        date = (root.findtext("vatdate") or "").strip()
        rates = EU_VAT.get(country, ())
        if country == "NL" and date and date < "2019-01-01":
            rates = ("21", "6")
        if not rates:
            reply.main["vatinfo"] = {}
            return
        reply.main["vatinfo"] = {
            "vat": _one_or_many(
                [
                    {"vattype": "normal" if index == 0 else "reduced", "vatrate": f"{Decimal(rate):.4f}"}
                    for index, rate in enumerate(rates)
                ]
            )
        }
