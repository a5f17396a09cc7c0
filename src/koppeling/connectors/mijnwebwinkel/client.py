"""Mijnwebwinkel (MyOnlineStore Connect API) as a koppeling source.

Auth: two query-string tokens on every call — ``partner_token`` (koppeling's, from registering
the app with Mijnwebwinkel) and ``token`` (the merchant's store token, Settings -> API);
``/orderstatuses`` needs only the partner token. Requests carry ``language`` (default nl_NL) and
``format=json``. Orders are read with offset paging (``limit`` max 100, ``ordering=asc`` by
order number, until a short page). Every answer goes through ``validate_response``, the ONE
place that turns HTTP outcomes into the connector error taxonomy.

Credentials travel in the query string, so every URL that ends up in an error message is first
redacted (``redact_url``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx

from koppeling.connectors.base import ConnectionConfig, Connector, Fetched, Findability, ReadsOrders, Status
from koppeling.connectors.errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    DataError,
    NotFound,
    RateLimited,
    ResponseError,
    TransientError,
)
from koppeling.connectors.http import ResponseTooLarge, parse_retry_after
from koppeling.connectors.registry import register as register_connector
from koppeling.core.messages import gettext_noop, register
from koppeling.core.models import Order

from .translate import SHOP_TIMEZONE, changed_at, fingerprint, record_error, translate_order

__all__ = [
    "PAGE_SIZE",
    "MijnwebwinkelCode",
    "MijnwebwinkelSource",
    "parse_retry_after",
    "redact_url",
    "validate_response",
]

PAGE_SIZE = 100  # the API's maximum ``limit`` (spec: components.parameters.limit)
_SECRET_PARAMS = frozenset({"token", "partner_token"})
SYSTEM = "Mijnwebwinkel"


def is_test_number(number: str) -> bool:
    """Mijnwebwinkel marks a test order with "T-" in its number (docs/connectors/mijnwebwinkel.md);
    any other letters (a shop's own prefix such as "2026T100" or "WT1001") make a real order."""
    text = number.strip().upper()
    return text.startswith("T-") or text.endswith("-T")


class MijnwebwinkelCode(StrEnum):
    TOKEN_REFUSED = "mww_token_refused"  # noqa: S105 - a code, not a secret
    PARTNER_TOKEN_REFUSED = "mww_partner_token_refused"  # noqa: S105
    CREDENTIALS_REFUSED = "mww_credentials_refused"
    API_INACTIVE = "mww_api_inactive"
    OFFSET_IGNORED = "mww_offset_ignored"
    NO_COUNT = "mww_no_count"


_AUTH_SUGGESTION = gettext_noop(
    "Create a new token in Mijnwebwinkel under Instellingen (Settings) -> API -> 'Token toevoegen' "
    "(choose koppeling as the partner), paste it into this connection and resume the link."
)
_PARTNER_SUGGESTION = gettext_noop(
    "The partner token is koppeling's own (from registering the app with Mijnwebwinkel); the shop "
    "owner cannot fix it: ask the operator to check koppeling's configuration."
)
register(
    {
        MijnwebwinkelCode.TOKEN_REFUSED: (
            gettext_noop(
                "Mijnwebwinkel refused the shop's API token (token) — it was probably deleted or mistyped: "
                "%(remote)s"
            ),
            _AUTH_SUGGESTION,
        ),
        MijnwebwinkelCode.PARTNER_TOKEN_REFUSED: (
            gettext_noop("Mijnwebwinkel refused the partner token (partner_token): %(remote)s"),
            _PARTNER_SUGGESTION,
        ),
        MijnwebwinkelCode.CREDENTIALS_REFUSED: (
            gettext_noop(
                "Mijnwebwinkel refused the credentials; most likely the shop's API token (token) is wrong "
                "or deleted, else the partner token: %(remote)s"
            ),
            _AUTH_SUGGESTION,
        ),
        MijnwebwinkelCode.API_INACTIVE: (
            gettext_noop("Mijnwebwinkel says the API is not available for this shop: %(remote)s"),
            gettext_noop("Activate the API (module) in the Mijnwebwinkel package of this shop."),
        ),
        MijnwebwinkelCode.OFFSET_IGNORED: (
            gettext_noop(
                "Mijnwebwinkel returned the same orders again at offset %(offset)s; the API seems to "
                "ignore the offset parameter."
            ),
            gettext_noop("Report this to koppeling; the run stops so no order is missed."),
        ),
        MijnwebwinkelCode.NO_COUNT: (
            gettext_noop("Mijnwebwinkel answered the order count without a number."),
            gettext_noop("Check the connection's address; if it is right, try again later."),
        ),
    }
)


def redact_url(url: httpx.URL | str) -> str:
    """The URL with ``token`` and ``partner_token`` values replaced by ``***``."""
    parsed = httpx.URL(str(url))
    if not parsed.query:
        return str(parsed)
    params = [(k, "***" if k in _SECRET_PARAMS else v) for k, v in parsed.params.multi_items()]
    return str(parsed.copy_with(query=None)) + "?" + "&".join(f"{k}={v}" for k, v in params)


def _error_body(response: httpx.Response) -> tuple[str, str]:
    """(short message, detail) from the spec's Error ``{code,message,description}``, an
    RFC 7807 ApiProblem ``{title,detail}``, a legacy ``{"Error": ...}`` or plain text."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return "", text[:300]
    if isinstance(body, dict):
        message = body.get("message") or body.get("title") or body.get("Error") or body.get("Warning") or ""
        detail = body.get("description") or body.get("detail") or ""
        code = body.get("code")
        if code not in (None, "") and str(code) != str(response.status_code):
            message = f"{message} (code {code})".strip()
        return str(message), str(detail)
    return "", str(body)[:300]


def _explain(response: httpx.Response) -> str:
    message, detail = _error_body(response)
    return ": ".join(part for part in (message, detail) if part) or response.reason_phrase or "no details"


def _params(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


def validate_response(response: httpx.Response, *, expect: type | None = None) -> Any:
    """Classify one answer; return the decoded JSON body of a good one.

    - 401/403 -> ``AuthError`` (says which token is the likely culprit);
      402 -> ``AuthError`` code ``mww_api_inactive`` (inferred from the older partner API);
    - 429 -> ``RateLimited`` with ``retry_after`` (Retry-After seconds or HTTP-date);
    - 5xx (and 408) -> ``TransientError``;
    - 404 -> ``NotFound``;
    - 422 -> ``DataError``; other 4xx -> ``ConnectorError`` code ``request_rejected``;
    - 200 with a body that is not JSON or not of type ``expect`` (``list``/``dict``) ->
      ``ResponseError`` naming the (redacted) URL and what was wrong.
    """
    status = response.status_code
    where = f"{response.request.method} {redact_url(response.request.url)}"
    if status in (401, 403):
        _, detail = _error_body(response)
        low = detail.lower()
        if "partner" in low:
            code = MijnwebwinkelCode.PARTNER_TOKEN_REFUSED
        elif "token" in low or "revoked" in low:
            code = MijnwebwinkelCode.TOKEN_REFUSED
        else:
            code = MijnwebwinkelCode.CREDENTIALS_REFUSED
        raise AuthError(code, _params(), status_code=status, remote=_explain(response))
    if status == 402:
        raise AuthError(
            MijnwebwinkelCode.API_INACTIVE, _params(), status_code=status, remote=_explain(response)
        )
    if status == 429:
        raise RateLimited(
            params=_params(operation=where),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
            remote=_explain(response),
        )
    if status >= 500 or status == 408:
        raise TransientError(
            ConnectorCode.SERVER_ERROR,
            _params(status=status, operation=where),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
            remote=_explain(response),
        )
    if status == 404:
        raise NotFound(params=_params(what=where), status_code=status, remote=_explain(response))
    if status == 422:
        raise DataError(params=_params(), status_code=status, remote=_explain(response))
    if 400 <= status < 500:
        raise ConnectorError(
            ConnectorCode.REQUEST_REJECTED,
            _params(status=status),
            status_code=status,
            remote=_explain(response),
        )
    if not 200 <= status < 300:
        raise ResponseError(params=_params(detail=f"HTTP {status} for {where}"), status_code=status)
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        content_type = response.headers.get("Content-Type", "no content type")
        raise ResponseError(
            params=_params(
                detail=f"{where}: not JSON ({content_type}, {len(response.content)} bytes: {exc})"
            ),
            status_code=status,
        ) from None
    if expect is not None and not isinstance(body, expect):
        wanted = "a list of orders" if expect is list else "an object"
        raise ResponseError(
            params=_params(detail=f"{where}: a JSON {type(body).__name__} where {wanted} was expected"),
            status_code=status,
        )
    return body


@register_connector
class MijnwebwinkelSource(Connector, ReadsOrders):
    """Reads orders from one Mijnwebwinkel shop.

    ``config.options``: ``language`` (default ``nl_NL``), ``api_version`` (``1``),
    ``include_test`` (fetch test orders too; default False, as the API), ``timezone`` of the
    shop's local times (default Europe/Amsterdam), ``shop`` (label copied to ``Order.shop``),
    ``page_size`` (1-100, default 100).
    """

    system: ClassVar[str] = "mijnwebwinkel"
    label: ClassVar[str] = "Mijnwebwinkel"
    credential_fields: ClassVar[tuple[str, ...]] = ("partner_token", "token")
    default_base_url: ClassVar[str] = "https://api.myonlinestore.com"
    findable: ClassVar[Findability] = Findability.NONE  # a source: nothing is pushed into it
    #: orders are paged by order number, not by status-change time: the cursor waits for a whole fetch
    cursor_ordered: ClassVar[bool] = False

    def __init__(self, config: ConnectionConfig, http: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(config, http, **kwargs)
        options = config.options or {}
        self.base_url = (config.base_url or self.default_base_url).rstrip("/")
        self.version = str(options.get("api_version", "1"))
        self.language = str(options.get("language", "nl_NL"))
        self.include_test = bool(options.get("include_test", False))
        self.shop = str(options.get("shop", ""))
        tz_name = options.get("timezone")
        self.tz = ZoneInfo(str(tz_name)) if tz_name else SHOP_TIMEZONE
        self.page_size = max(1, min(PAGE_SIZE, int(options.get("page_size", PAGE_SIZE))))
        self._status_labels: dict[str, str] = {}

    # ------------------------------------------------------------ HTTP

    def _params(self, *, partner_only: bool = False) -> dict[str, str]:
        creds = self.config.credentials
        missing = [
            name
            for name in (("partner_token",) if partner_only else self.credential_fields)
            if not str(creds.get(name) or "").strip()
        ]
        if missing:
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, _params(fields=", ".join(missing)))
        params = {
            "partner_token": str(creds["partner_token"]).strip(),
            "language": self.language,
            "format": "json",
        }
        if not partner_only:
            params["token"] = str(creds["token"]).strip()
        return params

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        expect: type | None = None,
        partner_only: bool = False,
        json_body: Any = None,
    ) -> Any:
        query = self._params(partner_only=partner_only)
        if params:
            query.update({k: str(v) for k, v in params.items() if v is not None})
        url = f"{self.base_url}/v{self.version}{path}"
        try:
            response = self.http.request(method, url, params=query, json=json_body)
        except httpx.TimeoutException as exc:
            raise TransientError(
                ConnectorCode.TIMEOUT, _params(operation=f"{method} {url}", detail=type(exc).__name__)
            ) from None
        except ResponseTooLarge as exc:
            raise ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _params(limit=exc.cap)) from None
        except httpx.TransportError as exc:
            raise TransientError(
                ConnectorCode.UNREACHABLE, _params(operation=f"{method} {url}", detail=type(exc).__name__)
            ) from None
        return validate_response(response, expect=expect)

    # ------------------------------------------------------------ SourceConnector

    def check(self) -> None:
        """GET /orders/count; on a refused token, ask /orderstatuses (partner token only) which
        of the two tokens is wrong."""
        try:
            body = self._request("GET", "/orders/count", expect=dict)
        except AuthError as exc:
            if exc.code == ConnectorCode.CREDENTIALS_MISSING or exc.status_code not in (401, 403):
                raise
            try:
                self._request("GET", "/orderstatuses", expect=list, partner_only=True)
            except AuthError as partner_exc:
                raise AuthError(
                    MijnwebwinkelCode.PARTNER_TOKEN_REFUSED,
                    _params(remote=partner_exc.params.get("remote", "")),
                    status_code=partner_exc.status_code,
                ) from None
            raise AuthError(
                MijnwebwinkelCode.TOKEN_REFUSED,
                _params(remote=exc.params.get("remote", "")),
                status_code=exc.status_code,
            ) from None
        if not isinstance(body.get("count"), int):
            raise ResponseError(MijnwebwinkelCode.NO_COUNT, _params())

    def statuses(self) -> list[Status]:
        body = self._request("GET", "/orderstatuses", expect=list, partner_only=True)
        result = []
        for i, item in enumerate(body):
            if not isinstance(item, dict) or item.get("status") is None:
                raise ResponseError(params=_params(detail=f"GET /orderstatuses: item [{i}] has no status id"))
            result.append(Status(id=str(item["status"]), label=str(item.get("description") or "")))
        self._status_labels = {s.id: s.label for s in result}
        return result

    def _local(self, moment: dt.datetime) -> str:
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.tz).replace(tzinfo=None)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def fetch_changed(
        self, since: dt.datetime | None, *, until: dt.datetime | None = None
    ) -> Iterator[Fetched[Order]]:
        """Orders whose status changed at or after ``since`` (closed start) and, with ``until``,
        before it (open end: the API's end filter is inclusive at second precision, so records
        at exactly ``until`` are left for the next window). Oldest order number first."""
        params: dict[str, Any] = {}
        if since is not None:
            params["status_changed_start_date"] = self._local(since)
        if until is not None:
            params["status_changed_end_date"] = self._local(until)
        cutoff = None
        if until is not None:
            cutoff = until if until.tzinfo is not None else until.replace(tzinfo=self.tz)
        for fetched in self._pages(params):
            if cutoff is not None and fetched.changed_at is not None and fetched.changed_at >= cutoff:
                continue
            yield fetched

    def fetch_created(self, start: dt.date, end: dt.date | None = None) -> Iterator[Fetched[Order]]:
        """Orders placed from ``start`` to ``end`` (both inclusive, order date)."""
        params: dict[str, Any] = {"start_date": start.isoformat()}
        if end is not None:
            params["end_date"] = end.isoformat()
        yield from self._pages(params)

    def fetch_one(self, source_id: str) -> Fetched[Order]:
        """One order by number; ``NotFound`` if the shop does not know it."""
        number = str(source_id).strip()
        body = self._request("GET", f"/orders/{number}", expect=dict)
        return self._fetched(body, f"order[{number}]")

    def set_status(self, source_id: str, status_id: int | str) -> None:
        """PATCH the order's status (used when a link writes back, e.g. 'invoiced')."""
        self._request("PATCH", f"/orders/{source_id}", expect=dict, json_body={"status": int(status_id)})

    def count(self, **filters: Any) -> int:
        body = self._request("GET", "/orders/count", filters, expect=dict)
        return int(body.get("count", 0))

    # ------------------------------------------------------------ paging and records

    def _pages(self, filters: Mapping[str, Any]) -> Iterator[Fetched[Order]]:
        params = dict(filters)
        params["ordering"] = "asc"
        params["limit"] = self.page_size
        if self.include_test:
            params["test"] = "true"
        offset = 0
        seen: set[str] = set()
        while True:
            params["offset"] = offset
            page = self._request("GET", "/orders", params, expect=list)
            fresh = 0
            for i, record in enumerate(page):
                fetched = self._fetched(record, f"orders[{offset + i}]")
                if fetched is None:
                    continue
                if fetched.source_id in seen:
                    continue  # moved across a page boundary while we paged
                seen.add(fetched.source_id)
                fresh += 1
                yield fetched
            if len(page) < self.page_size:
                return
            if fresh == 0 and page and all(isinstance(r, dict) for r in page):
                raise ResponseError(MijnwebwinkelCode.OFFSET_IGNORED, _params(offset=offset))
            offset += len(page)

    def _fetched(self, record: Any, path: str) -> Fetched[Order] | None:
        if not isinstance(record, dict):
            error = record_error(path, ConnectorCode.FIELD_WRONG_TYPE, record, expected="an order object")
            return Fetched(source_id=f"?{path}", item=None, fingerprint=fingerprint(record), error=error)
        number = record.get("number")
        number_text = "" if number is None else str(number).strip()
        if not number_text:
            error = record_error(f"{path}.number", ConnectorCode.FIELD_MISSING, number)
            return Fetched(source_id=f"?{path}", item=None, fingerprint=fingerprint(record), error=error)
        if not self.include_test and is_test_number(number_text):
            return None  # a test order ("T-" marked); the API excludes these unless test=true
        moment = changed_at(record, self.tz)
        try:
            order = translate_order(
                record, path=path, shop=self.shop, tz=self.tz, status_labels=self._status_labels
            )
        except DataError as exc:
            return Fetched(number_text, None, fingerprint(record), moment, exc, number_text)
        except Exception as exc:  # never let one odd record end the batch
            error = record_error(
                path, ConnectorCode.RECORD_UNREADABLE, number=number_text, detail=type(exc).__name__
            )
            return Fetched(number_text, None, fingerprint(record), moment, error, number_text)
        return Fetched(number_text, order, fingerprint(record), moment, None, number_text)
