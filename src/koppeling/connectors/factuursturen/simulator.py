"""A local imitation of the Factuursturen.nl REST API v1, as a plain WSGI app.

Same paths (``/api/v1/clients``, ``/invoices``, ``/invoices_payment/{nr}``, ``/search/{area}/{field}/
{value}``, ``/taxes``, …), HTTP Basic auth (account user name + API key), form-encoded bracket keys
or JSON bodies, ``201`` with the new number as plain text, single objects wrapped as
``{"client": …}``/``{"invoice": …}``, strings for scalars, ``lines``/``taxes``/``history`` keyed
line1/tax1/item1, and ``X-RateLimit-Remaining`` on every answer; over the limit it answers ``403``
with ``X-RateLimit-Remaining: 0`` (what the public clients test for). Texts of error bodies are not
public and are invented here. Facts, sources and inferences: ``docs/connectors/factuursturen.md``.

>>> import httpx
>>> sim = FactuursturenSimulator(clock=lambda: 1_767_268_800.0)  # 2026-01-01 12:00 UTC
>>> sorted(sim.valid_credentials())
['api_key', 'username']
>>> http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url="http://fs.sim",
...                     auth=(sim.username, sim.api_key))
>>> nr = http.post("/api/v1/clients", data={"contact": "Jan Jansen", "email": "jan@example.nl"}).text
>>> r = http.post("/api/v1/invoices", data={"clientnr": nr, "action": "send", "sendmethod": "mail",
...     "alreadypaid": "full", "reference[line1]": "Bestelling WA1001",
...     "lines[0][amount]": "4", "lines[0][description]": "Appels", "lines[0][tax_rate]": "21",
...     "lines[0][price]": "13"})
>>> r.status_code, r.text, r.headers["X-RateLimit-Remaining"]
(201, '20260001', '59')
>>> invoice = http.get("/api/v1/invoices/20260001").json()["invoice"]
>>> invoice["totalintax"], invoice["open"], invoice["taxes"]["tax1"]
('62.92', '0.00', {'rate': 21, 'sum': '10.92', 'sum_of': '52.00'})
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl

from .sim_http import ApiAnswer, BodyError, dec, dumps, page, parse_body, truthy
from .sim_invoices import InvoiceRoutes, pdf
from .sim_model import (
    CLIENT_BOOLEANS,
    CLIENT_DEFAULTS,
    CLIENT_ENUMS,
    COUNTRIES,
    DEFAULT_TAXES,
    StoredInvoice,
    resolve_country,
)

__all__ = ["MALFORM_KINDS", "FactuursturenSimulator", "Write"]

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SINGLE = {"clients": "client", "products": "product", "invoices": "invoice"}
MALFORM_KINDS = frozenset({"html", "truncated", "empty", "list"})
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class Write:
    """One mutating request that passed authentication: what a test can assert on."""

    method: str
    path: str
    resource: str
    id: str  # the target id, or the id created by a successful POST ("" when none)
    status: int


def _html(status: int) -> bytes:
    title = f"{status} {_REASONS.get(status, 'Error')}"
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode()


class FactuursturenSimulator(InvoiceRoutes):
    """One Factuursturen account, in memory, behind ``sim.wsgi``.

    State: ``clients`` (clientnr -> the client object as ``GET`` shows it), ``invoices`` (id ->
    ``StoredInvoice``, sent invoices), ``saved`` (concepts and repeated invoices), ``products``,
    ``taxes``; ``writes`` logs every authenticated mutating request. Limits: ``invoice_limit_per_hour``
    invoice creations and optionally ``request_limit_per_hour`` requests, per account, per clock
    hour (``window="rolling"`` for a sliding hour), on the injected ``clock`` (epoch seconds).
    Knobs: ``latency``, ``fail_next``, ``accept_then_fail_next``, ``malform_next``,
    ``echo_secret_in_errors``, ``revoke_key``. Counters: ``request_count``, ``requests``,
    ``rate_limited_count``.
    """

    def __init__(
        self,
        *,
        username: str = "koppeling-demo",
        api_key: str = "fs-sim-key-0123456789abcdefghijklmnopqrstuv",
        invoice_limit_per_hour: int = 60,
        request_limit_per_hour: int | None = None,
        window: str = "clock",
        send_retry_after: bool = False,
        clock: Callable[[], float] | None = None,
        latency: float = 0.0,
        invoice_prefix: str = "",
        seed: int = 2026,
    ) -> None:
        if window not in ("clock", "rolling"):
            raise ValueError("window must be 'clock' or 'rolling'")
        self.username = username
        self.api_key = api_key
        self.invoice_limit_per_hour = invoice_limit_per_hour
        self.request_limit_per_hour = request_limit_per_hour
        self.window = window
        self.send_retry_after = send_retry_after
        self.clock: Callable[[], float] = clock or time.time
        self.latency = latency
        self.invoice_prefix = invoice_prefix
        self.echo_secret_in_errors = False
        self.clients: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, StoredInvoice] = {}
        self.saved: dict[int, StoredInvoice] = {}
        self._invoice_numbers: dict[str, int] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.taxes: list[dict[str, str]] = [
            {"percentage": str(p), "type": t, "default": "true" if d else "false", "country": c}
            for p, t, d, c in DEFAULT_TAXES
        ]
        self.profiles = [{"id": "1", "name": "Standaard", "default": "true"}]
        self.categories = [
            {"id": "1", "name": "Omzet webwinkel", "ledger": "8000"},
            {"id": "2", "name": "Omzet diensten", "ledger": "8100"},
        ]
        self.writes: list[Write] = []
        self.requests: Counter[str] = Counter()
        self.request_count = 0
        self.rate_limited_count = 0
        self._revoked = False
        self._rng = random.Random(seed)
        self._seq: Counter[str] = Counter()
        self._next_saved = 1
        self._invoice_hits: deque[float] = deque()
        self._request_hits: deque[float] = deque()
        self._fail: deque[tuple[int, float | None]] = deque()
        self._accept_fail: deque[int] = deque()
        self._malform: deque[str] = deque()
        self._lock = threading.RLock()

    # -- knobs and test helpers --------------------------------------------------------------

    def valid_credentials(self) -> dict[str, str]:
        """What a connection needs: ``{"username": ..., "api_key": ...}`` (HTTP Basic user/password)."""
        return {"username": self.username, "api_key": self.api_key}

    def fail_next(self, status: int = 503, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` and an HTML page, processing nothing."""
        with self._lock:
            self._fail.extend([(status, retry_after)] * times)

    def accept_then_fail_next(self, status: int = 502, times: int = 1) -> None:
        """Carry out the next ``times`` mutating requests, then answer ``status`` instead."""
        with self._lock:
            self._accept_fail.extend([status] * times)

    def malform_next(self, kind: str = "html", times: int = 1) -> None:
        """Carry out the next request, then spoil its 2xx answer: html, truncated, empty or list."""
        if kind not in MALFORM_KINDS:
            raise ValueError(f"unknown malformation {kind!r}; known: {', '.join(sorted(MALFORM_KINDS))}")
        with self._lock:
            self._malform.extend([kind] * times)

    def reset_faults(self) -> None:
        with self._lock:
            self._fail.clear()
            self._accept_fail.clear()
            self._malform.clear()

    def revoke_key(self) -> None:
        """The user unticks "Active" on the key: every request now answers 401."""
        with self._lock:
            self._revoked = True

    def add_client(self, **fields: Any) -> int:
        """Put a client in the account directly (it existed before koppeling; not in ``writes``)."""
        with self._lock:
            record = self._client_record({k: str(v) for k, v in fields.items()}, None)
            return int(record["clientnr"])

    def seed_clients(self, n: int, seed: int = 2026) -> list[int]:
        """``n`` existing Dutch clients from Faker nl_NL with a fixed seed; returns their numbers."""
        from faker import Faker

        fake = Faker("nl_NL")
        fake.seed_instance(seed)
        numbers = []
        for index in range(n):
            first, last = fake.first_name(), fake.last_name()
            local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
            local = local.encode("ascii", "ignore").decode() or "klant"
            numbers.append(
                self.add_client(
                    contact=f"{first} {last}",
                    company=fake.company() if index % 4 == 0 else "",
                    address=fake.street_address(),
                    zipcode=fake.postcode(),
                    city=fake.city(),
                    country="146",
                    phone=fake.phone_number()[:13],
                    email=f"{local}{index}@{fake.free_email_domain()}",
                )
            )
        return numbers

    def invoices_by_reference(self, text: str) -> list[StoredInvoice]:
        """Sent invoices with ``text`` in one of their reference lines (test assertions)."""
        with self._lock:
            return [inv for inv in self.invoices.values() if any(text in line for line in inv.reference)]

    def invoice_by_reference(self, text: str) -> StoredInvoice | None:
        """The one sent invoice whose reference lines contain ``text``; ValueError on a duplicate."""
        found = self.invoices_by_reference(text)
        if len(found) > 1:
            raise ValueError(f"{len(found)} invoices carry reference {text!r}: {[i.id for i in found]}")
        return found[0] if found else None

    def client_writes(self) -> list[Write]:
        """Mutating requests on existing clients (PUT/PATCH/DELETE): koppeling must make none."""
        return [w for w in self.writes if w.resource == "clients" and w.method != "POST"]

    # -- rate limits -----------------------------------------------------------------------

    def _window_start(self, now: float) -> float:
        return now - 3600 if self.window == "rolling" else now - now % 3600

    def _used(self, hits: deque[float], now: float) -> int:
        start = self._window_start(now)
        rolling = self.window == "rolling"
        while hits and (hits[0] <= start if rolling else hits[0] < start):
            hits.popleft()
        return len(hits)

    def _reset_in(self, hits: deque[float], now: float) -> int:
        if self.window == "rolling" and hits:
            return max(1, int(hits[0] + 3600 - now + 0.999))
        return max(1, int(3600 - now % 3600 + 0.999))

    def _remaining(self, now: float, *, invoice: bool) -> int:
        if self.request_limit_per_hour is not None:
            left = self.request_limit_per_hour - self._used(self._request_hits, now)
            if invoice:
                left = min(left, self.invoice_limit_per_hour - self._used(self._invoice_hits, now))
            return max(0, left)
        return max(0, self.invoice_limit_per_hour - self._used(self._invoice_hits, now))

    def _refuse(self, hits: deque[float], now: float, what: str) -> None:
        self.rate_limited_count += 1
        headers = [("X-RateLimit-Remaining", "0")]
        if self.send_retry_after:
            headers.append(("Retry-After", str(self._reset_in(hits, now))))
        raise ApiAnswer(403, f"API limit reached: {what}. Try again later.", headers)

    # -- WSGI -------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI entry point (``httpx.WSGITransport(app=sim.wsgi)``)."""
        if self.latency:
            time.sleep(self.latency)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        with self._lock:
            self.request_count += 1
            if self._fail:
                status, retry_after = self._fail.popleft()
                headers = [("Content-Type", "text/html; charset=utf-8")]
                if retry_after is not None:
                    headers.append(("Retry-After", str(int(retry_after))))
                return self._send(start_response, status, headers, _html(status))
            status, content_type, payload, headers = self._handle(method, path, environ, body)
            if method in _MUTATING and 200 <= status < 300 and self._accept_fail:
                status = self._accept_fail.popleft()
                return self._send(start_response, status, [("Content-Type", "text/html")], _html(status))
            if 200 <= status < 300 and self._malform:
                payload, content_type = self._spoil(self._malform.popleft(), payload, content_type)
        return self._send(start_response, status, [("Content-Type", content_type), *headers], payload)

    __call__ = wsgi

    @staticmethod
    def _send(start_response: Callable[..., Any], status: int, headers: list, body: bytes) -> list[bytes]:
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}", [*headers, ("Content-Length", str(len(body)))]
        )
        return [body]

    @staticmethod
    def _spoil(kind: str, payload: bytes, content_type: str) -> tuple[bytes, str]:
        if kind == "html":
            return b"<html><body><h1>Onderhoud</h1>We zijn zo terug.</body></html>", "text/html"
        if kind == "empty":
            return b"", content_type
        if kind == "truncated":
            return payload[: max(0, len(payload) // 2)], content_type
        return b"[]", "application/json"  # list: an array where an object was due (fs_api's quirk)

    def _credentials(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic" or not token:
            return None
        try:
            user, sep, key = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, key) if sep else None

    def _handle(
        self, method: str, path: str, environ: dict[str, Any], body: bytes
    ) -> tuple[int, str, bytes, list[tuple[str, str]]]:
        now = self.clock()
        creds = self._credentials(environ)
        parts = [p for p in path.split("/") if p]
        resource = parts[2] if len(parts) > 2 else ""
        self.requests[f"{method} {resource}"] += 1
        authed = creds == (self.username, self.api_key) and not self._revoked
        target = parts[3] if len(parts) > 3 else ""
        try:
            if parts[:2] != ["api", "v1"] or not resource:
                raise ApiAnswer(404, f"Unknown API call: {path}")
            if not authed:
                raise ApiAnswer(
                    401,
                    "Authentication failed: wrong username or API key.",
                    [("WWW-Authenticate", 'Basic realm="FactuurSturen.nl API"')],
                )
            if self.request_limit_per_hour is not None:
                if self._used(self._request_hits, now) >= self.request_limit_per_hour:
                    self._refuse(self._request_hits, now, "maximum number of API calls this hour")
                self._request_hits.append(now)
            status, payload, created = self._route(method, resource, parts[3:], environ, body, now)
            headers = [("X-RateLimit-Remaining", str(self._remaining(now, invoice=resource == "invoices")))]
            if method in _MUTATING:
                self.writes.append(Write(method, path, resource, created or target, status))
            if isinstance(payload, bytes):
                return status, "application/pdf", payload, headers
            if isinstance(payload, str):
                return status, "text/plain; charset=utf-8", payload.encode(), headers
            return status, "application/json; charset=utf-8", dumps(payload).encode(), headers
        except ApiAnswer as answer:
            headers = answer.headers
            if not any(name == "X-RateLimit-Remaining" for name, _ in headers):
                headers = [*headers, ("X-RateLimit-Remaining", str(self._remaining(now, invoice=False)))]
            text = answer.text
            if self.echo_secret_in_errors and creds:
                text += f" (user: {creds[0]}, key: {creds[1]})"
            if method in _MUTATING and authed:
                self.writes.append(Write(method, path, resource, target, answer.status))
            return answer.status, "text/plain; charset=utf-8", text.encode(), headers

    def _route(
        self, method: str, resource: str, rest: list[str], environ: dict[str, Any], body: bytes, now: float
    ) -> tuple[int, Any, str]:
        query = _query(environ)
        data: dict[str, Any] = {}
        if method in ("POST", "PUT", "PATCH"):
            try:
                data = parse_body(body, environ.get("CONTENT_TYPE", ""))
            except BodyError as exc:
                raise ApiAnswer(400, f"Could not read the request: {exc}") from exc
        if resource in ("clients", "products"):
            return self._crud(method, resource, rest, data, query)
        if resource == "invoices":
            if not rest and method == "GET":
                return 200, self._list_invoices(query, now), ""
            if not rest and method == "POST":
                return self._create_invoice(data, now)
            invoice = self._find_invoice(rest[0] if rest else "")
            if method == "GET":
                return 200, {"invoice": invoice.to_api()}, ""
            if method == "DELETE":
                self._forget_invoice(invoice)
                return 200, "", ""
            raise ApiAnswer(405, f"Method {method} is not allowed for invoices/{rest[0]}")
        if resource == "invoices_payment" and rest and method in ("POST", "PUT"):
            return self._payment(self._find_invoice(rest[0]), data)
        if resource == "invoices_pdf" and rest and method == "GET":
            return 200, pdf(self._find_invoice(rest[0])), ""
        if resource in ("invoices_saved", "invoices_repeated"):
            kind = "saved" if resource == "invoices_saved" else "repeated"
            items = [inv for inv in self.saved.values() if inv.kind == kind]
            if not rest and method == "GET":
                return 200, [inv.to_api() for inv in items], ""
            found = next((inv for inv in items if str(inv.id) == (rest[0] if rest else "")), None)
            if found is None:
                raise ApiAnswer(404, f"{resource} {rest[0] if rest else ''} not found")
            if method == "DELETE":
                del self.saved[found.id]
                return 200, "", ""
            return 200, {"invoice": found.to_api()}, ""
        if resource == "search" and method == "GET" and len(rest) >= 3:
            return 200, self._search(rest[0], rest[1], "/".join(rest[2:])), ""
        if method == "GET" and not rest and resource in ("taxes", "profiles", "categories"):
            return (
                200,
                {"taxes": self.taxes, "profiles": self.profiles, "categories": self.categories}[resource],
                "",
            )
        if resource == "countrylist" and method == "GET":
            english = bool(rest) and rest[0] != "nl"
            return (
                200,
                [{"id": cid, "name": names[1 if english else 0]} for cid, names in COUNTRIES.items()],
                "",
            )
        raise ApiAnswer(404, f"Unknown API call: {method} {resource}/{'/'.join(rest)}".rstrip("/"))

    # -- clients and products ------------------------------------------------------------------

    def _crud(
        self, method: str, resource: str, rest: list[str], data: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any, str]:
        store = self.clients if resource == "clients" else self.products
        if not rest:
            if method == "GET":
                return 200, page(list(store.values()), query), ""
            if method == "POST":
                record = (
                    self._client_record(data, None) if resource == "clients" else self._product(data, None)
                )
                number = record["clientnr" if resource == "clients" else "id"]
                return 201, number, number
            raise ApiAnswer(405, f"Method {method} is not allowed for {resource}")
        key = int(rest[0]) if rest[0].isdigit() else -1
        if key not in store:
            raise ApiAnswer(404, f"{_SINGLE[resource].capitalize()} {rest[0]} not found")
        if method == "GET":
            return 200, {_SINGLE[resource]: store[key]}, ""
        if method == "PUT":
            if resource == "clients":
                self._client_record(data, store[key])
            else:
                self._product(data, store[key])
            return 200, "", ""
        if method == "DELETE":
            del store[key]
            return 200, "", ""
        raise ApiAnswer(405, f"Method {method} is not allowed for {resource}/{rest[0]}")

    def _client_record(self, data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        record = (
            dict(existing)
            if existing
            else {**CLIENT_DEFAULTS, "reference": dict(CLIENT_DEFAULTS["reference"])}
        )
        for name, value in data.items():
            if name == "reference" and isinstance(value, dict):
                record["reference"] = {k: str(value.get(k, "")) for k in ("line1", "line2", "line3")}
            elif (
                name in CLIENT_DEFAULTS and name not in ("clientnr", "lastinvoice") and isinstance(value, str)
            ):
                record[name] = value.strip()
        if not record["contact"] and not record["company"]:
            raise ApiAnswer(400, "A client needs a contact or a company name.")
        if record["email"] and not all(_EMAIL.match(p.strip()) for p in record["email"].split(",")):
            raise ApiAnswer(400, f"Invalid e-mail address: {record['email']!r}")
        country = resolve_country(record["country"])
        if country is None:
            raise ApiAnswer(
                400, f"Unknown country: {record['country']!r}. Use an id from countrylist or its name."
            )
        record["country"] = country
        for name, allowed in CLIENT_ENUMS.items():
            if record[name] not in allowed:
                raise ApiAnswer(
                    400, f"Invalid value for {name}: {record[name]!r} ({', '.join(sorted(allowed))})"
                )
        for name in CLIENT_BOOLEANS:
            record[name] = "true" if truthy(record[name]) else "false"
        for name in ("top", "stddiscount"):
            dec(record[name], name)
        if existing is None:
            wanted = str(data.get("clientnr", "")).strip()
            if wanted and (not wanted.isdigit() or int(wanted) in self.clients):
                raise ApiAnswer(400, f"Client number {wanted} already exists or is invalid.")
            number = int(wanted) if wanted else max(self.clients, default=0) + 1
            record["clientnr"] = str(number)
            self.clients[number] = record
        else:
            existing.update(record)
        return record

    def _product(self, data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        record = (
            dict(existing) if existing else {"id": "", "code": "", "name": "", "price": "0", "taxes": "21"}
        )
        for name in ("code", "name", "price", "taxes", "priceintax", "notes"):
            if name in data:
                record[name] = str(data[name]).strip()
        if not record["name"]:
            raise ApiAnswer(400, "A product needs a name.")
        price = dec(record["price"], "price").quantize(Decimal("0.001"), ROUND_HALF_UP)
        rate = self._tax_rate(record["taxes"], "taxes")
        record["price"] = f"{price.normalize():f}"
        if not data.get("priceintax"):
            record["priceintax"] = (
                f"{(price * (100 + rate) / 100).quantize(Decimal('0.001'), ROUND_HALF_UP).normalize():f}"
            )
        if existing is None:
            record["id"] = str(max(self.products, default=0) + 1)
            self.products[int(record["id"])] = record
        else:
            existing.update(record)
        return record

    def _tax_rate(self, value: Any, name: str) -> Decimal:
        rate = dec(value, name)
        rates = {Decimal(tax["percentage"]) for tax in self.taxes}
        if rate not in rates:
            known = ", ".join(sorted({tax["percentage"] for tax in self.taxes}, key=int, reverse=True))
            raise ApiAnswer(400, f"Tax rate {value} is not set in this account (known: {known}).")
        return rate


def _query(environ: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
