"""The AccountView.net connection: tokens, the administration, and ``AccountViewData`` read and
write — everything the connector's capabilities are built on (``client.AccountViewConnector``).

Every data call carries ``X-Company`` (the administration's ``Id`` from ``GET /Companies`` [V
omniboost, ruby]); a 401 renews the token once and repeats the call (nothing was processed).
Reads are keyset-paged by ``lastKey`` [V ruby], writes are one POST of header and detail rows.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from ..base import ConnectionConfig, Connector, CredentialStore
from ..errors import AuthError, ResponseError
from ..http import make_client
from .api import (
    SYSTEM,
    AccountViewCode,
    Filter,
    Tokens,
    filter_params,
    post_body,
    transport_error,
    validate_response,
)
from .translate import percent

__all__ = ["PAGE_DEFAULT", "PAGE_MAX", "AccountViewTransport"]

PAGE_DEFAULT = 200  # the Ruby client's page size [V]
PAGE_MAX = 1000  # [S] the simulator's cap; clients use 10-1000 [V]
_DEFAULT_TZ = "Europe/Amsterdam"  # [I] AccountView stores local times without a zone
_NOT_SECRET = frozenset({"access_token_expires_at", "company_id", "expires_in", "token_type"})


class AccountViewTransport(Connector):
    """The part of the connector that talks to AccountView.net (no capability of its own)."""

    def __init__(
        self,
        config: ConnectionConfig,
        http: httpx.Client | None = None,
        *,
        credential_store: CredentialStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = (config.base_url or self.default_base_url).rstrip("/")
        super().__init__(config, http or make_client(base), credential_store=credential_store)
        options = config.options or {}
        self.base_url = base
        self.page_size = max(1, min(PAGE_MAX, int(options.get("page_size", PAGE_DEFAULT))))
        self.tz = ZoneInfo(str(options.get("timezone") or _DEFAULT_TZ))
        self.tokens = Tokens(self, lambda: f"{self.base_url}/token", clock=clock)
        self._lock = threading.Lock()
        self._company = ""
        self._vat_rates: dict[str, Decimal] | None = None

    # ------------------------------------------------------------ transport

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        mutating: bool = False,
        what: str = "record",
        company: bool = True,
    ) -> Any:
        """One call with a fresh token (renewed once after a 401) and the administration header."""
        url = f"{self.base_url}{path}"
        for attempt in (1, 2):
            token = self.tokens.bearer()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if company:
                headers["X-Company"] = self.company_id()
            try:
                response = self.http.request(method, url, params=params, json=body, headers=headers)
            except httpx.TransportError as exc:
                raise transport_error(exc, f"{method} {path}", mutating=mutating) from None
            if response.status_code == 401 and attempt == 1:
                self.tokens.refresh(token, after_401=True)
                continue
            return validate_response(response, mutating=mutating, what=what)
        raise AssertionError("unreachable")  # pragma: no cover

    def company_id(self) -> str:
        """``company_id`` from the credentials, else the administration ``company_code`` names, else
        the only one the user has."""
        if self._company:
            return self._company
        chosen = str(self.config.credentials.get("company_id") or "")
        if not chosen:
            companies = self.call("GET", "/Companies", company=False)
            code = str((self.config.options or {}).get("company_code") or "").upper()
            rows = [c for c in companies or [] if isinstance(c, dict)]
            hits = [c for c in rows if str(c.get("Code", "")).upper() == code] if code else rows
            if len(hits) != 1:
                detail = f"{len(rows)} administrations, company_code {code or '(none)'}"
                raise AuthError(AccountViewCode.COMPANY_MISSING, {"system": SYSTEM, "detail": detail})
            chosen = str(hits[0].get("Id"))
        self._company = chosen
        return chosen

    def read(
        self,
        business_object: str,
        filters: Sequence[Filter] = (),
        *,
        match_any: bool = False,
        page_size: int | None = None,
        last_key: str = "",
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, list[Any]]:
        """One page of ``GET AccountViewData``: the answer keyed by table name."""
        params = {
            "BusinessObject": business_object,
            "PageSize": str(page_size or self.page_size),
            **filter_params(filters, match_any=match_any),
            **(extra or {}),
        }
        if last_key:
            params["lastKey"] = last_key
        body = self.call("GET", "/AccountViewData", params=params)
        if not isinstance(body, dict) or not all(isinstance(v, list) for v in body.values()):
            raise ResponseError(
                params={"system": SYSTEM, "detail": f"{business_object}: no tables in the answer"}
            )
        return body

    def rows(self, business_object: str, table: str, filters: Sequence[Filter] = (), **kw: Any) -> list[Any]:
        """The rows of one table of one page (see ``read``)."""
        return self.read(business_object, filters, **kw).get(table, [])

    def all_rows(
        self, business_object: str, table: str, key: str, filters: Sequence[Filter] = ()
    ) -> Iterator[Any]:
        """Every row, keyset-paged by ``lastKey`` (the key of the last row) while pages come back
        full [V ruby ``check_next``]: a row changed meanwhile cannot shift another out of sight."""
        last = ""
        while True:
            page = self.rows(business_object, table, filters, last_key=last)
            yield from page
            if len(page) < self.page_size:
                return
            tail = page[-1].get(key) if isinstance(page[-1], dict) else None
            if not tail or str(tail) == last:
                raise ResponseError(
                    params={"system": SYSTEM, "detail": f"{business_object}: paging by {key} stuck"}
                )
            last = str(tail)

    def post(
        self,
        business_object: str,
        table: str,
        types: Mapping[str, str],
        rows: Sequence[Mapping[str, Any]],
        *,
        detail: tuple[str, Mapping[str, str], Sequence[tuple[int, Mapping[str, Any]]]] | None = None,
        what: str,
        book_date: dt.date | None = None,
    ) -> dict[str, list[Any]]:
        """``POST AccountViewData`` with the fields the rows use; the answer: stored rows by table."""
        used = [(name, kind) for name, kind in types.items() if any(name in row for row in rows)]
        detail_arg = None
        if detail is not None:
            name, detail_types, detail_rows = detail
            fields = [(f, k) for f, k in detail_types.items() if any(f in row for _, row in detail_rows)]
            detail_arg = (name, fields, detail_rows)
        body = post_body(business_object, table, used, rows, book_date or dt.date.today(), detail_arg)
        answer = self.call("POST", "/AccountViewData", body=body, mutating=True, what=what)
        stored = answer.get(table) if isinstance(answer, dict) else None
        if not isinstance(stored, list) or not stored or not isinstance(stored[0], dict):
            raise ResponseError(
                AccountViewCode.NOT_STORED,
                {"system": SYSTEM, "what": what, "detail": f"no {table} row in the answer"},
            )
        return answer

    def check(self) -> None:
        """The token works and the administration is one the user may use."""
        companies = self.call("GET", "/Companies", company=False)
        known = {str(c.get("Id")) for c in companies or [] if isinstance(c, dict)}
        if self.company_id() not in known:
            raise AuthError(
                AccountViewCode.COMPANY_MISSING,
                {"system": SYSTEM, "detail": "not among the user's administrations"},
            )

    def account_key(self) -> str:
        """Client id, base URL and administration: a hold after a 429 stays with this administration."""
        return super().account_key() + ":" + str(self.config.credentials.get("company_id") or "")[:36]

    def secrets(self) -> list[str]:
        """Tokens and the client secret; not the expiry or the administration id (not secret, and
        short numbers that would be redacted from unrelated texts)."""
        return [str(v) for k, v in self.config.credentials.items() if v and k not in _NOT_SECRET]

    def _rates(self) -> dict[str, Decimal]:
        with self._lock:
            known = self._vat_rates
        if known is None:
            known = {}
            for row in self.all_rows("VA1", "VAT", "VAT_CODE"):
                rate = percent(row.get("VAT_PCT")) if isinstance(row, dict) else None
                if rate is not None:
                    known[str(row.get("VAT_CODE", "")).strip().upper()] = rate
            with self._lock:
                self._vat_rates = known
        return known
