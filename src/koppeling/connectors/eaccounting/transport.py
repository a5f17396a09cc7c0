"""The eAccounting connection: tokens and the three ways of reading lists — everything the
connector's capabilities are built on (``client.EAccountingConnector``).

Reading in change order: orders (``ModifiedUtc``) and customers (``ChangedUtc``) are read sorted
by their change time and paged by *seeking* — each next request asks for ``field ge <last change
seen>``, and ``$page`` only walks through a group of records that share one change time — so a
record edited while we page moves behind the cursor instead of shifting an unread one onto a page
already read. That is what lets the connector claim ``cursor_ordered``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from ..base import ConnectionConfig, Connector, CredentialStore
from ..errors import ResponseError
from ..http import make_client
from .api import SYSTEM, Tokens, encode, transport_error, validate_response
from .translate import parse_utc

__all__ = ["PAGE_DEFAULT", "PAGE_MAX", "EAccountingTransport"]

PAGE_MAX = 1000  # [I] a third-party plan calls 1000 the documented maximum of $pagesize
PAGE_DEFAULT = 100
_IDENTITY = {  # API host -> identity server [V change-to-our-new-identity-server, pwitab]
    "eaccountingapi.vismaonline.com": "https://identity.vismaonline.com",
    "eaccountingapi-sandbox.test.vismaonline.com": "https://identity-sandbox.test.vismaonline.com",
}
_NOT_SECRET = frozenset({"access_token_expires_at", "scope", "expires_in", "token_type"})


def _utc_literal(moment: dt.datetime) -> str:
    """An OData date-time literal (unquoted, UTC)."""
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"


class EAccountingTransport(Connector):
    """The part of the connector that talks to eAccounting (no capability of its own)."""

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
        self.tokens = Tokens(self, self._token_url, clock=clock, basic_auth=True)
        self._lock = threading.Lock()
        self._customers: dict[str, dict[str, Any]] = {}
        self._articles: dict[str, dict[str, Any] | None] = {}
        self._by_barcode: dict[str, dict[str, Any]] | None = None
        self._lists: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------ transport

    def _token_url(self) -> str:
        options = self.config.options or {}
        identity = str(options.get("identity_url") or "")
        if not identity:
            identity = _IDENTITY.get(httpx.URL(self.base_url).host, self.base_url)
        return identity.rstrip("/") + "/connect/token"

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        mutating: bool = False,
    ) -> Any:
        """One API call with a fresh token; after a 401 the token is renewed once and the call repeated
        (a 401 means nothing was processed)."""
        url = f"{self.base_url}{path}"
        content = encode(body) if body is not None else None
        for attempt in (1, 2):
            token = self.tokens.bearer()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if content is not None:
                headers["Content-Type"] = "application/json;charset=UTF-8"
            try:
                response = self.http.request(method, url, params=params, content=content, headers=headers)
            except httpx.TransportError as exc:
                raise transport_error(exc, f"{method} {path}", mutating=mutating) from None
            if response.status_code == 401 and attempt == 1:
                self.tokens.refresh(token, after_401=True)
                continue
            return validate_response(response, mutating=mutating)
        raise AssertionError("unreachable")  # pragma: no cover

    def _page(self, path: str, params: Mapping[str, Any]) -> list[Any]:
        body = self.call("GET", path, params=params)
        if not isinstance(body, dict) or not isinstance(body.get("Data"), list):
            raise ResponseError(
                params={"system": SYSTEM, "detail": f"GET {path}: no Data list in the answer"}
            )
        return body["Data"]

    def _all(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int | None = None
    ) -> Iterator[Any]:
        """Every record of a list, by ``$page`` (for lists that do not change while we read them);
        ``page_size`` for a whole-list read that wants the fewest calls (at most ``PAGE_MAX``)."""
        size = min(page_size or self.page_size, PAGE_MAX)
        page = 1
        while True:
            rows = self._page(path, {**(params or {}), "$page": page, "$pagesize": size})
            yield from rows
            if len(rows) < size:
                return
            page += 1

    def _changed(
        self, path: str, field: str, since: dt.datetime | None, until: dt.datetime | None
    ) -> Iterator[dict[str, Any]]:
        """Records changed in ``[since, until)``, in change order, paged by seeking (module doc)."""
        lower, page = since, 1
        seen: set[tuple[str, str]] = set()
        while True:
            clauses = [f"{field} ge {_utc_literal(lower)}"] if lower else []
            if until is not None:
                clauses.append(f"{field} lt {_utc_literal(until)}")
            params: dict[str, Any] = {"$orderby": f"{field},Id", "$page": page, "$pagesize": self.page_size}
            if clauses:
                params["$filter"] = " and ".join(clauses)
            rows = self._page(path, params)
            for row in rows:
                key = (str(row.get("Id")), str(row.get(field))) if isinstance(row, dict) else (repr(row), "")
                if key not in seen:
                    seen.add(key)
                    yield row
            if len(rows) < self.page_size:
                return
            last = parse_utc(rows[-1].get(field)) if isinstance(rows[-1], dict) else None
            if last is None:
                raise ResponseError(
                    params={"system": SYSTEM, "detail": f"GET {path}: a record without {field}"}
                )
            if lower is not None and last <= lower:
                page += 1  # a whole page shares one change time: walk through that group
            else:
                lower, page = last, 1

    def check(self) -> None:
        """One cheap authenticated read (terms of payment: any sales or purchase scope may read it)."""
        self._page("/v2/termsofpayments", {"$page": 1, "$pagesize": 1})

    def secrets(self) -> list[str]:
        """Tokens and the client secret; not the expiry or the scopes (not secret)."""
        return [str(v) for k, v in self.config.credentials.items() if v and k not in _NOT_SECRET]

    def _list(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            known = self._lists.get(path)
        if known is None:
            known = [r for r in self._all(path) if isinstance(r, dict)]
            with self._lock:
                self._lists[path] = known
        return known
