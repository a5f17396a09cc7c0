"""A local imitation of the Visma eAccounting API v2 and its identity server, as a WSGI app.

Identity: ``POST /connect/token`` (``refresh_token`` grant with **rotation**: a refresh token can
be exchanged once; ``authorization_code`` for codes from :meth:`EAccountingSimulator.new_authorization_code`),
``POST /connect/revocation``. API: ``/v2/customers``, ``/v2/articles``, ``/v2/orders`` (+ ``/convert``),
``/v2/customerinvoicedrafts`` (+ ``/convert``), ``/v2/customerinvoices``, ``/v2/vatcodes``,
``/v2/termsofpayments``, ``/v2/deliverymethods``, ``/v2/countries``, ``/v2/units``,
``/v2/articleaccountcodings``; OData ``$filter``/``$orderby``, ``$page``/``$pagesize`` with the
``Meta`` block, scopes per endpoint (403 naming the missing scope), modules, the documented 600
requests per minute per client and endpoint (429, ErrorCode 4010) on the injected clock, and the
``ErrorCode``/``DeveloperErrorMessage``/``ErrorId``/``Errors`` bodies. What is verified and what
is inferred: ``docs/connectors/eaccounting.md``.

Usage::

    sim = EAccountingSimulator(clock=fake_clock)
    sim.seed()
    creds = sim.valid_credentials()   # client id/secret + a fresh access and refresh token
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url="http://sim")
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from .. import jsonbody
from ._models import ApiError, field_names
from ._odata import ODataError, compile_filter, order_by
from ._resources import Books, public
from ._seed import load_reference, seed_books

__all__ = ["DEFAULT_SCOPES", "MALFORM_KINDS", "EAccountingSimulator", "WriteRecord"]

DEFAULT_SCOPES = ("ea:api", "offline_access", "ea:sales", "ea:accounting", "ea:purchase")
DEFAULT_MODULES = frozenset({"api_standard", "order_standard"})
MALFORM_KINDS = frozenset({"not_json", "truncated", "empty_body", "wrong_shape"})
_SALES_READ = ("ea:sales", "ea:sales_readonly")
_SALES_WRITE = ("ea:sales",)
_ACCOUNTING_READ = ("ea:accounting", "ea:accounting_readonly")
_TERMS_READ = (*_SALES_READ, "ea:purchase", "ea:purchase_readonly")
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
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
_DENIED = "Authorization has been denied for this request."
_PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One mutating API request as the simulator saw it (for assertions)."""

    at: float
    method: str
    path: str
    status: int
    body: Any
    client_id: str


@dataclass(slots=True)
class _Token:
    value: str
    client_id: str
    scopes: tuple[str, ...]
    family: str
    expires_at: float | None
    used_at: float | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class _Resource:
    """A ``/v2/<name>`` collection: its store, model, scopes and allowed operations."""

    store: str
    model: str
    read: tuple[str, ...]
    write: tuple[str, ...] = _SALES_WRITE
    ops: frozenset[str] = field(default_factory=frozenset)
    module: str | None = None
    paged: bool = True


_RESOURCES = {
    "customers": _Resource("customers", "CustomerApi", _SALES_READ, ops=frozenset("LCGPD")),
    "articles": _Resource("articles", "ArticleApi", _SALES_READ, ops=frozenset("LCGP")),
    "orders": _Resource("orders", "OrderApi", _SALES_READ, ops=frozenset("LCGPDX"), module="order_standard"),
    "customerinvoicedrafts": _Resource(
        "drafts", "CustomerInvoiceDraftApi", _SALES_READ, ops=frozenset("LCGPDX")
    ),
    "customerinvoices": _Resource("invoices", "CustomerInvoiceApi", _SALES_READ, ops=frozenset("LCG")),
    "termsofpayments": _Resource("terms", "TermsOfPaymentApi", _TERMS_READ, ops=frozenset("LG")),
    "deliverymethods": _Resource("delivery_methods", "DeliveryMethodApi", _SALES_READ, ops=frozenset("LG")),
    "countries": _Resource("countries", "CountryApi", _SALES_READ, ops=frozenset("LG")),
    "units": _Resource("units", "UnitApi", _SALES_READ, ops=frozenset("LG")),
    "articleaccountcodings": _Resource(
        "codings", "ArticleAccountCodingAPI", _SALES_READ, ops=frozenset("LG")
    ),
    "vatcodes": _Resource("vat_codes", "VatCode", _ACCOUNTING_READ, ops=frozenset("LG"), paged=False),
}


def _utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(payload: Any) -> bytes:
    return jsonbody.encode(payload)


class EAccountingSimulator:
    """One eAccounting company and one registered API client, in memory (``sim.wsgi``)."""

    def __init__(
        self,
        *,
        client_id: str = "koppeling-eaccounting-sim",
        client_secret: str = "sim-eaccounting-secret-0001",  # noqa: S107 - a simulator credential
        seed: int = 2026,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        access_token_lifetime: float = 3600.0,
        refresh_token_lifetime: float | None = None,
        refresh_reuse_grace: float = 0.0,
        rate_limit: int | None = 600,
        rate_window: float = 60.0,
        send_retry_after: bool = False,
        modules: Iterable[str] = DEFAULT_MODULES,
        stock_module: bool = False,
        country: str = "NL",
        currency: str = "EUR",
        echo_secret_in_errors: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.seed_value = seed
        self.latency = latency
        self.clock = clock
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.refresh_reuse_grace = refresh_reuse_grace
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.send_retry_after = send_retry_after
        self.modules = set(modules)
        self.echo_secret_in_errors = echo_secret_in_errors
        self._rng = random.Random(seed)
        self.books = Books(
            now=lambda: _utc(self.clock()),
            new_id=self._new_id,
            country=country,
            currency=currency,
            stock_module=stock_module,
        )
        load_reference(self.books)
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, tuple[tuple[str, ...], str]] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._faults: deque[tuple[int, float | None]] = deque()
        self._malform: deque[str] = deque()
        self.writes: list[WriteRecord] = []
        self.token_requests: list[dict[str, Any]] = []
        self.request_count = 0

    # ------------------------------------------------------------ knobs and state

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def seed(self, customers: int = 25, articles: int = 30, orders: int = 10, invoices: int = 5) -> None:
        """Deterministic demo data (Faker nl_NL, fixed seed)."""
        with self._lock:
            seed_books(
                self.books,
                seed=self.seed_value,
                customers=customers,
                articles=articles,
                orders=orders,
                invoices=invoices,
            )

    def issue_tokens(self, scopes: Iterable[str] = DEFAULT_SCOPES) -> dict[str, Any]:
        """What a finished authorization-code flow yields: a new access and refresh token."""
        with self._lock:
            return self._grant(tuple(scopes), family=secrets.token_hex(8))

    def valid_credentials(self, scopes: Iterable[str] = DEFAULT_SCOPES) -> dict[str, Any]:
        """Client id and secret plus a fresh token pair (each call starts a new grant)."""
        tokens = self.issue_tokens(scopes)
        return {"client_id": self.client_id, "client_secret": self.client_secret, **tokens}

    def new_authorization_code(
        self,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        redirect_uri: str = "https://koppeling.example/oauth/callback",
    ) -> str:
        """A one-time code as the authorize endpoint would redirect with."""
        with self._lock:
            code = secrets.token_urlsafe(24)
            self._codes[code] = (tuple(scopes), redirect_uri)
            return code

    def fail_next(self, status: int = 503, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` before doing anything (a gateway)."""
        with self._lock:
            self._faults.extend([(status, retry_after)] * times)

    def malform_next(self, kind: str = "not_json") -> None:
        """Process the next successful request, then spoil its body (see ``MALFORM_KINDS``)."""
        if kind not in MALFORM_KINDS:
            raise ValueError(f"unknown malformation {kind!r}; known: {', '.join(sorted(MALFORM_KINDS))}")
        with self._lock:
            self._malform.append(kind)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._malform.clear()

    def revoke_grants(self) -> None:
        """The user disconnects the app: every token stops working."""
        with self._lock:
            for token in [*self._access.values(), *self._refresh.values()]:
                token.revoked = True

    # ------------------------------------------------------------ WSGI

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.latency:
            time.sleep(self.latency)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = {k: v for k, v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
        raw = self._read(environ)
        headers: list[tuple[str, str]] = []
        with self._lock:
            self.request_count += 1
            if self._faults:
                status, retry_after = self._faults.popleft()
                body, content_type = self._fault_body(status)
                if retry_after is not None:
                    headers.append(("Retry-After", str(int(retry_after))))
                return self._send(start_response, status, body, headers, content_type)
            client = ""
            try:
                if path.rstrip("/").lower() in ("/connect/token", "/connect/revocation"):
                    status, payload = self._identity(method, path.rstrip("/").lower(), raw, environ)
                else:
                    client, token = self._authenticate(environ)
                    status, payload, headers = self._api(method, path, query, raw, client, token)
            except ApiError as exc:
                status, payload = exc.status, self._error_body(exc, environ)
            except _Quota as exc:
                status, payload = 429, self._quota_body(exc.seconds)
                headers = [("Retry-After", str(exc.seconds))] if self.send_retry_after else []
            except _Plain as exc:
                status, payload = exc.status, {"Message": exc.message}
                if exc.status == 401:
                    headers = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
            if method in ("POST", "PUT", "DELETE", "PATCH") and path.lower().startswith("/v2/"):
                self.writes.append(WriteRecord(self.clock(), method, path, status, self._parsed(raw), client))
            body = _encode(payload) if payload is not None else b""
            if 200 <= status < 300 and self._malform and payload is not None:
                body = self._spoil(self._malform.popleft(), body)
        return self._send(start_response, status, body, headers)

    __call__ = wsgi

    @staticmethod
    def _read(environ: Mapping[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        return environ["wsgi.input"].read(length) if length > 0 else b""

    @staticmethod
    def _parsed(raw: bytes) -> Any:
        try:
            return json.loads(raw, parse_float=Decimal) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    @staticmethod
    def _send(
        start_response: Callable[..., Any],
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
        content_type: str = "application/json; charset=utf-8",
    ) -> list[bytes]:
        out = [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", out)
        return [body]

    def _fault_body(self, status: int) -> tuple[bytes, str]:
        if status == 429:
            return _encode(self._quota_body(55)), "application/json; charset=utf-8"
        if status >= 500:
            title = f"{status} {_REASONS.get(status, 'Error')}"
            return (
                f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode(),
                "text/html; charset=utf-8",
            )
        return _encode(
            {
                "ErrorCode": 0,
                "DeveloperErrorMessage": "Injected failure (simulator)",
                "ErrorId": self._new_id(),
                "Errors": [],
            }
        ), "application/json; charset=utf-8"

    def _quota_body(self, seconds: int) -> dict[str, Any]:
        # verbatim from developer.vismaonline.com/docs/rate-limits (numbers filled in)
        return {
            "ErrorCode": 4010,
            "DeveloperErrorMessage": f"API calls quota exceeded! maximum admitted {self.rate_limit} per "
            f"Minute. Try again in {seconds} seconds.",
            "ErrorId": self._new_id(),
        }

    def _error_body(self, exc: ApiError, environ: Mapping[str, Any]) -> dict[str, Any]:
        message = exc.message
        if self.echo_secret_in_errors:
            message += f" (request Authorization: {environ.get('HTTP_AUTHORIZATION', '')})"
        return {
            "ErrorCode": exc.code,
            "DeveloperErrorMessage": message,
            "ErrorId": self._new_id(),
            "Errors": exc.errors,
        }

    @staticmethod
    def _spoil(kind: str, body: bytes) -> bytes:
        if kind == "not_json":
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        if kind == "empty_body":
            return b""
        if kind == "truncated":
            return body[: max(1, len(body) // 2)]
        return b'{"Data":null,"Meta":"unavailable"}'

    # ------------------------------------------------------------ identity server

    def _grant(self, scopes: tuple[str, ...], family: str) -> dict[str, Any]:
        now = self.clock()
        access = _Token(
            f"sim-at-{secrets.token_hex(16)}",
            self.client_id,
            scopes,
            family,
            now + self.access_token_lifetime,
        )
        self._access[access.value] = access
        out: dict[str, Any] = {
            "access_token": access.value,
            "expires_in": int(self.access_token_lifetime),
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }
        if "offline_access" in scopes:
            expires = now + self.refresh_token_lifetime if self.refresh_token_lifetime else None
            refresh = _Token(f"sim-rt-{secrets.token_hex(16)}", self.client_id, scopes, family, expires)
            self._refresh[refresh.value] = refresh
            out["refresh_token"] = refresh.value
        return out

    def _identity(self, method: str, path: str, raw: bytes, environ: Mapping[str, Any]) -> tuple[int, Any]:
        if method != "POST":
            return 405, {"error": "invalid_request"}
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id, secret = "", ""
        grant_type = form.get("grant_type", "")
        record = {"at": self.clock(), "path": path, "grant_type": grant_type, "status": 200}
        self.token_requests.append(record)

        def fail(error: str, status: int = 400) -> tuple[int, Any]:
            record["status"] = status
            body = {"error": error}
            if self.echo_secret_in_errors:
                body["error_description"] = (
                    f"client_id={client_id} client_secret={secret} "
                    f"refresh_token={form.get('refresh_token', '')}"
                )
            return status, body

        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return fail("invalid_client")
        if path.endswith("revocation"):
            token = self._refresh.get(form.get("token", "")) or self._access.get(form.get("token", ""))
            if token is not None:
                token.revoked = True
            return 200, None
        if grant_type == "authorization_code":
            entry = self._codes.pop(form.get("code", ""), None)
            if entry is None or entry[1] != form.get("redirect_uri"):
                return fail("invalid_grant")
            return 200, self._grant(entry[0], family=secrets.token_hex(8))
        if grant_type != "refresh_token":
            return fail("unsupported_grant_type")
        now = self.clock()
        token = self._refresh.get(form.get("refresh_token", ""))
        if token is None or token.revoked or (token.expires_at is not None and now >= token.expires_at):
            return fail("invalid_grant")
        if token.used_at is not None and (
            self.refresh_reuse_grace <= 0 or now - token.used_at > self.refresh_reuse_grace
        ):
            return fail("invalid_grant")  # rotation: "the same Refresh Token cannot be used more than once"
        if token.used_at is None:
            token.used_at = now
        return 200, self._grant(token.scopes, token.family)

    # ------------------------------------------------------------ API

    def _authenticate(self, environ: Mapping[str, Any]) -> tuple[str, _Token]:
        header = environ.get("HTTP_AUTHORIZATION", "")
        value = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = self._access.get(value)
        message = _DENIED + (f" ({header})" if self.echo_secret_in_errors and header else "")
        if (
            token is None
            or token.revoked
            or (token.expires_at is not None and self.clock() >= token.expires_at)
        ):
            raise _Plain(401, message)
        return token.client_id, token

    def _check_rate(self, client: str, path: str) -> None:
        if not self.rate_limit:
            return
        key = (client, re.sub(r"/[0-9a-fA-F-]{36}", "/{id}", path.lower().rstrip("/")))
        window = self._windows.setdefault(key, deque())
        now = self.clock()
        while window and now - window[0] >= self.rate_window:
            window.popleft()
        if len(window) >= self.rate_limit:
            raise _Quota(max(1, int(self.rate_window - (now - window[0]) + 0.999)))
        window.append(now)

    def _api(
        self, method: str, path: str, query: dict[str, str], raw: bytes, client: str, token: _Token
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2 or parts[0].lower() != "v2" or parts[1].lower() not in _RESOURCES:
            raise ApiError(404, 3000, f"ResourceNotFound - No HTTP resource was found that matches {path}")
        self._check_rate(client, path)
        resource = _RESOURCES[parts[1].lower()]
        ident = parts[2] if len(parts) > 2 else None
        action = parts[3].lower() if len(parts) > 3 else None
        if len(parts) > 4 or (action is not None and action != "convert"):
            raise ApiError(404, 3000, f"ResourceNotFound - No HTTP resource was found that matches {path}")
        op = {
            ("GET", False): "L",
            ("POST", False): "C",
            ("GET", True): "G",
            ("PUT", True): "P",
            ("DELETE", True): "D",
        }.get((method, ident is not None))
        if action == "convert":
            op = "X" if method == "POST" else None
        if op is None or op not in resource.ops:
            raise _Plain(405, f"The requested resource does not support http method '{method}'.")
        needed = resource.read if op in "LG" else resource.write
        self._check_scopes(token, needed)
        if "api_standard" not in self.modules:
            raise ApiError(403, 4002, "ForbiddenRequestException - No access to module: api_standard")
        if resource.module and resource.module not in self.modules:
            raise ApiError(403, 4002, f"ForbiddenRequestException - No access to module: {resource.module}")
        store: dict[str, dict[str, Any]] = getattr(self.books, resource.store)
        if op == "L":
            return 200, self._list(resource, store, query), []
        if op == "G":
            record = store.get(ident.upper() if resource.store == "countries" else ident.lower())  # type: ignore[union-attr]
            if record is None:
                raise ApiError(
                    404, 3000, f"ResourceNotFound - {resource.model} with id {ident} was not found"
                )
            return 200, public(record), []
        body = self._parsed(raw)
        if op == "D":
            {
                "customers": self.books.delete_customer,
                "orders": self.books.delete_order,
                "drafts": self._delete_draft,
            }[resource.store](ident.lower())  # type: ignore[union-attr]
            return 200, None, []
        if op == "X":
            convert = self.books.convert_order if resource.store == "orders" else self.books.convert_draft
            return 200, public(convert(ident.lower())), []  # type: ignore[union-attr]
        existing = None
        if op == "P":
            existing = store.get(ident.lower())  # type: ignore[union-attr]
            if existing is None:
                raise ApiError(
                    404, 3000, f"ResourceNotFound - {resource.model} with id {ident} was not found"
                )
        save = {
            "customers": self.books.save_customer,
            "articles": self.books.save_article,
            "orders": self.books.save_order,
            "drafts": self.books.save_draft,
        }.get(resource.store)
        if resource.store == "invoices":
            record = self.books.create_invoice(body)
        else:
            assert save is not None
            record = save(body, existing)
        return (201 if op == "C" else 200), public(record), []

    def _delete_draft(self, ident: str) -> None:
        if self.books.drafts.pop(ident, None) is None:
            raise ApiError(
                404, 3000, f"ResourceNotFound - CustomerInvoiceDraft with id {ident} was not found"
            )

    def _check_scopes(self, token: _Token, needed: tuple[str, ...]) -> None:
        if "ea:api" not in token.scopes:
            raise ApiError(403, 4006, "ForbiddenRequestException - No access to scopes: ea:api")
        if not any(scope in token.scopes for scope in needed):
            raise ApiError(403, 4006, f"ForbiddenRequestException - No access to scopes: {', '.join(needed)}")

    def _list(
        self, resource: _Resource, store: Mapping[str, dict[str, Any]], query: Mapping[str, str]
    ) -> Any:
        options = {k.lower(): v for k, v in query.items()}
        records = list(store.values())
        fields = field_names(resource.model)
        try:
            if options.get("$filter") is not None:
                predicate = compile_filter(options["$filter"], fields, resource.model)
                records = [r for r in records if predicate(r)]
            since = options.get("modifiedsinceutc")
            if since and resource.store == "invoices":
                predicate = compile_filter(f"ModifiedUtc gt {since}", fields, resource.model)
                records = [r for r in records if predicate(r)]
            if options.get("$orderby"):
                records = order_by(options["$orderby"], fields, resource.model)(records)
        except ODataError as exc:
            raise ApiError(400, 6000, f"QueryParameterError - {exc}") from None
        if not resource.paged:
            return [public(r) for r in records]
        page, size = self._int(options, "$page", 1), self._int(options, "$pagesize", 50)
        if page < 1 or size < 1 or size > _PAGE_MAX:
            raise ApiError(
                400, 6000, f"QueryParameterError - $page must be >= 1 and $pagesize between 1 and {_PAGE_MAX}"
            )
        total = len(records)
        chunk = records[(page - 1) * size : page * size]
        return {
            "Meta": {
                "CurrentPage": page,
                "PageSize": size,
                "TotalNumberOfPages": (total + size - 1) // size,
                "TotalNumberOfResults": total,
                "ServerTimeUtc": _utc(self.clock()),
            },
            "Data": [public(r) for r in chunk],
        }

    @staticmethod
    def _int(options: Mapping[str, str], name: str, default: int) -> int:
        raw = options.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)  # type: ignore[arg-type]
        except ValueError:
            raise ApiError(400, 6000, f"QueryParameterError - {name} must be an integer") from None


class _Plain(Exception):
    """An ASP.NET-style answer ``{"Message": ...}`` (401 from the auth filter, 405 from routing)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Quota(Exception):
    """The documented 429 (ErrorCode 4010) with the seconds until the window frees up."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds
