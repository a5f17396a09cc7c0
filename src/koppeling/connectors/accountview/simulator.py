"""A local imitation of the AccountView.net REST API v3 (``https://www.accountview.net/api/v3``).

Endpoints: ``POST /api/v3/token`` (OAuth2 ``authorization_code`` / ``refresh_token`` grants, client
credentials in the form body; refresh tokens rotate), ``GET /api/v3/Companies``,
``GET /api/v3/accountviewsystembusinessobjects`` (the user's Insert/Update/DeleteAllowed per object),
``GET /api/v3/accountviewfields?BusinessObject=``, and the generic ``GET|POST /api/v3/AccountViewData``
for AR1 (debtors, CONTACT), CON, AK1 (articles with stock: QTY_TECH, QTY_AVAIL, QTY_RES, QTY_FREE2,
QTY_BESTEL), AG1, ADDR (DEL_ADDR), SO1 (sales orders, SO_HDR + SO_LINE), DJ2/DJ2P (journal pages,
DJ_PAGE + DJ_LINE), DJ1, GL1, VA1. Every data call needs ``Authorization: Bearer`` and
``X-Company``; rights are per user and business object (R, I, U, D). Paths and parameter names are
case-insensitive, as the public clients use both spellings. Facts and their status:
``docs/connectors/accountview.md``.

Usage::

    sim = AccountViewSimulator(clock=fake_clock)
    sim.seed()
    creds = sim.valid_credentials()          # client id/secret, tokens, company_id
    http = httpx.Client(transport=httpx.WSGITransport(app=sim.wsgi), base_url="http://sim")
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from ..jsonbody import encode
from ._company import AVError, Company, E, Posted, business_object
from ._filters import FilterProblem, build_filters, sorter
from ._seed import load_reference, seed_company
from ._tables import BUSINESS_OBJECTS, TABLES, BusinessObject, render_value

__all__ = ["MALFORM_KINDS", "AccountViewSimulator", "WriteRecord"]

MALFORM_KINDS = frozenset({"not_json", "truncated", "empty_body", "wrong_shape"})
_REASONS = {
    200: "OK",
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
_VERBS = {
    "R": "gegevens op te vragen",
    "I": "records toe te voegen",
    "U": "records te wijzigen",
    "D": "records te verwijderen",
}
_PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One POST to AccountViewData as the simulator saw it."""

    at: float
    method: str
    path: str
    status: int
    body: Any
    user: str
    company: str


@dataclass(slots=True)
class _Token:
    value: str
    user: str
    expires_at: float | None
    used_at: float | None = None
    revoked: bool = False


class _Plain(Exception):
    def __init__(self, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = list(headers)


class AccountViewSimulator:
    """AccountView.net with one or more administrations and a set of users, in memory."""

    def __init__(
        self,
        *,
        client_id: str = "koppeling-accountview-sim",
        client_secret: str = "sim-accountview-secret-0001",  # noqa: S107 - a simulator credential
        seed: int = 2026,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        access_token_lifetime: float = 3600.0,
        refresh_token_lifetime: float | None = None,
        rotate_refresh_tokens: bool = True,
        rate_limit: tuple[int, float] | None = None,
        users: Mapping[str, Mapping[str, str]] | None = None,
        companies: Iterable[tuple[str, str]] = (("KOPP", "Koppeling Demo B.V."),),
        case_sensitive_filters: bool = True,
        auto_number_debtors: bool = True,
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
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.rate_limit = rate_limit
        self.case_sensitive_filters = case_sensitive_filters
        self.echo_secret_in_errors = echo_secret_in_errors
        self.server_online = True
        self.rights: dict[str, dict[str, str]] = {
            u: dict(r) for u, r in (users or {"koppeling": {"*": "RIUD"}}).items()
        }
        self.companies: dict[str, Company] = {}
        for code, description in companies:
            ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://accountview.sim/company/{code}"))
            company = Company(ident, code, description, self._now, auto_number_debtors=auto_number_debtors)
            load_reference(company)
            self.companies[ident] = company
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, tuple[str, str]] = {}
        self._window: deque[float] = deque()
        self._faults: deque[tuple[int, float | None]] = deque()
        self._malform: deque[str] = deque()
        self.writes: list[WriteRecord] = []
        self.token_requests: list[dict[str, Any]] = []
        self.request_count = 0

    # ------------------------------------------------------------ knobs and state

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(tzinfo=None, microsecond=0)

    @property
    def company_id(self) -> str:
        return next(iter(self.companies))

    @property
    def company(self) -> Company:
        return self.companies[self.company_id]

    def seed(self, debtors: int = 20, articles: int = 30, sales_orders: int = 5, invoices: int = 5) -> None:
        """Deterministic demo data in every administration."""
        with self._lock:
            for offset, company in enumerate(self.companies.values()):
                seed_company(
                    company,
                    seed=self.seed_value + offset,
                    debtors=debtors,
                    articles=articles,
                    sales_orders=sales_orders,
                    invoices=invoices,
                )

    def set_rights(self, user: str, business_object: str, letters: str) -> None:
        """``letters`` out of R (read), I (insert), U (update), D (delete); ``*`` = every object."""
        with self._lock:
            self.rights.setdefault(user, {})[business_object.upper()] = letters.upper()

    def issue_tokens(self, user: str = "koppeling") -> dict[str, Any]:
        """What the authorization-code flow yields for ``user``."""
        with self._lock:
            if user not in self.rights:
                raise KeyError(f"unknown user {user!r}")
            return self._grant(user)

    def valid_credentials(self, user: str = "koppeling") -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "company_id": self.company_id,
            **self.issue_tokens(user),
        }

    def new_authorization_code(
        self, user: str = "koppeling", redirect_uri: str = "https://koppeling.example/oauth/callback"
    ) -> str:
        with self._lock:
            code = secrets.token_urlsafe(24)
            self._codes[code] = (user, redirect_uri)
            return code

    def fail_next(self, status: int = 503, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` without processing them."""
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

    def set_stock(
        self,
        art_code: str,
        technical: Decimal | int,
        *,
        on_order: Decimal | int | None = None,
        company: str | None = None,
    ) -> None:
        """Book a stock count (as a goods receipt or count in AccountView would)."""
        with self._lock:
            target = self.companies[company or self.company_id]
            article = target.articles[art_code]
            article["QTY_TECH"] = Decimal(technical)
            if on_order is not None:
                article["QTY_BESTEL"] = Decimal(on_order)
            article["CNG_DATE"] = self._now()
            target.refresh_stock()

    def deliver_order(self, ord_nr: str, company: str | None = None) -> None:
        """Deliver a sales order in full: the reservation ends and technical stock goes down."""
        with self._lock:
            target = self.companies[company or self.company_id]
            order = target.orders[ord_nr]
            for line in order["_lines"]:
                target.articles[line["ART_CODE"]]["QTY_TECH"] -= line["ORD_QTY"] - line["DEL_QTY"]
                line["DEL_QTY"] = line["ORD_QTY"]
            order["ORD_STAT"] = 1
            order["CNG_DATE"] = self._now()
            target.refresh_stock()

    # ------------------------------------------------------------ WSGI

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.latency:
            time.sleep(self.latency)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        route = path.rstrip("/").lower()
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        raw = self._read(environ)
        with self._lock:
            self.request_count += 1
            if self._faults:
                status, retry_after = self._faults.popleft()
                headers = [("Retry-After", str(int(retry_after)))] if retry_after is not None else []
                title = f"{status} {_REASONS.get(status, 'Error')}"
                body = (
                    f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>".encode()
                )
                return self._send(start_response, status, body, headers, "text/html; charset=utf-8")
            user = company_id = ""
            headers = []
            try:
                if route == "/api/v3/token":
                    status, payload = self._token(method, raw, environ)
                else:
                    user = self._authenticate(environ)
                    self._check_rate()
                    company_id = environ.get("HTTP_X_COMPANY", "")
                    status, payload = self._api(method, route, query, raw, user, company_id)
            except AVError as exc:
                message = exc.message
                if self.echo_secret_in_errors:
                    message += f" (Authorization: {environ.get('HTTP_AUTHORIZATION', '')})"
                status = exc.status
                payload = {
                    "ErrorType": "AccountViewError",
                    "ErrorNumbers": exc.numbers,
                    "ErrorMessage": message,
                }
            except _Plain as exc:
                status, payload, headers = exc.status, exc.payload, exc.headers
            if method == "POST" and route == "/api/v3/accountviewdata":
                self.writes.append(
                    WriteRecord(self.clock(), method, path, status, self._parsed(raw), user, company_id)
                )
            body = encode(payload) if payload is not None else b""
            if status == 200 and self._malform:
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
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers],
        )
        return [body]

    @staticmethod
    def _spoil(kind: str, body: bytes) -> bytes:
        if kind == "not_json":
            return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        if kind == "empty_body":
            return b""
        if kind == "truncated":
            return body[: max(1, len(body) // 2)]
        return b'{"Result":"unavailable"}'

    # ------------------------------------------------------------ OAuth2

    def _grant(self, user: str) -> dict[str, Any]:
        now = self.clock()
        access = _Token(f"sim-av-at-{secrets.token_hex(16)}", user, now + self.access_token_lifetime)
        refresh = _Token(
            f"sim-av-rt-{secrets.token_hex(16)}",
            user,
            now + self.refresh_token_lifetime if self.refresh_token_lifetime else None,
        )
        self._access[access.value] = access
        self._refresh[refresh.value] = refresh
        return {
            "access_token": access.value,
            "token_type": "bearer",
            "expires_in": int(self.access_token_lifetime),
            "refresh_token": refresh.value,
        }

    def _token(self, method: str, raw: bytes, environ: Mapping[str, Any]) -> tuple[int, Any]:
        if method != "POST":
            raise _Plain(405, {"Message": f"The requested resource does not support http method '{method}'."})
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if not client_id and auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = secret = ""
        grant_type = form.get("grant_type", "")
        record = {"at": self.clock(), "grant_type": grant_type, "status": 200}
        self.token_requests.append(record)

        def fail(error: str) -> tuple[int, Any]:
            record["status"] = 400
            body = {"error": error}
            if self.echo_secret_in_errors:
                body["error_description"] = f"client_id={client_id} client_secret={secret}"
            return 400, body

        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            return fail("invalid_client")
        if grant_type == "authorization_code":
            entry = self._codes.pop(form.get("code", ""), None)
            if entry is None or entry[1] != form.get("redirect_uri"):
                return fail("invalid_grant")
            return 200, self._grant(entry[0])
        if grant_type != "refresh_token":
            return fail("unsupported_grant_type")
        now = self.clock()
        token = self._refresh.get(form.get("refresh_token", ""))
        if token is None or token.revoked or (token.expires_at is not None and now >= token.expires_at):
            return fail("invalid_grant")
        if self.rotate_refresh_tokens:
            if token.used_at is not None:
                return fail("invalid_grant")
            token.used_at = now
        return 200, self._grant(token.user)

    def _authenticate(self, environ: Mapping[str, Any]) -> str:
        header = environ.get("HTTP_AUTHORIZATION", "")
        value = header[7:].strip() if header.lower().startswith("bearer ") else ""
        token = self._access.get(value)
        if (
            token is None
            or token.revoked
            or (token.expires_at is not None and self.clock() >= token.expires_at)
        ):
            message = _DENIED + (f" ({header})" if self.echo_secret_in_errors and header else "")
            raise _Plain(401, {"Message": message}, [("WWW-Authenticate", "Bearer")])
        return token.user

    def _check_rate(self) -> None:
        if not self.rate_limit:
            return
        limit, per = self.rate_limit
        now = self.clock()
        while self._window and now - self._window[0] >= per:
            self._window.popleft()
        if len(self._window) >= limit:
            wait = max(1, int(per - (now - self._window[0]) + 0.999))
            raise _Plain(
                429,
                {
                    "ErrorType": "AccountViewError",
                    "ErrorNumbers": None,
                    "ErrorMessage": "Too many requests (simulator limit).",
                },
                [("Retry-After", str(wait))],
            )
        self._window.append(now)

    # ------------------------------------------------------------ rights

    def _letters(self, user: str, bo: BusinessObject) -> str:
        rights = self.rights.get(user, {})
        return rights.get(bo.code, rights.get("*", ""))

    def _require_right(self, user: str, bo: BusinessObject, letter: str) -> None:
        if letter not in self._letters(user, bo) or (letter != "R" and not bo.writable):
            raise AVError(
                403,
                E.NO_RIGHT,
                f"Gebruiker {user} heeft geen rechten om {_VERBS[letter]} in {bo.description} ({bo.code}).",
            )

    def _company_for(self, user: str, company_id: str) -> Company:
        if not company_id:
            raise AVError(400, E.NO_COMPANY, "Geen onderneming opgegeven (header X-Company ontbreekt).")
        company = self.companies.get(company_id)
        if company is None or not self.rights.get(user):
            raise AVError(
                403, E.NO_COMPANY, f"Onderneming {company_id} is niet beschikbaar voor gebruiker {user}."
            )
        if not self.server_online:
            raise AVError(
                503,
                E.SERVER_OFFLINE,
                f"De AccountView-server van onderneming {company.code} is niet bereikbaar.",
            )
        return company

    # ------------------------------------------------------------ API

    def _api(
        self, method: str, route: str, query: dict[str, str], raw: bytes, user: str, company_id: str
    ) -> tuple[int, Any]:
        if route == "/api/v3/companies":
            if method != "GET":
                raise _Plain(
                    405, {"Message": f"The requested resource does not support http method '{method}'."}
                )
            return 200, [
                {"Id": c.ident, "Description": c.description, "Code": c.code} for c in self.companies.values()
            ]
        if route not in (
            "/api/v3/accountviewdata",
            "/api/v3/accountviewsystembusinessobjects",
            "/api/v3/accountviewfields",
        ):
            raise _Plain(
                404, {"Message": f"No HTTP resource was found that matches the request URI '{route}'."}
            )
        allowed = "GET POST" if route.endswith("accountviewdata") else "GET"
        if method not in allowed.split():
            raise _Plain(405, {"Message": f"The requested resource does not support http method '{method}'."})
        company = self._company_for(user, company_id)
        params = {k.lower(): v for k, v in query.items()}
        if route.endswith("businessobjects"):
            out = []
            for bo in BUSINESS_OBJECTS.values():
                letters = self._letters(user, bo)
                if "R" in letters:
                    out.append(
                        {
                            "Code": bo.code,
                            "Description": bo.description,
                            "InsertAllowed": bo.writable and "I" in letters,
                            "UpdateAllowed": bo.writable and "U" in letters,
                            "DeleteAllowed": bo.writable and "D" in letters,
                        }
                    )
            return 200, out
        if route.endswith("fields"):
            bo = business_object(params.get("businessobject", ""))
            self._require_right(user, bo, "R")
            rows = [
                {
                    "FLD_DESC": c.description,
                    "FIELD_NAME": c.name,
                    "DBF_NAME": table,
                    "FIELD_LEN": c.length,
                    "FIELD_TYPE": c.type,
                    "INP_MAND": c.mandatory,
                    "FLD_FMT": "!" if c.upper else "",
                    "COM_BLK": c.readonly,
                }
                for table in (bo.table, *bo.details)
                for c in TABLES[table].values()
            ]
            return 200, {"DCT_FLD": rows}
        if method == "GET":
            return 200, self._read_data(company, params, query, user)
        return 200, self._post_data(company, raw, user)

    def _read_data(
        self, company: Company, params: Mapping[str, str], query: Mapping[str, str], user: str
    ) -> Any:
        bo = business_object(params.get("businessobject", ""))
        self._require_right(user, bo, "R")
        try:
            size = int(params.get("pagesize") or 100)
            number = int(params.get("pagenumber") or 1)
        except ValueError:
            raise AVError(
                400, E.BAD_PARAMETER, "PageSize en PageNumber moeten gehele getallen zijn."
            ) from None
        if size < 1 or number < 1:
            raise AVError(400, E.BAD_PARAMETER, "PageSize en PageNumber moeten groter dan 0 zijn.")
        size = min(size, _PAGE_MAX)
        tables = (bo.table, *bo.details)
        try:
            predicate = build_filters(query, tables, case_sensitive=self.case_sensitive_filters)
            order = sorter(query, bo.table, bo.key)
        except FilterProblem as exc:
            raise AVError(400, E.BAD_PARAMETER, str(exc)) from None
        records = list(company.store(bo).values())
        details_of = {id(r): {bo.details[0]: r.get("_lines", [])} for r in records} if bo.details else {}
        try:
            records = [r for r in records if predicate(r, details_of.get(id(r), {}))]
        except FilterProblem as exc:
            raise AVError(400, E.BAD_PARAMETER, str(exc)) from None
        records = order(records)
        last_key = params.get("lastkey")
        if last_key and not params.get("sortfields"):
            records = [r for r in records if str(r.get(bo.key) or "").upper() > last_key.upper()]
        chunk = records[(number - 1) * size : number * size]
        fields = self._fields(params.get("fields", ""), tables)
        out: dict[str, Any] = {
            bo.table: [self._render(bo.table, r, fields, i) for i, r in enumerate(chunk, 1)]
        }
        for detail in bo.details:
            lines = [line for r in chunk for line in r.get("_lines", [])]
            out[detail] = [self._render(detail, line, fields, i) for i, line in enumerate(lines, 1)]
        for extra in bo.extra:
            out[extra] = []
        return out

    @staticmethod
    def _fields(text: str, tables: tuple[str, ...]) -> dict[str, list[str]] | None:
        names = [part.strip().upper() for part in text.split(",") if part.strip()]
        if not names or names == ["*"]:
            return None
        chosen: dict[str, list[str]] = {}
        for name in names:
            table, _, field_name = name.rpartition(".")
            homes = [table] if table in tables else [t for t in tables if field_name in TABLES[t]]
            if not homes or field_name not in TABLES[homes[0]]:
                raise AVError(400, E.UNKNOWN_FIELD, f"Onbekend veld in Fields: {name}")
            chosen.setdefault(homes[0], []).append(field_name)
        return chosen

    @staticmethod
    def _render(table: str, row: Mapping[str, Any], fields: dict[str, list[str]] | None, index: int) -> dict:
        columns = TABLES[table]
        if fields is None:
            out = {name: render_value(column, row.get(name)) for name, column in columns.items()}
            out.update(EXT_KEY=0, **{f"{table}_Id": index})
            return out
        wanted = fields.get(table) or []
        return {name: render_value(columns[name], row.get(name)) for name in wanted}

    def _post_data(self, company: Company, raw: bytes, user: str) -> Any:
        body = self._parsed(raw)
        if not isinstance(body, Mapping):
            raise AVError(400, E.INVALID, "De aanvoer is geen geldig JSON-object.")
        top = {str(k).lower(): v for k, v in body.items()}
        bo = business_object(str(top.get("businessobject") or ""))
        if not bo.writable:
            raise AVError(
                400, E.INVALID, f"{bo.description} ({bo.code}) kan niet via de Web-API worden gewijzigd."
            )
        table = {str(k).lower(): v for k, v in (top.get("table") or {}).items()}
        data = {str(k).lower(): v for k, v in (top.get("tabledata") or {}).items()}
        header_rows = {str(k).lower(): v for k, v in (data.get("data") or {}).items()}.get("rows")
        headers = Company.parse_rows(bo.table, table.get("definition"), header_rows, detail=False)
        detail_defs = table.get("detaildefinitions") or []
        detail_data = data.get("detaildata") or []
        lines_by_header: dict[str, list[dict[str, Any]]] = {}
        if detail_defs and not bo.details:
            raise AVError(400, E.INVALID, f"{bo.code} heeft geen regeltabel.")
        for index, definition in enumerate(detail_defs[:1]):
            entry = detail_data[index] if index < len(detail_data) else {}
            rows = {str(k).lower(): v for k, v in (entry or {}).items()}.get("rows")
            for _, header_id, values in Company.parse_rows(bo.details[0], definition, rows, detail=True):
                if not header_id and len(headers) == 1:
                    header_id = headers[0][0]
                lines_by_header.setdefault(header_id, []).append(values)
        known = {row_id for row_id, _, _ in headers}
        orphans = set(lines_by_header) - known
        if orphans:
            raise AVError(
                400, E.INVALID, f"Regels verwijzen naar onbekende HeaderId: {', '.join(sorted(orphans))}."
            )
        posted = [Posted(row_id, values, lines_by_header.get(row_id, [])) for row_id, _, values in headers]
        book_date = self._now().date()
        if top.get("bookdate"):
            try:
                book_date = dt.datetime.fromisoformat(str(top["bookdate"]).replace("Z", "")[:19]).date()
            except ValueError:
                raise AVError(400, E.INVALID, f"Ongeldige BookDate: {top['bookdate']}") from None
        stored = company.post(bo, posted, book_date, lambda letter: self._require_right(user, bo, letter))
        return {
            name: [self._render(name, row, None, i) for i, row in enumerate(rows, 1)]
            for name, rows in stored.items()
        }
