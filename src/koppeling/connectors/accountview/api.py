"""The AccountView.net REST API v3 wire protocol: tokens, the generic ``AccountViewData`` read and
write, and every answer as the connector error taxonomy.

No official documentation exists; what is known comes from public clients (see
``docs/connectors/accountview.md``). So errors are classified by HTTP status and message, never
by ``ErrorNumbers`` (those are the simulator's own), and the POST body is the row/field-list shape
the clients send: a field list per table, positional ``Values``, detail rows pointing at their
header with ``HeaderId``.

Tokens rotate like eAccounting's (the simulator rotates; whether the real server keeps a used
refresh token valid is unknown), so :class:`Tokens` refreshes only inside
``Connector.update_credentials`` and uses what another worker stored when it already refreshed.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx

from koppeling.core.messages import gettext_noop, register

from ..errors import (
    AuthError,
    ConnectorCode,
    ConnectorError,
    DataError,
    NotFound,
    RateLimited,
    ResponseError,
    TransientError,
)
from ..http import ResponseTooLarge, parse_retry_after

if TYPE_CHECKING:
    from ..base import Connector

__all__ = [
    "SYSTEM",
    "AccountViewCode",
    "Filter",
    "Tokens",
    "post_body",
    "transport_error",
    "validate_response",
    "wire_value",
]

SYSTEM = "AccountView"
EXPIRY_SKEW = 60.0


class AccountViewCode(StrEnum):
    REFRESH_REFUSED = "av_refresh_refused"
    CLIENT_REFUSED = "av_client_refused"
    TOKEN_REFUSED = "av_token_refused"  # noqa: S105 - a code, not a secret
    FORBIDDEN = "av_forbidden"
    RIGHT_MISSING = "av_right_missing"
    COMPANY_MISSING = "av_company_missing"
    OFFLINE = "av_offline"
    REJECTED = "av_rejected"
    QUERY_REJECTED = "av_query_rejected"
    PRODUCT_MISSING = "av_product_missing"
    PRODUCT_BLOCKED = "av_product_blocked"
    LINE_WITHOUT_ARTICLE = "av_line_without_article"
    MAPPING_MISSING = "av_mapping_missing"
    REFERENCE_TOO_LONG = "av_reference_too_long"
    PRICE_NOT_EXACT = "av_price_not_exact"
    VALUE_TRUNCATED = "av_value_truncated"
    FIELD_MISSING = "av_field_missing"
    NOT_STORED = "av_not_stored"
    NO_EMAIL = "av_no_email"


_RECONNECT = gettext_noop(
    "Connect AccountView again from the connection page (log in at AccountView.net and allow "
    "koppeling), then resume the link."
)
_FIX_SETTINGS = gettext_noop("Complete the flow's AccountView settings, then press Verwerk.")
register(
    {
        AccountViewCode.REFRESH_REFUSED: (
            gettext_noop(
                "AccountView.net refused to renew the access (%(remote)s): the authorisation was "
                "withdrawn, expired, or its refresh token was already used."
            ),
            _RECONNECT,
        ),
        AccountViewCode.CLIENT_REFUSED: (
            gettext_noop("AccountView.net refused koppeling's API key or secret (%(remote)s)."),
            gettext_noop("The API key and secret are koppeling's app registration; ask the operator."),
        ),
        AccountViewCode.TOKEN_REFUSED: (
            gettext_noop("AccountView.net refused the access token, also after renewing it: %(remote)s"),
            _RECONNECT,
        ),
        AccountViewCode.FORBIDDEN: (
            gettext_noop("AccountView refused the request for the connected user: %(remote)s"),
            gettext_noop(
                "Give the AccountView user of this connection the rights for this business object "
                "(AccountView: user rights), then resume the link."
            ),
        ),
        AccountViewCode.RIGHT_MISSING: (
            gettext_noop(
                "The connected AccountView user may not %(right)s %(description)s (%(object)s), "
                "which koppeling needs to %(purpose)s."
            ),
            gettext_noop(
                "Give that user the right to %(right)s %(description)s (%(object)s) in AccountView, "
                "then resume the link."
            ),
        ),
        AccountViewCode.COMPANY_MISSING: (
            gettext_noop("The AccountView connection names no administration (company): %(detail)s"),
            gettext_noop("Choose the administration in the connection (company id or company code)."),
        ),
        AccountViewCode.OFFLINE: (
            gettext_noop("The AccountView installation behind AccountView.net is not reachable: %(remote)s"),
            gettext_noop(
                "AccountView must be installed and reachable from AccountView.net; koppeling tries "
                "again. If this lasts, check the AccountView server."
            ),
        ),
        AccountViewCode.REJECTED: (
            gettext_noop("AccountView refused the %(what)s: %(remote)s"),
            gettext_noop(
                "Correct what AccountView names (in the source or the flow's settings), then retry."
            ),
        ),
        AccountViewCode.QUERY_REJECTED: (
            gettext_noop("AccountView refused koppeling's query (HTTP %(status)s): %(remote)s"),
            gettext_noop(
                "Usually a field name in the connection's options that this administration does not "
                "have; else a koppeling bug: report it with this message."
            ),
        ),
        AccountViewCode.PRODUCT_MISSING: (
            gettext_noop("Order %(reference)s: AccountView has no article %(sku)s; nothing was written."),
            gettext_noop(
                "Create the article in AccountView (or correct the SKU in the source), then Verwerk."
            ),
        ),
        AccountViewCode.PRODUCT_BLOCKED: (
            gettext_noop(
                "Order %(reference)s: article %(sku)s is blocked in AccountView; nothing was written."
            ),
            gettext_noop("Unblock the article in AccountView, then press Verwerk."),
        ),
        AccountViewCode.LINE_WITHOUT_ARTICLE: (
            gettext_noop(
                "Order %(reference)s, line %(line)s (%(description)s) has no article code, and a sales "
                "order line needs one."
            ),
            gettext_noop(
                "Give the product a SKU in the source, or choose an article for such lines in the "
                "flow's AccountView settings (%(setting)s)."
            ),
        ),
        AccountViewCode.MAPPING_MISSING: (
            gettext_noop(
                "Order %(reference)s needs %(setting)s for %(key)s, which the settings do not give."
            ),
            _FIX_SETTINGS,
        ),
        AccountViewCode.REFERENCE_TOO_LONG: (
            gettext_noop(
                "Reference %(reference)s is longer than the %(length)s characters AccountView keeps in "
                "%(field)s, so the booking could not be found again."
            ),
            gettext_noop("Use a shorter order prefix in the flow's settings."),
        ),
        AccountViewCode.PRICE_NOT_EXACT: (
            gettext_noop(
                "Order %(reference)s, line %(line)s: no unit price gives exactly %(total)s for %(quantity)s; "
                "AccountView will compute %(booked)s."
            ),
            gettext_noop(
                "Reconciliation reports the difference; correct the order in AccountView if needed."
            ),
        ),
        AccountViewCode.VALUE_TRUNCATED: (
            gettext_noop(
                "AccountView keeps at most %(length)s characters in %(field)s; the text was shortened."
            ),
            gettext_noop("Shorten the text in the source if the cut is not acceptable."),
        ),
        AccountViewCode.FIELD_MISSING: (
            gettext_noop(
                "Article %(number)s: AccountView answered without the field %(field)s (%(purpose)s)."
            ),
            gettext_noop(
                "Check the field names in the connection's options against this administration "
                "(AccountView: data dictionary of AK1)."
            ),
        ),
        AccountViewCode.NO_EMAIL: (
            gettext_noop(
                "Order %(reference)s: the customer has no e-mail address, so no debtor can be found "
                "again and none is created (it would be a new one for every order)."
            ),
            gettext_noop(
                "Add the e-mail address in the source, or choose a default debtor in the flow's "
                "AccountView settings, then press Verwerk."
            ),
        ),
        AccountViewCode.NOT_STORED: (
            gettext_noop("AccountView answered without the stored %(what)s (%(detail)s)."),
            gettext_noop("Check in AccountView whether it was stored before trying again."),
        ),
    }
)


def _p(**extra: Any) -> dict[str, Any]:
    return {"system": SYSTEM, **extra}


def _body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def explain(response: httpx.Response) -> str:
    """``ErrorMessage`` (AccountView), ``Message`` (ASP.NET) or ``error`` (OAuth), else the reason."""
    body = _body(response)
    if isinstance(body, dict):
        text = body.get("ErrorMessage") or body.get("Message") or body.get("error") or ""
        if text:
            return str(text)
    return response.reason_phrase or f"HTTP {response.status_code}"


def validate_response(response: httpx.Response, *, mutating: bool = False, what: str = "record") -> Any:
    """Classify one answer; return the decoded body (Decimals for fractions) of a good one.

    401 -> ``AuthError`` (after one refresh); 403 -> ``AuthError`` ``av_forbidden`` (a right or the
    administration); 429 -> ``RateLimited``; 503 -> ``TransientError`` ``av_offline`` (the
    customer's AccountView is not reachable: not processed); other 5xx -> ``TransientError`` (a
    write may have been processed); 404 -> ``NotFound``; 400 on a write -> ``DataError``
    ``av_rejected``, on a read -> ``av_query_rejected``; a 2xx that is not JSON -> ``ResponseError``.
    """
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    if status == 401:
        raise AuthError(AccountViewCode.TOKEN_REFUSED, _p(), status_code=status, remote=explain(response))
    if status == 403:
        raise AuthError(AccountViewCode.FORBIDDEN, _p(), status_code=status, remote=explain(response))
    if status == 429:
        raise RateLimited(
            params=_p(operation=where),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
            remote=explain(response),
        )
    if status == 503:
        code = AccountViewCode.OFFLINE if isinstance(_body(response), dict) else ConnectorCode.SERVER_ERROR
        raise TransientError(
            code,
            _p(status=status, operation=where),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            status_code=status,
            remote=explain(response),
        )
    if status >= 500 or status == 408:
        raise TransientError(
            ConnectorCode.SERVER_ERROR,
            _p(status=status, operation=where),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            maybe_processed=None if mutating else False,
            status_code=status,
            remote=explain(response),
        )
    if status == 404:
        raise NotFound(params=_p(what=where), status_code=status, remote=explain(response))
    if status in (400, 409, 422):
        if mutating:
            raise DataError(
                AccountViewCode.REJECTED, _p(what=what), status_code=status, remote=explain(response)
            )
        raise ConnectorError(
            AccountViewCode.QUERY_REJECTED, _p(status=status), status_code=status, remote=explain(response)
        )
    if not 200 <= status < 300:
        raise ConnectorError(
            ConnectorCode.REQUEST_REJECTED, _p(status=status), status_code=status, remote=explain(response)
        )
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        content_type = response.headers.get("Content-Type", "no content type")
        raise ResponseError(
            params=_p(detail=f"{where}: not JSON ({content_type}, {len(response.content)} bytes: {exc})"),
            status_code=status,
        ) from None


def transport_error(exc: httpx.TransportError, operation: str, *, mutating: bool) -> ConnectorError:
    """A call without a (whole) answer: a write that may have arrived counts as maybe processed."""
    if isinstance(exc, ResponseTooLarge):
        return ResponseError(ConnectorCode.RESPONSE_TOO_LARGE, _p(limit=exc.cap))
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    code = ConnectorCode.TIMEOUT if isinstance(exc, httpx.TimeoutException) else ConnectorCode.UNREACHABLE
    return TransientError(
        code, _p(operation=operation, detail=type(exc).__name__), maybe_processed=mutating and not never_sent
    )


# --------------------------------------------------------------------------------------------
# AccountViewData: filters and the POST body
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filter:
    """One ``FilterControlSource<n>`` … ``FilterValue<n>`` group [V omniboost, APIcenter]."""

    field: str
    value: str
    operator: str = "Equal"
    value_type: str = "C"
    as_list: bool = False


def filter_params(filters: Sequence[Filter], *, match_any: bool = False) -> dict[str, str]:
    """The numbered ``Filter*`` query parameters (1-based), ``MatchAnyFilter`` for an OR."""
    params: dict[str, str] = {}
    for n, item in enumerate(filters, start=1):
        params[f"FilterControlSource{n}"] = item.field
        params[f"FilterOperator{n}"] = item.operator
        params[f"FilterValueType{n}"] = item.value_type
        params[f"FilterValue{n}"] = item.value
        params[f"FilterIsListOfValues{n}"] = "true" if item.as_list else "false"
    if match_any and len(filters) > 1:
        params["MatchAnyFilter"] = "true"
    return params


def fox_time(moment: dt.datetime) -> str:
    """A Visual FoxPro date-time literal, ``{^2026-01-05 17:30:00}`` [V ruby]."""
    return "{^" + moment.strftime("%Y-%m-%d %H:%M:%S") + "}"


def wire_value(kind: str, value: Any) -> Any:
    """A value as it travels in ``Values``: text for C, numbers as exact text (``"12.3967"``, never a
    float), ISO dates, JSON booleans, null for nothing [I: the simulator converts by the dictionary]."""
    if value is None:
        return None
    if kind in ("N", "Y", "B", "I"):
        return format(Decimal(value), "f")
    if kind == "T":
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "D":
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if kind == "L":
        return bool(value)
    return str(value)


def post_body(
    business_object: str,
    table: str,
    fields: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
    book_date: dt.date,
    detail: tuple[str, Sequence[tuple[str, str]], Sequence[tuple[int, Mapping[str, Any]]]] | None = None,
) -> dict[str, Any]:
    """The row/field-list body of ``POST AccountViewData`` [V omniboost]: ``RowId`` first; a detail
    row's ``HeaderId`` is the ``RowId`` (1-based) of its header row."""
    definition = {
        "Name": table,
        "Fields": [{"Name": "RowId", "FieldType": "C"}]
        + [{"Name": name, "FieldType": kind} for name, kind in fields],
    }
    values = [
        {"Values": [str(i), *(wire_value(kind, row.get(name)) for name, kind in fields)]}
        for i, row in enumerate(rows, start=1)
    ]
    body: dict[str, Any] = {
        "BookDate": dt.datetime.combine(book_date, dt.time()).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "BusinessObject": business_object,
        "Table": {"Definition": definition},
        "TableData": {"Data": {"Rows": values}},
    }
    if detail is not None:
        name, detail_fields, detail_rows = detail
        body["Table"]["DetailDefinitions"] = [
            {
                "Name": name,
                "Fields": [{"Name": "RowId", "FieldType": "C"}, {"Name": "HeaderId", "FieldType": "C"}]
                + [{"Name": f, "FieldType": kind} for f, kind in detail_fields],
            }
        ]
        body["TableData"]["DetailData"] = [
            {
                "Rows": [
                    {
                        "Values": [
                            str(i),
                            str(header),
                            *(wire_value(kind, row.get(f)) for f, kind in detail_fields),
                        ]
                    }
                    for i, (header, row) in enumerate(detail_rows, start=1)
                ]
            }
        ]
    return body


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------


class Tokens:
    """Keeps one connection's AccountView.net tokens fresh; see eAccounting's for the reasoning.

    The token endpoint is ``{base}/token`` with the client id and secret in the form body
    [V omniboost ``oauth.go``: a "broken auth header provider"].
    """

    def __init__(
        self, connector: Connector, token_url: Callable[[], str], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.connector = connector
        self.token_url = token_url
        self.clock = clock
        self._lock = threading.Lock()

    @property
    def credentials(self) -> Mapping[str, str]:
        return self.connector.config.credentials

    def expiring(self, credentials: Mapping[str, str]) -> bool:
        """True when the stored expiry is (nearly) reached; an unknown expiry shows in a 401."""
        raw = str(credentials.get("access_token_expires_at") or "").strip()
        if not raw:
            return False
        try:
            return self.clock() >= float(raw) - EXPIRY_SKEW
        except ValueError:
            return True

    def bearer(self) -> str:
        """The access token to send now (refreshed first when it is about to expire)."""
        token = str(self.credentials.get("access_token") or "")
        if not token or self.expiring(self.credentials):
            self.refresh(token, after_401=False)
        return str(self.credentials.get("access_token") or "")

    def refresh(self, stale: str, *, after_401: bool) -> None:
        """Replace ``stale`` unless another thread or worker already did (then use theirs)."""
        with self._lock:
            mine = self.credentials
            if mine.get("access_token") and mine.get("access_token") != stale and not self.expiring(mine):
                return
            held = str(mine.get("refresh_token") or "")

            def change(current: Mapping[str, str]) -> Mapping[str, str] | None:
                if str(current.get("refresh_token") or "") != held:
                    return None
                access = str(current.get("access_token") or "")
                if access and (access != stale or not after_401) and not self.expiring(current):
                    return None
                return self._exchange(current)

            self.connector.update_credentials(change)

    def _exchange(self, current: Mapping[str, str]) -> dict[str, str]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": str(current.get("refresh_token") or ""),
            "client_id": str(current.get("client_id") or ""),
            "client_secret": str(current.get("client_secret") or ""),
        }
        missing = [name for name, value in form.items() if not value]
        if missing:
            raise AuthError(ConnectorCode.CREDENTIALS_MISSING, _p(fields=", ".join(missing)))
        try:
            response = self.connector.http.post(self.token_url(), data=form)
        except httpx.TransportError as exc:
            raise transport_error(exc, "POST /token", mutating=False) from None
        status = response.status_code
        if status in (400, 401):
            body = _body(response)
            error = str(body.get("error") if isinstance(body, dict) else "") or f"HTTP {status}"
            code = (
                AccountViewCode.CLIENT_REFUSED
                if error == "invalid_client"
                else AccountViewCode.REFRESH_REFUSED
            )
            raise AuthError(code, _p(), status_code=status, remote=error)  # never error_description
        body = validate_response(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise ResponseError(params=_p(detail="token answer without access_token"), status_code=status)
        new = dict(current)
        new["access_token"] = str(body["access_token"])
        new["refresh_token"] = str(body.get("refresh_token") or current.get("refresh_token") or "")
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        new["access_token_expires_at"] = str(int(self.clock() + lifetime))
        new.pop("expires_in", None)
        new.pop("token_type", None)
        return new
