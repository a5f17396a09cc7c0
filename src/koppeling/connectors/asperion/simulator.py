"""A local imitation of where the daily Asperion file goes, what Asperion makes of it, and the REST
API that shows the result, as one WSGI app.

Delivery [S, the real channel is not public]: the seed says only that the link's **licence code**
"makes sure the XML file is placed in the merchant's Asperion environment" and that the link
"cannot check the licence code for validity" [V]. So the simulator's drop accepts a file for any
licence code without telling whether it is known::

    PUT  /import/orders/{licence_code}/{file_name}.xml   body: the XML   -> 201 / 200 / 409 / 422
    GET  /import/orders/{licence_code}/{file_name}.xml   -> the file's status and import report
    GET  /import/orders/{licence_code}                   -> every file received for that code

Nothing is imported until the merchant presses "Synchroniseren" (``sim.synchronise()``), or at
once with ``auto_import=True``. Re-delivery is idempotent by file name: the same bytes again change
nothing; other bytes replace a file not yet imported and are refused (409) once it was.

REST read side (api.asperion.nl) [V paths, auth and shapes; omniboost/go-asperion, help.asperion.nl]:
``POST /connect/token`` (OAuth2; client id/secret in the form, grants ``authorization_code`` and
``refresh_token``), then ``Authorization: Bearer`` and optional ``X-Tenant-Id`` on
``GET /v1/administrations``, ``/v1/debtors``, ``/v1/salesinvoiceswithlines[/{id}]``, ``/v1/vatcodes``;
lists as ``{"_data": [...], "_meta": {...}}``, errors as problem+json. With ``rest_writes=True`` also
``POST /v1/debtors`` and ``POST /v1/salesinvoiceswithlines`` (concept invoices, validation errors as
problem+json ``errors`` per field), the second delivery mode (``rest.AsperionRestTarget``).
Facts: ``docs/connectors/asperion.md``.

>>> sim = AsperionSimulator()
>>> sorted(sim.valid_credentials())
['administration_id', 'client_id', 'client_secret', 'licence_code', 'refresh_token']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..jsonbody import encode
from .batch_format import PAYMENT_CODES, BatchFormatError, read_orders_xml
from .importer import (
    CONCEPT,
    FINAL,
    Administration,
    ConceptInvoice,
    Debtor,
    IdSequence,
    ImportReport,
    ImportSettings,
    ReceivedFile,
    import_file,
)

__all__ = ["MALFORM_KINDS", "AsperionSimulator"]

MALFORM_KINDS = frozenset({"html", "truncated", "empty"})
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.xml")
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_VAT_CODES = (  # GET /v1/vatcodes [V field names]; codes and texts [S]
    {"id": "VH", "description": "BTW hoog 21%", "salesCode": True, "percentage": 21, "isDefault": True},
    {"id": "VL", "description": "BTW laag 9%", "salesCode": True, "percentage": 9, "isDefault": False},
    {"id": "V0", "description": "BTW 0%", "salesCode": True, "percentage": 0, "isDefault": False},
)


class _Problem(Exception):
    """An RFC 7807 answer (the API's error style [V go-asperion ErrorResponse])."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.body = {
            "title": title,
            "status": status,
            "detail": detail,
            "traceId": secrets.token_hex(8),
            **extra,
        }
        self.headers: list[tuple[str, str]] = []


class AsperionSimulator:
    """Asperion for one or more administrations, each reached by its licence code."""

    def __init__(
        self,
        *,
        licence_code: str = "SIM-LIC-0001-ASPERION",
        administration_id: int = 21_437,
        administration_name: str = "Koppeling Demowinkel BV",
        client_id: str = "sim-asperion-client",
        client_secret: str = "sim-asperion-secret-0001",  # noqa: S107 - a simulator credential
        refresh_token: str = "sim-asperion-refresh-0001",  # noqa: S107 - a simulator credential
        auto_import: bool = False,
        rest_writes: bool = False,
        validate_on_upload: bool = True,
        payment_codes: Iterable[str] = PAYMENT_CODES,
        max_file_bytes: int = 10 * 1024 * 1024,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.auto_import = auto_import
        #: serve ``POST /v1/debtors`` and ``POST /v1/salesinvoiceswithlines`` (the REST delivery
        #: mode); off, the API is read-only as a batch link uses it (405)
        self.rest_writes = rest_writes
        self.validate_on_upload = validate_on_upload
        self.payment_codes = frozenset(payment_codes)
        self.max_file_bytes = max_file_bytes
        self.latency = latency
        self.clock = clock
        self.ids = IdSequence()
        self.administrations: dict[int, Administration] = {}
        self.files: dict[tuple[str, str], ReceivedFile] = {}
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.codes: set[str] = set()
        self.request_count = 0
        self.requests_by_path: Counter[str] = Counter()
        self._faults: deque[tuple[int, float | str | None, bool]] = deque()
        self._malform: deque[str] = deque()
        self.default_administration = self.add_administration(
            licence_code, administration_name, administration_id
        )

    # ------------------------------------------------------------ knobs and inspection

    def add_administration(self, licence_code: str, name: str, administration_id: int | None = None) -> int:
        with self._lock:
            aid = administration_id or max(self.administrations, default=21_436) + 1
            settings = ImportSettings(payment_codes=self.payment_codes)
            self.administrations[aid] = Administration(aid, name, licence_code, settings)
            return aid

    def administration(self, administration_id: int | None = None) -> Administration:
        return self.administrations[administration_id or self.default_administration]

    @property
    def licence_code(self) -> str:
        return self.administration().licence_code

    def valid_credentials(self) -> dict[str, Any]:
        """The licence code (the daily file's address) and the OAuth client of the REST API."""
        return {
            "licence_code": self.licence_code,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "administration_id": self.default_administration,
        }

    def authorization_code(self) -> str:
        """A one-time code as ``/connect/authorize`` would hand the redirect URI."""
        with self._lock:
            code = secrets.token_urlsafe(16)
            self.codes.add(code)
            return code

    def fail_next(self, status: int = 503, times: int = 1, retry_after: float | str | None = None) -> None:
        """Answer the next ``times`` requests with ``status``; nothing is received or imported."""
        with self._lock:
            self._faults.extend([(status, retry_after, False)] * times)

    def accept_then_fail_next(self, status: int = 502) -> None:
        """Receive the next upload (and import it if ``auto_import``), then answer ``status``."""
        with self._lock:
            self._faults.append((status, None, True))

    def malform_next(self, kind: str = "html") -> None:
        """Spoil the next successful answer (after doing the work): see ``MALFORM_KINDS``."""
        if kind not in MALFORM_KINDS:
            raise ValueError(f"unknown malformation {kind!r}; known: {', '.join(sorted(MALFORM_KINDS))}")
        with self._lock:
            self._malform.append(kind)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._malform.clear()

    def now_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(microsecond=0).isoformat()

    def unclaimed_files(self) -> list[ReceivedFile]:
        """Files delivered under a licence code no administration has: they are never imported."""
        known = {a.licence_code for a in self.administrations.values()}
        return [f for f in self.files.values() if f.licence_code not in known]

    def seed_debtors(self, count: int, *, seed: int = 42, administration_id: int | None = None) -> list[str]:
        """Debtors the administration already has (Faker nl_NL, fixed seed); returns their e-mails."""
        from faker import Faker

        fake = Faker("nl_NL")
        fake.seed_instance(seed)
        with self._lock:
            admin = self.administration(administration_id)
            emails = []
            for _ in range(count):
                first, last = fake.first_name(), fake.last_name()
                local = f"{first}.{last}".lower().replace(" ", "").encode("ascii", "ignore").decode()
                debtor = Debtor(
                    id=self.ids.take("debtor"),
                    customer_number=str(self.ids.take("customer_number")),
                    name=f"{first} {last}",
                    email_address=f"{local}@{fake.free_email_domain()}",
                    address=f"{fake.street_name()} {fake.building_number()}",
                    post_code=fake.postcode(),
                    city=fake.city(),
                    country_code="NL",
                    vat_number="",
                    coc_number="",
                    phone_number=fake.phone_number(),
                    debtor_kind_id=admin.settings.debtor_kind_id,
                    date_added="2024-01-01",
                )
                admin.debtors[debtor.id] = debtor
                emails.append(debtor.email_address)
            return emails

    def synchronise(self, licence_code: str | None = None) -> list[ImportReport]:
        """The merchant presses "Synchroniseren": import every received file, oldest name first."""
        with self._lock:
            code = licence_code or self.licence_code
            admin = next((a for a in self.administrations.values() if a.licence_code == code), None)
            if admin is None:
                return []
            pending = sorted(
                (f for f in self.files.values() if f.licence_code == code and f.status == "received"),
                key=lambda f: f.name,
            )
            return [import_file(admin, f, self.ids, self.now_iso()) for f in pending]

    # ------------------------------------------------------------ WSGI

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI entry point (``httpx.WSGITransport(app=sim.wsgi)``)."""
        if self.latency:
            time.sleep(self.latency)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        ctype = "application/json; charset=utf-8"
        with self._lock:
            self.request_count += 1
            self.requests_by_path[path] += 1
            fault = self._faults.popleft() if self._faults else None
            try:
                if fault and not fault[2]:
                    raise _Problem(fault[0], _REASONS.get(fault[0], "Error"), "Injected failure (simulator)")
                status, payload = self._dispatch(method, path, query, environ)
                if fault:  # accept_then_fail_next: the work is done, the answer is lost
                    raise _Problem(fault[0], _REASONS.get(fault[0], "Error"), "Injected failure (simulator)")
                headers: list[tuple[str, str]] = []
            except _Problem as exc:
                status, payload, headers = exc.status, exc.body, exc.headers
                ctype = "application/problem+json; charset=utf-8"
                if fault and fault[1] is not None:
                    headers.append(("Retry-After", str(fault[1])))
            body = encode(payload)
            if status < 300 and self._malform:
                kind = self._malform.popleft()
                body = {"html": b"<html><body><h1>502 Bad Gateway</h1></body></html>", "empty": b""}.get(
                    kind, body[: len(body) // 2]
                )
        out = [("Content-Type", ctype), ("Content-Length", str(len(body))), *headers]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", out)
        return [body]

    __call__ = wsgi

    def _dispatch(
        self, method: str, path: str, query: Mapping[str, str], environ: Mapping[str, Any]
    ) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["import", "orders"] and len(parts) in (3, 4):
            return self._drop(method, parts[2], parts[3] if len(parts) == 4 else None, environ)
        if parts == ["connect", "token"]:
            if method != "POST":
                raise _Problem(405, "Method Not Allowed")
            return 200, self._token(environ)
        if parts[0] == "v1" and len(parts) in (2, 3):
            creates = self.rest_writes and method == "POST" and len(parts) == 2
            if creates and parts[1].lower() in ("debtors", "salesinvoiceswithlines"):
                admin = self._authorise(environ)
                return 201, self._create(parts[1].lower(), self._json_body(environ), admin)
            if method != "GET":
                raise _Problem(405, "Method Not Allowed", f"{method} is not allowed on {path}")
            admin = self._authorise(environ)
            return 200, self._rest(parts[1:], query, admin)
        raise _Problem(404, "Not Found", f"No route for {method} {path}")

    # ------------------------------------------------------------ the drop

    def _drop(self, method: str, code: str, name: str | None, environ: Mapping[str, Any]) -> tuple[int, Any]:
        if name is None:
            if method != "GET":
                raise _Problem(405, "Method Not Allowed")
            files = sorted((f for f in self.files.values() if f.licence_code == code), key=lambda f: f.name)
            return 200, {"_data": [f.as_api() for f in files], "_meta": {"totalCount": len(files)}}
        if not _FILE_NAME.fullmatch(name):
            raise _Problem(400, "Bad Request", "File name: letters, digits, '.', '_', '-', ending in .xml")
        existing = self.files.get((code, name))
        if method == "GET":
            if existing is None:
                raise _Problem(404, "Not Found", f"No file {name}")
            return 200, existing.as_api()
        if method != "PUT":
            raise _Problem(405, "Method Not Allowed")
        body = self._read_body(environ)
        digest = hashlib.sha256(body).hexdigest()
        if existing is not None and existing.sha256 == digest:
            existing.uploads += 1
            return 200, existing.as_api() | {"duplicate": True}
        if existing is not None and existing.status != "received":
            raise _Problem(
                409, "Conflict", f"{name} was already imported on {existing.imported_at}; use a new file name"
            )
        orders = 0
        if self.validate_on_upload:
            try:
                orders = len(read_orders_xml(body).orders)
            except BatchFormatError as exc:
                raise _Problem(
                    422,
                    "Unprocessable Entity",
                    str(exc),
                    errors={exc.location or "file": [exc.message]},
                    line=exc.line,
                ) from None
        received = ReceivedFile(code, name, body, digest, self.now_iso(), orders)
        if existing is not None:
            received.uploads = existing.uploads + 1
        self.files[(code, name)] = received
        if self.auto_import:
            self.synchronise(code)
        return (200 if existing else 201), received.as_api() | ({"replaced": True} if existing else {})

    def _read_body(self, environ: Mapping[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_file_bytes:
            raise _Problem(413, "Payload Too Large", f"At most {self.max_file_bytes} bytes")
        body = environ["wsgi.input"].read(length) if length else b""
        if not body:
            raise _Problem(400, "Bad Request", "Empty file")
        return body

    # ------------------------------------------------------------ OAuth2 and REST

    def _token(self, environ: Mapping[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode() if length else ""))
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            raise _Problem(400, "invalid_client", error="invalid_client")  # RFC 6749 5.2 [V]
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("refresh_token") == self.refresh_token:
            pass
        elif grant == "authorization_code" and form.get("code") in self.codes:
            self.codes.discard(form["code"])
        else:
            raise _Problem(400, "invalid_grant", error="invalid_grant")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + 3600
        return {
            "access_token": token,
            "expires_in": 3600,
            "token_type": "Bearer",
            "refresh_token": self.refresh_token,
            "scope": "*",
        }

    def _authorise(self, environ: Mapping[str, Any]) -> Administration:
        header = environ.get("HTTP_AUTHORIZATION", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token or self.tokens.get(token, 0) <= self.clock():
            problem = _Problem(401, "Unauthorized", "Missing, unknown or expired access token")
            problem.headers.append(("WWW-Authenticate", 'Bearer error="invalid_token"'))
            raise problem
        tenant = environ.get("HTTP_X_TENANT_ID") or environ.get("HTTP_X_TENANTID")  # both spellings [V]
        if not tenant:
            return self.administration()
        try:
            return self.administrations[int(tenant)]
        except (ValueError, KeyError):
            raise _Problem(403, "Forbidden", f"No access to administration {tenant}") from None

    def _rest(self, parts: list[str], query: Mapping[str, str], admin: Administration) -> Any:
        resource = parts[0].lower()
        if resource == "administrations" and len(parts) == 1:
            rows = [
                {"id": a.id, "name": a.name, "_meta": {"self": f"/v1/administrations/{a.id}"}}
                for a in self.administrations.values()
            ]
            return self._listing(rows, query, admin, "administrations")
        if resource == "vatcodes" and len(parts) == 1:
            return self._listing(
                [dict(v, validFrom=None, validUntil=None, countryCode="NL") for v in _VAT_CODES],
                query,
                admin,
                resource,
            )
        if resource == "debtors":
            debtors = [d.as_api() for d in admin.debtors.values()]
            if len(parts) == 2:
                return self._one(debtors, parts[1])
            filters = {"EmailAddress": "emailAddress", "CustomerNumber": "customerNumber", "Name": "name"}
            for param, key in filters.items():
                if query.get(param):
                    debtors = [d for d in debtors if str(d[key]).casefold() == query[param].casefold()]
            return self._listing(debtors, query, admin, resource)
        if resource == "salesinvoiceswithlines":
            invoices = [i.as_api() for i in admin.invoices.values()]
            if len(parts) == 2:
                return self._one(invoices, parts[1])
            if query.get("DebtorCustomerNumber"):
                invoices = [i for i in invoices if i["debtorCustomerNumber"] == query["DebtorCustomerNumber"]]
            if query.get("Description"):  # substring match [S]: find the order number
                invoices = [
                    i for i in invoices if query["Description"].casefold() in i["description"].casefold()
                ]
            return self._listing(invoices, query, admin, resource)
        raise _Problem(404, "Not Found", f"No resource {'/'.join(parts)}")

    # ------------------------------------------------------------ REST writes [V paths; S rules]

    def _json_body(self, environ: Mapping[str, Any]) -> dict[str, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) if length else b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Problem(400, "Bad Request", "The request body must be a JSON object")
        return body

    @staticmethod
    def _invalid(errors: dict[str, list[str]]) -> _Problem:
        """ASP.NET Core's validation answer (problem+json with ``errors`` per field) [I status 400]."""
        return _Problem(400, "One or more validation errors occurred.", errors=errors)

    def _create(self, resource: str, body: dict[str, Any], admin: Administration) -> dict[str, Any]:
        if resource == "debtors":
            return self._create_debtor(body, admin).as_api()
        return self._create_invoice(body, admin).as_api()

    def _create_debtor(self, body: dict[str, Any], admin: Administration) -> Debtor:
        """``POST /v1/debtors``: a new debtor with the next customer number (never merged)."""
        errors: dict[str, list[str]] = {}
        name = str(body.get("name") or "").strip()
        email = str(body.get("emailAddress") or "").strip()
        if not name:
            errors["name"] = ["The Name field is required."]
        elif len(name) > 100:
            errors["name"] = ["The field Name must be a string with a maximum length of 100."]
        if email and "@" not in email:
            errors["emailAddress"] = ["The EmailAddress field is not a valid e-mail address."]
        country = str(body.get("countryCode") or "NL").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            errors["countryCode"] = ["The field CountryCode must be an ISO 3166-1 alpha-2 code."]
        if errors:
            raise self._invalid(errors)
        debtor = Debtor(
            id=self.ids.take("debtor"),
            customer_number=str(self.ids.take("customer_number")),
            name=name,
            email_address=email,
            address=str(body.get("address") or ""),
            post_code=str(body.get("postCode") or ""),
            city=str(body.get("city") or ""),
            country_code=country,
            vat_number=str(body.get("vatNumber") or ""),
            coc_number=str(body.get("cocNumber") or ""),
            phone_number=str(body.get("phoneNumber") or ""),
            debtor_kind_id=str(body.get("debtorKindId") or admin.settings.debtor_kind_id),
            date_added=self.now_iso()[:10],
        )
        admin.debtors[debtor.id] = debtor
        return debtor

    def _create_invoice(self, body: dict[str, Any], admin: Administration) -> ConceptInvoice:
        """``POST /v1/salesinvoiceswithlines``: a concept sales invoice (no invoice number yet).

        Refused [S]: an unknown debtor, no open book year (a date before 2000 or after next year), an
        unknown VAT code or sales ledger account, no lines, amounts that are not numbers."""
        errors: dict[str, list[str]] = {}
        number = str(body.get("debtorCustomerNumber") or "")
        debtor = next((d for d in admin.debtors.values() if d.customer_number == number), None)
        if debtor is None:
            errors["debtorCustomerNumber"] = [f"Debtor {number!r} does not exist."]
        try:
            date = dt.date.fromisoformat(str(body.get("date") or "")[:10])
        except ValueError:
            date = None
            errors["date"] = ["The Date field is required."]
        this_year = dt.datetime.fromtimestamp(self.clock(), dt.UTC).year
        if date is not None and not 2000 <= date.year <= this_year + 1:
            errors["date"] = [f"There is no open book year for {date.isoformat()}."]
        description = str(body.get("description") or "")
        if len(description) > 255:
            errors["description"] = ["The field Description must be a string with a maximum length of 255."]
        if body.get("status", CONCEPT) not in (CONCEPT, FINAL):
            errors["status"] = ["The Status field is not valid."]
        raw = body.get("lines")
        raw = raw.get("_data") if isinstance(raw, dict) else raw
        if not isinstance(raw, list) or not raw:
            errors["lines"] = ["At least one line is required."]
            raw = []
        codes = set(admin.settings.vat_codes.values())
        accounts = set(admin.settings.sales_types.values())
        lines = []
        for j, line in enumerate(raw):
            where = f"lines[{j}]"
            if not isinstance(line, dict):
                errors[where] = ["A line is an object."]
                continue
            try:
                amount = Decimal(str(line.get("amount")))
                vat = Decimal(str(line.get("vatAmount", 0)))
                if not (amount.is_finite() and vat.is_finite()):
                    raise ArithmeticError
            except ArithmeticError:
                errors[f"{where}.amount"] = ["The Amount and VatAmount fields are numbers."]
                continue
            if line.get("vatCode") not in codes:
                errors[f"{where}.vatCode"] = [f"VAT code {line.get('vatCode')!r} does not exist."]
            if line.get("ledgerAccountId") not in accounts:
                errors[f"{where}.ledgerAccountId"] = [
                    f"Ledger account {line.get('ledgerAccountId')!r} is not a sales account."
                ]
            lines.append(
                {
                    "id": j + 1,
                    "amount": amount,
                    "vatAmount": vat,
                    "vatCode": line.get("vatCode"),
                    "ledgerAccountId": line.get("ledgerAccountId"),
                    "description": str(line.get("description") or "")[:255],
                    "costCenterId": line.get("costCenterId"),
                    "costUnitId": line.get("costUnitId"),
                }
            )
        if errors or debtor is None or date is None:
            raise self._invalid(errors)
        invoice = ConceptInvoice(
            id=self.ids.take("invoice"),
            debtor=debtor,
            date=date,
            description=description,
            order_number="",
            payment_code=str(body.get("paymentMethodId") or ""),
            journal_id=str(body.get("journalId") or admin.settings.journal_id),
            lines=lines,
            source_file="",  # made over REST
            status=int(body.get("status", CONCEPT)),
        )
        admin.invoices[invoice.id] = invoice
        return invoice

    @staticmethod
    def _one(rows: list[dict[str, Any]], rid: str) -> dict[str, Any]:
        row = next((r for r in rows if str(r["id"]) == rid), None)
        if row is None:
            raise _Problem(404, "Not Found", f"No item {rid}")
        return row

    @staticmethod
    def _listing(
        rows: list[dict[str, Any]], query: Mapping[str, str], admin: Administration, resource: str
    ) -> dict[str, Any]:
        try:
            page = max(1, int(query.get("page") or 1))
            size = min(100, max(1, int(query.get("pageSize") or 25)))  # defaults and cap [I]
        except ValueError:
            raise _Problem(
                400, "Bad Request", "page and pageSize are integers", errors={"page": ["not a number"]}
            ) from None
        chosen = rows[(page - 1) * size : page * size]
        pages = max(1, -(-len(rows) // size))
        base = f"/v1/{resource}?pageSize={size}&page="
        return {
            "_data": chosen,
            "_meta": {
                "administrationId": admin.id,
                "administrationName": admin.name,
                "profileName": "koppeling",
                "previousPage": base + str(page - 1) if page > 1 else None,
                "nextPage": base + str(page + 1) if page < pages else None,
                "totalCount": len(rows),
                "pageCount": pages,
                "self": base + str(page),
            },
        }
